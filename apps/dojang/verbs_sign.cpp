// sign, verify
#include <iostream>

#include "dojang/pki/signing.hpp"
#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/credential.hpp"

namespace dojang::cli {

Runner setup_sign(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, in, out, format = "cms", password_file;
    bool detached = false, no_signed_attrs = false;
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
  sub.add_option("--password-file", o->password_file, "file holding the certificate password");
  return [&g, o] {
    if (o->format == "raw" && (o->detached || o->no_signed_attrs))
      return fail(g, {Errc::usage, "--detached and --no-signed-attrs apply to --format cms only"});
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
    Result<Bytes> sig = o->format == "raw"
                            ? pki::sign_raw(unlocked->key.key, *content)
                            : pki::sign_cms(unlocked->key.key, unlocked->cert, *content,
                                            {o->detached, !o->no_signed_attrs}, clock);
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

Runner setup_verify(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string in, content, cert, format = "cms";
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--in", o->in, "the signature (DER)")->required();
  sub.add_option("--content", o->content, "the signed content (detached CMS, or raw signatures)");
  sub.add_option("--format", o->format, "cms (default) or raw")->check(CLI::IsMember({"cms", "raw"}));
  sub.add_option("--cert", o->cert, "signer certificate (DER or PEM) for raw signatures");
  return [&g, o] {
    const Clock& clock = SystemClock::instance();
    auto sig = read_file(o->in);
    if (!sig.ok()) return fail(g, sig.error());
    std::optional<Bytes> content;
    if (!o->content.empty()) {
      auto c = read_file(o->content);
      if (!c.ok()) return fail(g, c.error());
      content = std::move(c).value();
    }
    if (o->format == "raw") {
      if (o->cert.empty() || !content)
        return fail(g, {Errc::usage, "raw signatures need --cert and --content"});
      auto cert_bytes = read_file(o->cert);
      if (!cert_bytes.ok()) return fail(g, cert_bytes.error());
      auto cert = pki::Certificate::from_der(*cert_bytes);
      if (!cert.ok()) cert = pki::Certificate::from_pem(*cert_bytes);
      if (!cert.ok()) return fail(g, cert.error());
      auto st = pki::verify_raw(*cert, *content, *sig);
      if (!st.ok()) return fail(g, st.error());
      auto info = cert->info();
      std::string cn = info.ok() ? info->cn : "?";
      if (g.json) {
        print_json({{"ok", true}, {"verdict", "valid"}, {"format", "raw"}, {"signer", cn}});
      } else {
        std::cout << "Signature valid (raw PKCS#1 v1.5 SHA-256) by " << cn << "\n";
      }
      return int{kOk};
    }
    auto v = content ? pki::verify_cms(*sig, ByteView(*content)) : pki::verify_cms(*sig, std::nullopt);
    if (!v.ok()) return fail(g, v.error());
    auto info = v->signer.info();
    if (!info.ok()) return fail(g, info.error());
    if (g.json) {
      nlohmann::json j{{"ok", true},
                       {"verdict", "valid"},
                       {"format", "cms"},
                       {"detached", v->detached},
                       {"signed_attributes", v->signed_attributes},
                       {"digest", v->digest_algorithm},
                       {"signer", to_json(*info, v->signer, clock)}};
      j["signing_time"] = v->signing_time ? nlohmann::json(format_time(*v->signing_time)) : nlohmann::json(nullptr);
      j["checks_not_done"] = {"chain", "revocation"};
      print_json(j);
    } else {
      std::cout << "Signature valid: CMS SignedData" << (v->detached ? " (detached)" : "")
                << (v->signed_attributes ? "" : " without signed attributes") << ", "
                << v->digest_algorithm << "\n"
                << "Signer:  " << info->cn << " (serial 0x" << info->serial_hex << ", "
                << purpose_text(*info) << ")\n";
      if (v->signing_time) std::cout << "Signed:  " << format_time(*v->signing_time) << "\n";
      std::cout << "Not checked here: certificate chain and revocation.\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
