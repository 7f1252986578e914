// export: a PKCS#12 backup of one certificate.
#include <iostream>

#include "dojang/verbs.hpp"
#include "dojang/wallet/backup.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::cli {

Runner setup_export(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, out, password_file;
    bool legacy = false, force = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("SEL", o->sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_option("--out", o->out, "the .pfx file to write")->required();
  sub.add_option("--password-file", o->password_file,
                 "file holding the certificate password (it also protects the .pfx)");
  sub.add_flag("--legacy", o->legacy,
               "3DES/RC2-40 with a SHA-1 MAC, for old Windows readers (default: AES-256 + SHA-256)");
  sub.add_flag("--force", o->force, "replace FILE if it exists");
  return [&g, o] {
    const Clock& clock = SystemClock::instance();
    auto cred = wallet::NpkiStore({npki_root(g)}).select(o->sel);
    if (!cred.ok()) return fail(g, cred.error());
    std::error_code ec;
    if (!o->force && fs::exists(o->out, ec))
      return fail(g, {Errc::already_exists, o->out + " already exists: give --force to replace it"});
    auto pw = read_secret({o->password_file, "Certificate password", "--password-file", false});
    if (!pw.ok()) return fail(g, pw.error());
    auto pfx = wallet::export_backup(*cred, *pw, {o->legacy}, clock);
    if (!pfx.ok()) return fail(g, pfx.error());
    auto st = wallet::atomic_write_file(o->out, *pfx);  // 0600: it holds the key
    if (!st.ok()) return fail(g, st.error());
    const bool km = cred->km_cert_path && cred->km_key_path;
    if (g.json) {
      print_json({{"ok", true},
                  {"out", o->out},
                  {"profile", o->legacy ? "legacy" : "modern"},
                  {"km", km},
                  {"bytes", pfx->size()}});
    } else {
      std::cout << "Backed up " << cred->info->cn << (km ? " (with its km pair)" : "") << " to "
                << o->out << (o->legacy ? " (legacy 3DES/RC2-40)" : " (AES-256-CBC, PBKDF2-SHA256)")
                << "\nThe file is protected by the certificate password; keep both safe.\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
