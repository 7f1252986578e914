// sign, verify
#include <iostream>

#include "dojang/pki/signing.hpp"
#include "dojang/pki/verify.hpp"
#include "dojang/pki/vid.hpp"
#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/credential.hpp"
#include "dojang/wallet/http_fetcher.hpp"

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

namespace {

// R for the VID check: the 20 raw bytes, or their 40 hex digits (one line).
Result<SecretBytes> read_random_file(const std::string& path) {
  DOJANG_ASSIGN(Bytes raw, read_file(path, 4096));
  SecretBytes bytes(ByteView(raw.data(), raw.size()));
  secure_wipe(raw.data(), raw.size());
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const bool is_hex = !text.empty() && text.size() % 2 == 0 &&
                      text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
  if (is_hex && text.size() != bytes.size()) {
    SecretBytes r(text.size() / 2);
    auto nibble = [](char c) {
      return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    };
    for (size_t i = 0; i < r.size(); ++i)
      r.data()[i] = static_cast<std::uint8_t>(nibble(text[2 * i]) << 4 | nibble(text[2 * i + 1]));
    return r;
  }
  if (bytes.empty()) return Error{Errc::usage, "--random-file " + path + " is empty"};
  return bytes;
}

Result<std::vector<pki::Certificate>> read_certificates(const std::string& path) {
  DOJANG_ASSIGN(Bytes raw, read_file(path));
  auto certs = pki::certificates_from(raw);
  if (!certs.ok()) return Error{certs.error().code, path + ": " + certs.error().message};
  return certs;
}

}  // namespace

Runner setup_verify(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string in, content, cert, format = "cms", idn_file, random_file, purpose;
    std::vector<std::string> trust, untrusted, crls;
    bool offline = false;
    long timeout = 10;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--in", o->in, "the signature (DER)")->required();
  sub.add_option("--content", o->content, "the signed content (detached CMS, or raw signatures)");
  sub.add_option("--format", o->format, "cms (default) or raw")->check(CLI::IsMember({"cms", "raw"}));
  sub.add_option("--cert", o->cert, "signer certificate (DER or PEM) for raw signatures");
  sub.add_option("--trust", o->trust, "trust anchor(s), PEM (enables chain and revocation checks)");
  sub.add_option("--untrusted", o->untrusted, "intermediate CA certificates, PEM");
  sub.add_option("--require-purpose", o->purpose,
                 "general: only 범용; bank: 범용 or banking/insurance (용도제한)")
      ->check(CLI::IsMember({"general", "bank"}));
  sub.add_option("--idn-file", o->idn_file, "file holding the signer's IDN: check the VID");
  sub.add_option("--random-file", o->random_file,
                 "the signer's randomNum R (20 bytes, raw or hex) for the VID check");
  sub.add_flag("--offline", o->offline, "no network: revocation from the --crl files only");
  sub.add_option("--crl", o->crls, "CRL file(s), DER or PEM");
  sub.add_option("--timeout", o->timeout, "seconds per OCSP/CRL request (default 10)");
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
    if (o->offline && o->trust.empty())
      return fail(g, {Errc::usage, "--offline checks revocation, which needs --trust"});
    if (!o->random_file.empty() && o->idn_file.empty())
      return fail(g, {Errc::usage, "--random-file is for the VID check: give --idn-file too"});

    pki::VerifyOptions opts;
    for (const auto& path : o->trust) {
      auto certs = read_certificates(path);
      if (!certs.ok()) return fail(g, certs.error());
      opts.trust.insert(opts.trust.end(), certs->begin(), certs->end());
    }
    for (const auto& path : o->untrusted) {
      auto certs = read_certificates(path);
      if (!certs.ok()) return fail(g, certs.error());
      opts.untrusted.insert(opts.untrusted.end(), certs->begin(), certs->end());
    }
    for (const auto& path : o->crls) {
      auto raw = read_file(path);
      if (!raw.ok()) return fail(g, raw.error());
      auto crl = pki::Crl::parse(*raw);
      if (!crl.ok()) return fail(g, {crl.error().code, path + ": " + crl.error().message});
      opts.crls.push_back(std::move(crl).value());
    }
    opts.revocation = o->offline ? pki::RevocationMode::offline : pki::RevocationMode::online;
    wallet::FetcherOptions fetch_options;
    fetch_options.timeout_seconds = o->timeout;
    wallet::HttpFetcher fetcher(fetch_options);
    if (!o->offline) opts.fetcher = &fetcher;
    if (!o->purpose.empty()) {
      auto p = pki::parse_required_purpose(o->purpose);
      if (!p.ok()) return fail(g, p.error());
      opts.purpose = *p;
    }
    if (!o->idn_file.empty()) {
      auto idn = read_secret({o->idn_file, "IDN", "--idn-file", false});
      if (!idn.ok()) return fail(g, idn.error());
      auto digits = pki::normalize_idn(idn->view());
      if (!digits.ok()) return fail(g, digits.error());
      opts.idn = std::move(digits).value();
    }
    if (!o->random_file.empty()) {
      auto r = read_random_file(o->random_file);
      if (!r.ok()) return fail(g, r.error());
      opts.random_num = std::move(r).value();
    }

    pki::VerifyReport report;
    if (o->format == "raw") {
      if (o->cert.empty() || !content)
        return fail(g, {Errc::usage, "raw signatures need --cert and --content"});
      auto certs = read_certificates(o->cert);
      if (!certs.ok()) return fail(g, certs.error());
      report = pki::verify_raw_signed(*sig, *content, certs->front(), opts, clock);
    } else {
      report = pki::verify_signed(*sig, content ? std::optional<ByteView>(*content) : std::nullopt,
                                  opts, clock);
      if (report.signature.state == pki::CheckState::failed && !content &&
          report.signature.detail.find("detached") != std::string::npos)
        return fail(g, {Errc::usage, report.signature.detail});
    }
    if (g.json) {
      print_json(to_json(report, clock));
    } else {
      std::cout << verify_text(report);
    }
    return exit_code_for(report.verdict);
  };
}

}  // namespace dojang::cli
