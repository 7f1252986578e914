// verify, rp-demo, login: the relying party's side.
#include <iostream>

#include "dojang/pki/signing.hpp"
#include "dojang/pki/verify.hpp"
#include "dojang/pki/vid.hpp"
#include "dojang/present.hpp"
#include "dojang/rp/demo.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/credential.hpp"
#include "dojang/wallet/http_fetcher.hpp"
#include "dojang/wallet/rp_login.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::cli {

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
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
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

// The relying party's policy flags, shared by verify and rp-demo.
struct PolicyFlags {
  std::vector<std::string> trust, untrusted, crls;
  std::string purpose;
  bool offline = false;
  long timeout = 10;
};

void add_policy_flags(CLI::App& sub, PolicyFlags& f) {
  sub.add_option("--trust", f.trust, "trust anchor(s), PEM (enables chain and revocation checks)");
  sub.add_option("--untrusted", f.untrusted, "intermediate CA certificates, PEM");
  sub.add_option("--require-purpose", f.purpose,
                 "general: only 범용; bank: 범용 or banking/insurance (은행/보험용 용도제한)")
      ->check(CLI::IsMember({"general", "bank"}));
  sub.add_flag("--offline", f.offline, "no network: revocation from the --crl files only");
  sub.add_option("--crl", f.crls, "CRL file(s), DER or PEM");
  sub.add_option("--timeout", f.timeout, "seconds per OCSP/CRL request (default 10)");
}

wallet::FetcherOptions fetcher_options(long timeout) {
  wallet::FetcherOptions f;
  f.timeout_seconds = timeout;
  return f;
}

Status load_policy(const PolicyFlags& f, pki::VerifyOptions& opts, pki::Fetcher& fetcher) {
  if (f.offline && f.trust.empty())
    return Error{Errc::usage, "--offline checks revocation, which needs --trust"};
  for (const auto& path : f.trust) {
    DOJANG_ASSIGN(auto certs, read_certificates(path));
    opts.trust.insert(opts.trust.end(), certs.begin(), certs.end());
  }
  for (const auto& path : f.untrusted) {
    DOJANG_ASSIGN(auto certs, read_certificates(path));
    opts.untrusted.insert(opts.untrusted.end(), certs.begin(), certs.end());
  }
  for (const auto& path : f.crls) {
    DOJANG_ASSIGN(Bytes raw, read_file(path));
    auto crl = pki::Crl::parse(raw);
    if (!crl.ok()) return Error{crl.error().code, path + ": " + crl.error().message};
    opts.crls.push_back(std::move(crl).value());
  }
  opts.revocation = f.offline ? pki::RevocationMode::offline : pki::RevocationMode::online;
  if (!f.offline) opts.fetcher = &fetcher;
  if (!f.purpose.empty()) {
    DOJANG_ASSIGN(opts.purpose, pki::parse_required_purpose(f.purpose));
  }
  return {};
}

}  // namespace

Runner setup_verify(CLI::App& sub, GlobalOptions& g) {
  struct Opts : PolicyFlags {
    std::string in, content, cert, format = "cms", idn_file, random_file;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--in", o->in, "the signature (DER)")->required();
  sub.add_option("--content", o->content, "the signed content (detached CMS, or raw signatures)");
  sub.add_option("--format", o->format, "cms (default) or raw")
      ->check(CLI::IsMember({"cms", "raw"}));
  sub.add_option("--cert", o->cert, "signer certificate (DER or PEM) for raw signatures");
  add_policy_flags(sub, *o);
  sub.add_option("--idn-file", o->idn_file, "file holding the signer's IDN: check the VID");
  sub.add_option("--random-file", o->random_file,
                 "the signer's randomNum R (20 bytes, raw or hex) for the VID check");
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
    if (!o->random_file.empty() && o->idn_file.empty())
      return fail(g, {Errc::usage, "--random-file is for the VID check: give --idn-file too"});

    pki::VerifyOptions opts;
    wallet::HttpFetcher fetcher(fetcher_options(o->timeout));
    auto st = load_policy(*o, opts, fetcher);
    if (!st.ok()) return fail(g, st.error());
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
      if (report.signature_error == Errc::usage)
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

Runner setup_rp_demo(CLI::App& sub, GlobalOptions& g) {
  struct Opts : PolicyFlags {
    std::string action, listen = "127.0.0.1:0", idn_file;
    long ttl = 120;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("ACTION", o->action, "serve")->required()->check(CLI::IsMember({"serve"}));
  sub.add_option("--listen", o->listen, "loopback HOST:PORT (default 127.0.0.1:0, any free port)");
  sub.add_option("--idn-file", o->idn_file,
                 "the account holder's IDN: only the person it names may log in (VID, R from the "
                 "signature: dojang login --include-random)");
  sub.add_option("--challenge-ttl", o->ttl, "seconds a challenge stays valid (default 120)");
  add_policy_flags(sub, *o);
  return [&g, o] {
    if (o->trust.empty()) return fail(g, {Errc::usage, "rp-demo serve needs --trust ROOT.pem"});
    pki::VerifyOptions opts;
    wallet::HttpFetcher fetcher(fetcher_options(o->timeout));
    auto st = load_policy(*o, opts, fetcher);
    if (!st.ok()) return fail(g, st.error());
    rp::DemoConfig config;
    config.trust = std::move(opts.trust);
    config.untrusted = std::move(opts.untrusted);
    config.purpose = opts.purpose;
    config.revocation = opts.revocation;
    config.crls = std::move(opts.crls);
    config.fetcher = opts.fetcher;
    config.challenge_ttl = std::chrono::seconds(o->ttl);
    if (!o->idn_file.empty()) {
      auto idn = read_secret({o->idn_file, "Account holder's IDN", "--idn-file", false});
      if (!idn.ok()) return fail(g, idn.error());
      auto digits = pki::normalize_idn(idn->view());
      if (!digits.ok()) return fail(g, digits.error());
      config.account_idn = std::move(digits).value();
    }
    rp::LoginService service(std::move(config), SystemClock::instance());
    auto server = rp::DemoServer::create(o->listen, service);
    if (!server.ok()) return fail(g, server.error());
    std::cout << "dojang rp-demo: listening on http://127.0.0.1:" << (*server)->port()
              << " (GET /challenge, POST /login)" << std::endl;
    (*server)->serve();
    return int{kOk};
  };
}

Runner setup_login(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string sel, server, ca_file, password_file;
    bool include_random = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("SEL", o->sel, "serial (0x-hex or decimal) or part of the name")->required();
  sub.add_option("--server", o->server, "the relying party's URL")->required();
  sub.add_option("--ca-file", o->ca_file, "CA bundle (PEM) for an https relying party");
  sub.add_flag("--include-random", o->include_random,
               "send R with the signature so the relying party can check the VID");
  sub.add_option("--password-file", o->password_file, "file holding the certificate password");
  return [&g, o] {
    const Clock& clock = SystemClock::instance();
    auto cred = wallet::NpkiStore({npki_root(g)}).select(o->sel);
    if (!cred.ok()) return fail(g, cred.error());
    auto pw = read_secret({o->password_file, "Certificate password", "--password-file", false});
    if (!pw.ok()) return fail(g, pw.error());
    auto unlocked = wallet::unlock(*cred, *pw, clock);
    if (!unlocked.ok()) return fail(g, unlocked.error());
    wallet::RpLoginOptions lo;
    lo.server = o->server;
    lo.ca_file = o->ca_file;
    lo.include_random = o->include_random;
    auto r = wallet::rp_login(lo, *unlocked, clock);
    if (!r.ok()) return fail(g, r.error());
    if (g.json) {
      print_json({{"ok", true}, {"user", r->user}, {"reason", r->reason}});
    } else {
      std::cout << "Logged in as " << r->user << ": " << r->reason << "\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
