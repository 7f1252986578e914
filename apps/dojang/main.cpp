// dojang: the wallet CLI. Thin: parse, call the library, print.
#include <CLI/CLI.hpp>

#include <iostream>

#include "dojang/cli.hpp"
#include "dojang/verbs.hpp"

int main(int argc, char** argv) {
  using namespace dojang::cli;
  CLI::App app{"dojang - Korean joint certificate (공동인증서) wallet", "dojang"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dojang 0.1.0");
  GlobalOptions g;
  app.add_option("--npki-dir", g.npki_dir, "NPKI folder (default $DOJANG_NPKI_DIR, else ~/NPKI)")
      ->envname("DOJANG_NPKI_DIR");
  app.add_flag("--json", g.json, "machine-readable output");

  struct Verb {
    const char* name;
    const char* help;
    VerbSetup setup;
  };
  const Verb verbs[] = {
      {"list", "list the certificates in the NPKI folder", setup_list},
      {"show", "show one certificate in detail", setup_show},
      {"import", "bring an NPKI credential folder or a .pfx backup into the wallet", setup_import},
      {"export", "back a certificate up as a PKCS#12 (.pfx) file", setup_export},
      {"copy", "copy a certificate to or from another device with a one-time code", setup_copy},
      {"delete", "delete a certificate and its key from the wallet", setup_delete},
      {"sign", "sign a file (CMS SignedData or raw PKCS#1)", setup_sign},
      {"verify", "verify a signature as a relying party (chain, revocation, purpose, VID)", setup_verify},
      {"rp-demo", "a demo relying party: login with certificate over HTTP", setup_rp_demo},
      {"login", "log in to a relying party with a certificate (challenge-response)", setup_login},
      {"passwd", "change a certificate's password", setup_passwd},
      {"vid", "check a resident registration number against a certificate's VID", setup_vid},
      {"issue", "get a new certificate from the CA onto this device", setup_issue},
      {"renew", "renew a certificate in its last 30 days (CMP kur, signed with its key)", setup_renew},
      {"revoke", "revoke a certificate: with its key (CMP rr), or --via-bank after the phone is lost",
       setup_revoke},
      {"suspend", "suspend a certificate through the bank (효력정지, certificateHold)", setup_suspend},
      {"resume", "resume a suspended certificate through the bank (효력회복)", setup_resume},
      {"reissue", "re-issue a certificate through the bank (재발급: new key, remaining validity)", setup_reissue},
  };
  Runner selected;
  for (const auto& v : verbs) {
    CLI::App* sub = app.add_subcommand(v.name, v.help);
    Runner r = v.setup(*sub, g);
    sub->callback([&selected, r] { selected = r; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  if (!selected) return kUsage;
  return selected();
}
