// passwd, vid
#include <iostream>

#include "dojang/pki/vid.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/credential.hpp"

namespace dojang::cli {

Runner setup_passwd(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, password_file, new_password_file, idn_file, phone, format = "seed";
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("SEL", o->sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_option("--password-file", o->password_file, "file holding the current password");
  sub.add_option("--new-password-file", o->new_password_file, "file holding the new password");
  sub.add_option("--idn-file", o->idn_file,
                 "file holding your resident registration number (so the policy can refuse your birth date)");
  sub.add_option("--phone", o->phone, "your phone number (so the policy can refuse it)");
  sub.add_option("--format", o->format,
                 "key file format: seed (seedCBCWithSHA1, default, widest support), pbes2-seed, pbes2-aria")
      ->check(CLI::IsMember({"seed", "pbes2-seed", "pbes2-aria"}));
  return [&g, o] {
    const Clock& clock = SystemClock::instance();
    auto cred = wallet::NpkiStore({npki_root(g)}).select(o->sel);
    if (!cred.ok()) return fail(g, cred.error());
    auto old_pw = read_secret({o->password_file, "Current password", "--password-file", false});
    if (!old_pw.ok()) return fail(g, old_pw.error());
    // Unlock first so a wrong old password is reported before asking for a new one.
    auto unlocked = wallet::unlock(*cred, *old_pw, clock);
    if (!unlocked.ok()) return fail(g, unlocked.error());
    std::optional<SecretString> idn;
    if (!o->idn_file.empty()) {
      auto raw = read_secret({o->idn_file, "", "--idn-file", false});
      if (!raw.ok()) return fail(g, raw.error());
      auto digits = pki::normalize_idn(raw->view());
      if (!digits.ok()) return fail(g, digits.error());
      idn = std::move(digits).value();
    }
    auto new_pw = read_secret({o->new_password_file,
                               "New password (10+ characters with letters, digits and symbols)",
                               "--new-password-file", true});
    if (!new_pw.ok()) return fail(g, new_pw.error());
    wallet::PasswordChange change;
    change.format.format = o->format == "pbes2-seed"   ? pki::KeyFileOptions::Format::pbes2_seed
                           : o->format == "pbes2-aria" ? pki::KeyFileOptions::Format::pbes2_aria
                                                       : pki::KeyFileOptions::Format::seed_cbc_with_sha1;
    auto ctx = wallet::password_context_for(*cred->info, idn ? &*idn : nullptr, o->phone);
    auto st = wallet::change_password(*cred, *old_pw, *new_pw, ctx, change, clock);
    if (!st.ok()) return fail(g, st.error());
    if (g.json) {
      print_json({{"ok", true}, {"changed", cred->key_path.string()}});
    } else {
      std::cout << "Password changed for " << cred->info->cn << "\n";
    }
    return int{kOk};
  };
}

Runner setup_vid(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, idn_file, password_file;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("SEL", o->sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_option("--idn-file", o->idn_file, "file holding the resident registration number");
  sub.add_option("--password-file", o->password_file, "file holding the certificate password");
  return [&g, o] {
    const Clock& clock = SystemClock::instance();
    auto cred = wallet::NpkiStore({npki_root(g)}).select(o->sel);
    if (!cred.ok()) return fail(g, cred.error());
    if (!cred->info->vid)
      return fail(g, {Errc::not_found, "the certificate carries no VID (identifyData)"});
    auto idn = read_secret({o->idn_file, "Resident registration number", "--idn-file", false});
    if (!idn.ok()) return fail(g, idn.error());
    auto pw = read_secret({o->password_file, "Certificate password (the VID check needs R from the key)",
                           "--password-file", false});
    if (!pw.ok()) return fail(g, pw.error());
    auto unlocked = wallet::unlock(*cred, *pw, clock);
    if (!unlocked.ok()) return fail(g, unlocked.error());
    auto match = wallet::check_vid(*unlocked, *idn);
    if (!match.ok()) return fail(g, match.error());
    if (g.json) {
      print_json({{"ok", *match}, {"vid_match", *match}, {"hash", cred->info->vid->hash_alg}});
    } else {
      std::cout << (*match ? "VID matches: the certificate belongs to this resident registration number\n"
                           : "VID does NOT match this resident registration number\n");
    }
    return *match ? int{kOk} : int{kInvalid};
  };
}

}  // namespace dojang::cli
