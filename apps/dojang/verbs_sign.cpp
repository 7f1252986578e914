// sign
#include <iostream>

#include "dojang/pki/signing.hpp"
#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/credential.hpp"

namespace dojang::cli {

Runner setup_sign(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, in, out, format = "cms", password_file;
    bool detached = false, no_signed_attrs = false, include_random = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("SEL", o->sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_option("--in", o->in, "file to sign")->required();
  sub.add_option("--out", o->out, "where to write the signature (DER)")->required();
  sub.add_option("--format", o->format, "cms (SignedData, default) or raw (PKCS#1 v1.5 SHA-256)")
      ->check(CLI::IsMember({"cms", "raw"}));
  sub.add_flag("--detached", o->detached, "CMS without the content inside");
  sub.add_flag("--no-signed-attrs", o->no_signed_attrs,
               "CMS without signed attributes (signature directly over the content)");
  sub.add_flag("--include-random", o->include_random,
               "CMS: add R (randomNum) as an unsigned attribute so the relying party can check "
               "the VID against the IDN it knows");
  sub.add_option("--password-file", o->password_file, "file holding the certificate password");
  return [&g, o] {
    if (o->format == "raw" && (o->detached || o->no_signed_attrs || o->include_random))
      return fail(g, {Errc::usage,
                      "--detached, --no-signed-attrs and --include-random apply to --format cms only"});
    const Clock& clock = SystemClock::instance();
    auto cred = wallet::NpkiStore({npki_root(g)}).select(o->sel);
    if (!cred.ok()) return fail(g, cred.error());
    auto content = read_file(o->in);
    if (!content.ok()) return fail(g, content.error());
    auto pw = read_secret({o->password_file, "Certificate password", "--password-file", false});
    if (!pw.ok()) return fail(g, pw.error());
    auto unlocked = wallet::unlock(*cred, *pw, clock);
    if (!unlocked.ok()) return fail(g, unlocked.error());
    if (cred->cert->expired(clock))
      return fail(g, {Errc::policy, "the certificate expired on " + format_time(cred->info->not_after) +
                                        ": it cannot sign; get a new one"});
    if (o->include_random && !unlocked->key.random_num)
      return fail(g, {Errc::invalid_input,
                      "--include-random: the key file holds no randomNum (R) to include"});
    pki::CmsSignOptions cms_options{o->detached, !o->no_signed_attrs,
                                    o->include_random ? &*unlocked->key.random_num : nullptr};
    Result<Bytes> sig = o->format == "raw"
                            ? pki::sign_raw(unlocked->key.key, *content)
                            : pki::sign_cms(unlocked->key.key, unlocked->cert, *content,
                                            cms_options, clock);
    if (!sig.ok()) return fail(g, sig.error());
    auto st = write_file(o->out, *sig);
    if (!st.ok()) return fail(g, st.error());
    if (g.json) {
      print_json({{"ok", true}, {"out", o->out}, {"format", o->format}, {"bytes", sig->size()},
                  {"signer", cred->info->cn}, {"serial", "0x" + cred->info->serial_hex}});
    } else {
      std::cout << "Signed " << o->in << " as " << cred->info->cn << " -> " << o->out << " ("
                << sig->size() << " bytes, " << o->format << ")\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
