// list, show, import, delete
#include <iostream>

#include "dojang/bank_login.hpp"
#include "dojang/pki/hex.hpp"
#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/backup.hpp"
#include "dojang/wallet/credential.hpp"
#include "dojang/wallet/http_fetcher.hpp"
#include "dojang/wallet/status.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::cli {

namespace {
wallet::NpkiStore open_store(const GlobalOptions& g) { return wallet::NpkiStore({npki_root(g)}); }
}  // namespace

Runner setup_list(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    bool check = false;
    std::vector<std::string> trust;
    int timeout = 10;
  };
  auto o = std::make_shared<Opts>();
  sub.add_flag("--check", o->check, "ask each certificate's OCSP responder (its AIA) for its status");
  sub.add_option("--trust", o->trust, "root CA certificate(s) (PEM or DER) the CA must chain to (with --check)");
  sub.add_option("--timeout", o->timeout, "seconds per OCSP or certificate fetch")->check(CLI::Range(1, 600));
  return [&g, o] {
    const Clock& clock = SystemClock::instance();
    if (o->check && o->trust.empty())
      return fail(g, {Errc::usage, "--check needs --trust ROOT.pem (the root CA the OCSP answers must chain to)"});
    std::vector<pki::Certificate> trust;
    for (const auto& t : o->trust) {
      auto c = read_certificate_file(t);
      if (!c.ok()) return fail(g, c.error());
      trust.push_back(std::move(c).value());
    }
    auto creds = open_store(g).list();
    if (!creds.ok()) return fail(g, creds.error());
    wallet::FetcherOptions fo;
    fo.timeout_seconds = o->timeout;
    wallet::HttpFetcher fetcher(fo);
    std::vector<std::optional<wallet::OnlineStatus>> online(creds->size());
    if (o->check)
      for (std::size_t i = 0; i < creds->size(); ++i)
        if (!(*creds)[i].broken()) online[i] = wallet::check_online(*(*creds)[i].cert, trust, fetcher, clock);
    if (g.json) {
      nlohmann::json arr = nlohmann::json::array();
      for (std::size_t i = 0; i < creds->size(); ++i) {
        const auto& c = (*creds)[i];
        nlohmann::json j = to_json(c, clock);
        if (!c.broken()) {
          auto mark = wallet::expiry_mark(*c.cert, clock);
          j["expiry"] = {{"state", wallet::expiry_state_name(mark.state)}, {"advice", mark.advice}};
        }
        if (online[i]) {
          const auto& s = *online[i];
          nlohmann::json st{{"state", wallet::online_state_name(s.state)}, {"advice", s.advice}};
          if (!s.reason.empty()) st["reason"] = s.reason;
          if (s.revoked_at) st["revoked_at"] = format_time(*s.revoked_at);
          if (!s.url.empty()) st["url"] = s.url;
          if (!s.detail.empty()) st["detail"] = s.detail;
          j["online"] = st;
        }
        arr.push_back(j);
      }
      print_json({{"ok", true}, {"root", npki_root(g).string()}, {"certificates", arr}});
      return int{kOk};
    }
    if (creds->empty()) {
      std::cout << "No certificates in " << npki_root(g).string() << "\n";
      return int{kOk};
    }
    int n = 0;
    for (std::size_t i = 0; i < creds->size(); ++i) {
      const auto& c = (*creds)[i];
      ++n;
      if (c.broken()) {
        std::cout << n << ". BROKEN  " << c.folder.string() << "\n   " << c.broken_reason << "\n";
        continue;
      }
      const auto& info = *c.info;
      auto mark = wallet::expiry_mark(*c.cert, clock);
      std::cout << n << ". " << info.cn << "\n"
                << "   " << c.ca_folder << ", " << purpose_text(info) << ", serial 0x"
                << info.serial_hex << "\n"
                << "   until " << format_time(info.not_after) << ": "
                << (mark.state == wallet::ExpiryState::valid ? validity_status(*c.cert, clock) : mark.advice)
                << "\n";
      if (online[i]) {
        const auto& s = *online[i];
        std::cout << "   status: " << wallet::online_state_name(s.state);
        if (!s.reason.empty()) std::cout << " (" << s.reason << ")";
        if (s.revoked_at) std::cout << " since " << format_time(*s.revoked_at);
        if (!s.detail.empty()) std::cout << ": " << s.detail;
        std::cout << "\n";
        if (!s.advice.empty()) std::cout << "   " << s.advice << "\n";
      }
    }
    return int{kOk};
  };
}

Runner setup_show(CLI::App& sub, GlobalOptions& g) {
  auto sel = std::make_shared<std::string>();
  sub.add_option("SEL", *sel, "serial (0x-hex or decimal) or part of the name")->required();
  return [&g, sel] {
    const Clock& clock = SystemClock::instance();
    auto cred = open_store(g).select(*sel);
    if (!cred.ok()) return fail(g, cred.error());
    const auto& info = *cred->info;
    if (g.json) {
      auto j = to_json(*cred, clock);
      j["ok"] = true;
      print_json(j);
      return int{kOk};
    }
    std::cout << "Subject:    " << info.subject << "\n"
              << "Issuer:     " << info.issuer << "\n"
              << "Serial:     0x" << info.serial_hex << " (" << info.serial_dec << ")\n"
              << "Valid from: " << format_time(info.not_before) << "\n"
              << "Valid to:   " << format_time(info.not_after) << " ("
              << validity_status(*cred->cert, clock) << ")\n"
              << "Key:        " << info.key_algorithm << ", " << info.signature_algorithm << "\n";
    std::cout << "Real name:  " << (info.real_name ? *info.real_name : "(none)") << "\n";
    if (info.vid) {
      std::cout << "VID:        " << info.vid->hash_alg << " " << pki::to_hex(info.vid->virtual_id) << "\n";
    } else {
      std::cout << "VID:        (none)\n";
    }
    for (const auto& p : info.policies) std::cout << "Policy:     " << p.oid << " " << p.label << "\n";
    std::cout << "Folder:     " << cred->folder.string() << "\n";
    return int{kOk};
  };
}

Runner setup_import(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string path;
    std::string password_file;
    bool no_check = false;
    bool overwrite = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("PATH", o->path,
                 "NPKI folder holding signCert.der and signPri.key, or a PKCS#12 backup (.pfx/.p12)")
      ->required();
  sub.add_option("--password-file", o->password_file, "file holding the certificate password");
  sub.add_flag("--no-check", o->no_check,
               "NPKI folder only: do not ask for the password to check the key");
  sub.add_flag("--replace,--overwrite", o->overwrite, "replace a certificate already in the wallet");
  return [&g, o] {
    const bool pfx = wallet::is_backup_file(o->path);
    if (pfx && o->no_check)
      return fail(g, {Errc::usage, "--no-check: a .pfx file cannot be read without its password"});
    std::optional<SecretString> password;
    if (!o->no_check) {
      auto pw = read_secret({o->password_file,
                             pfx ? "Certificate password (the .pfx password)"
                                 : "Certificate password (to check the key)",
                             "--password-file", false});
      if (!pw.ok()) return fail(g, pw.error());
      password = std::move(pw).value();
    }
    auto store = open_store(g);
    Result<wallet::StoredCredential> added = Error{Errc::crypto, "not run"};
    if (pfx) {
      auto data = read_file(o->path, 1u << 20);
      if (!data.ok()) return fail(g, data.error());
      added = wallet::import_backup(store, *data, *password, o->overwrite);
    } else {
      added = wallet::import_folder(store, o->path, password ? &*password : nullptr, o->overwrite);
    }
    if (!added.ok()) {
      if (added.error().code == Errc::already_exists)
        return fail(g, {Errc::already_exists, added.error().message + " (give --replace to replace it)"});
      return fail(g, added.error());
    }
    if (g.json) {
      auto j = to_json(*added, SystemClock::instance());
      j["ok"] = true;
      print_json(j);
    } else {
      std::cout << "Imported " << added->info->cn << " into " << added->folder.string() << "\n";
    }
    return int{kOk};
  };
}

Runner setup_delete(CLI::App& sub, GlobalOptions& g) {
  auto sel = std::make_shared<std::string>();
  auto yes = std::make_shared<bool>(false);
  sub.add_option("SEL", *sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_flag("--yes,-y", *yes, "do not ask for confirmation");
  return [&g, sel, yes] {
    auto store = open_store(g);
    auto cred = store.select(*sel);
    if (!cred.ok()) return fail(g, cred.error());
    std::string what = cred->info ? cred->info->cn : cred->folder.string();
    if (!*yes) {
      if (!have_terminal())
        return fail(g, {Errc::usage, "refusing to delete without confirmation: add --yes"});
      if (!confirm_on_terminal("Delete " + what + " and its private key? This cannot be undone."))
        return fail(g, {Errc::policy, "not deleted"});
    }
    auto st = store.remove(*cred);
    if (!st.ok()) return fail(g, st.error());
    if (g.json) {
      print_json({{"ok", true}, {"deleted", cred->folder.string()}});
    } else {
      std::cout << "Deleted " << what << "\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
