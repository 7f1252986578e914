// Relying-party verification against a test PKI, OCSP responses and CRLs
// made by the openssl CLI (tests/data/verify/mkpki.sh, `openssl ocsp
// -index ... -reqin`, `openssl ca -gencrl`).
#include "dojang/pki/verify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dojang/pki/key.hpp"
#include "dojang/pki/signing.hpp"
#include "dojang/pki/vid.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

namespace fs = std::filesystem;
using dojang::testing::read_bytes;
using dojang::testing::read_text;
using dojang::testing::RunResult;
using dojang::testing::TempDir;
using dojang::testing::write_bytes;

RunResult openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  return dojang::testing::run(args);
}

std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// The test PKI, made once per test binary.
struct Pki {
  fs::path dir;
  fs::path root() const { return dir; }
  fs::path operator/(const std::string& rel) const { return dir / rel; }
};
Pki* g_pki = nullptr;

Certificate load_cert(const fs::path& p) {
  auto raw = read_bytes(p);
  auto c = Certificate::from_pem(raw);
  EXPECT_TRUE(c.ok()) << p << ": " << (c.ok() ? "" : c.error().message);
  return std::move(c).value();
}

Crl load_crl(const fs::path& p) {
  auto c = Crl::parse(read_bytes(p));
  EXPECT_TRUE(c.ok()) << p;
  return std::move(c).value();
}

SecretBytes hex_secret(std::string hex) {
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r')) hex.pop_back();
  auto b = dojang::testing::from_hex(hex);
  return SecretBytes(ByteView(b.data(), b.size()));
}

// Answers OCSP requests by running `openssl ocsp -index` on them; serves CRLs from files.
class OpensslFetcher final : public Fetcher {
 public:
  std::vector<std::string> rsigner = {"-rsigner", (*g_pki / "ocsp.pem").string(), "-rkey",
                                      (*g_pki / "ocsp.key.pem").string()};
  std::vector<std::string> extra = {"-nmin", "10"};
  bool ocsp_down = false;
  std::optional<Bytes> replay;  // answer this instead of responding
  std::map<std::string, fs::path> crls;
  int posts = 0, gets = 0;
  Bytes last_response;

  Result<Bytes> post(const std::string&, std::string_view content_type, ByteView body) override {
    ++posts;
    EXPECT_EQ(content_type, "application/ocsp-request");
    if (ocsp_down) return Error{Errc::io, "connection refused"};
    if (replay) return *replay;
    TempDir t;
    write_bytes(t / "req.der", Bytes(body.begin(), body.end()));
    std::vector<std::string> args = {"ocsp",
                                     "-index",
                                     (*g_pki / "index.txt").string(),
                                     "-CA",
                                     (*g_pki / "ca.pem").string(),
                                     "-reqin",
                                     (t / "req.der").string(),
                                     "-respout",
                                     (t / "resp.der").string()};
    args.insert(args.end(), rsigner.begin(), rsigner.end());
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = openssl(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    last_response = read_bytes(t / "resp.der");
    return last_response;
  }
  Result<Bytes> get(const std::string& url) override {
    ++gets;
    auto it = crls.find(url);
    if (it == crls.end()) return Error{Errc::io, "HTTP 404"};
    return read_bytes(it->second);
  }
};

class VerifyTest : public ::testing::Test {
 protected:
  // The test PKI is read only here, and its URLs name fixed ports (nothing
  // listens there: the fetcher answers), so one copy per build serves every
  // test process; it is made again when mkpki.sh changes, and every day (its
  // CRLs are valid for a week).
  static void SetUpTestSuite() {
    if (g_pki != nullptr) return;
    const fs::path script = dojang::testing::data_path("verify/mkpki.sh");
    const auto stamp = fs::last_write_time(script).time_since_epoch().count();
    const auto day = std::chrono::duration_cast<std::chrono::hours>(
                         std::chrono::system_clock::now().time_since_epoch()).count() / 24;
    fs::path dir = dojang::testing::build_cache(
        "verify-pki-" + std::to_string(stamp) + "-" + std::to_string(day), [&](const fs::path& aside) {
          auto r = dojang::testing::run({script.string(), aside.string(), "18101", "18102"}, {},
                                        {}, 300);
          EXPECT_EQ(r.exit_code, 0) << describe(r);
          return r.exit_code == 0;
        });
    ASSERT_FALSE(dir.empty()) << "mkpki.sh failed";
    g_pki = new Pki{dir};
  }

  Certificate cert(const std::string& name) { return load_cert(*g_pki / (name + ".pem")); }
  Certificate user(const std::string& name) { return cert("users/" + name); }
  std::string crl_url(int partition) {
    return "http://127.0.0.1:18102/crl/p" + std::to_string(partition) + ".crl";
  }
  std::vector<Certificate> trust() { return {cert("root")}; }

  // CMS SignedData made by `openssl cms -sign` with the user's key, the CA certificate included.
  Bytes openssl_sign(const std::string& name, const std::string& content,
                     std::vector<std::string> extra = {}) {
    TempDir t;
    dojang::testing::write_text(t / "in", content);
    std::vector<std::string> args = {
        "cms",       "-sign",
        "-binary",   "-nodetach",
        "-md",       "sha256",
        "-signer",   (*g_pki / ("users/" + name + ".pem")).string(),
        "-inkey",    (*g_pki / ("users/" + name + ".key.pem")).string(),
        "-certfile", (*g_pki / "ca.pem").string(),
        "-in",       (t / "in").string(),
        "-outform",  "DER",
        "-out",      (t / "sig").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = openssl(args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return read_bytes(t / "sig");
  }

  VerifyOptions online(OpensslFetcher& f) {
    VerifyOptions o;
    o.trust = trust();
    o.fetcher = &f;
    return o;
  }

  void expectError(const Status& s, Errc code, const std::string& needle) {
    ASSERT_FALSE(s.ok()) << "expected " << errc_name(code);
    EXPECT_EQ(s.error().code, code) << s.error().message;
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
  }
  template <class T>
  void expectError(const Result<T>& r, Errc code, const std::string& needle) {
    ASSERT_FALSE(r.ok()) << "expected " << errc_name(code);
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
  void expectVerdict(const VerifyReport& r, Verdict v, const std::string& needle = {}) {
    EXPECT_EQ(r.verdict, v) << verdict_name(r.verdict) << ": " << r.summary;
    EXPECT_NE(r.summary.find(needle), std::string::npos) << r.summary;
  }

  FakeClock clock_{std::chrono::system_clock::now()};
};

// ---- path validation ----

TEST_F(VerifyTest, PathGoodWithIntermediate) {
  auto p = validate_path(user("good"), trust(), {cert("ca")}, clock_.now());
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->chain.size(), 3u);
  EXPECT_EQ(p->chain[2].info()->cn, "Dojang RP Test Root");
}

TEST_F(VerifyTest, PathWithoutIntermediateOrToAnotherRootFails) {
  expectError(validate_path(user("good"), trust(), {}, clock_.now()), Errc::bad_signature,
              "unable to get local issuer certificate");
  expectError(validate_path(user("foreign"), trust(), {cert("ca")}, clock_.now()),
              Errc::bad_signature, "signer certificate");
}

TEST_F(VerifyTest, PathWithExpiredIntermediateIsRefused) {
  expectError(validate_path(user("oldca"), trust(), {cert("oldca")}, clock_.now()), Errc::policy,
              "depth 1");
}

TEST_F(VerifyTest, PathFollowsTheClock) {
  expectError(validate_path(user("expired"), trust(), {cert("ca")}, clock_.now()), Errc::policy,
              "expired");
  // In 2020 the expired certificate was valid.
  auto in2020 = std::chrono::system_clock::from_time_t(1593561600);  // 2020-07-01
  EXPECT_TRUE(validate_path(user("expired"), trust(), {cert("ca")}, in2020).ok());
  // and the good one was not valid yet.
  expectError(validate_path(user("good"), trust(), {cert("ca")}, in2020), Errc::policy,
              "not yet valid");
}

// ---- OCSP ----

TEST_F(VerifyTest, OcspGoodFromDelegatedResponderWithNonce) {
  OpensslFetcher f;
  auto req = make_ocsp_request(user("good"), cert("ca"));
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(req->nonce.size(), 16u);
  auto body = f.post("u", "application/ocsp-request", req->der);
  auto st = check_ocsp_response(*body, *req, user("good"), cert("ca"), trust(), clock_);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->status, CertStatus::good);
  ASSERT_TRUE(st->next_update.has_value());
  // openssl echoes our nonce: check it in the response text.
  TempDir t;
  write_bytes(t / "resp", f.last_response);
  auto text = openssl({"ocsp", "-respin", (t / "resp").string(), "-resp_text", "-noverify"});
  EXPECT_NE(text.out.find("OCSP Nonce"), std::string::npos) << text.out;
}

TEST_F(VerifyTest, OcspSignedByTheCaItself) {
  OpensslFetcher f;
  f.rsigner = {"-rsigner", (*g_pki / "ca.pem").string(), "-rkey", (*g_pki / "ca.key.pem").string()};
  auto req = make_ocsp_request(user("good"), cert("ca"));
  auto st = check_ocsp_response(*f.post("u", "application/ocsp-request", req->der), *req,
                                user("good"), cert("ca"), trust(), clock_);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->status, CertStatus::good);
}

TEST_F(VerifyTest, OcspRevokedHeldAndUnknown) {
  OpensslFetcher f;
  auto check = [&](const std::string& name) {
    auto req = make_ocsp_request(user(name), cert("ca"));
    return check_ocsp_response(*f.post("u", "application/ocsp-request", req->der), *req, user(name),
                               cert("ca"), trust(), clock_);
  };
  auto revoked = check("revoked");
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(revoked->status, CertStatus::revoked);
  EXPECT_EQ(revoked->reason, "keyCompromise");
  ASSERT_TRUE(revoked->revoked_at.has_value());
  EXPECT_LT(std::chrono::abs(*revoked->revoked_at - clock_.now()), std::chrono::hours(1));

  auto held = check("held");
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_EQ(held->status, CertStatus::revoked);
  EXPECT_EQ(held->reason, "certificateHold");

  auto unknown = check("unknown");
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_EQ(unknown->status, CertStatus::unknown);
}

TEST_F(VerifyTest, OcspFromAnUntrustedResponderIsRefused) {
  OpensslFetcher f;
  f.rsigner = {"-rsigner", (*g_pki / "rogue.pem").string(), "-rkey",
               (*g_pki / "rogue.key.pem").string()};
  auto req = make_ocsp_request(user("revoked"), cert("ca"));
  expectError(check_ocsp_response(*f.post("u", "application/ocsp-request", req->der), *req,
                                  user("revoked"), cert("ca"), trust(), clock_),
              Errc::bad_signature, "not signed by the CA");
}

TEST_F(VerifyTest, OcspTamperedSignatureIsRefused) {
  OpensslFetcher f;
  auto req = make_ocsp_request(user("good"), cert("ca"));
  Bytes resp = *f.post("u", "application/ocsp-request", req->der);
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING,
  //   certs [0] EXPLICIT SEQUENCE OF Certificate }: the signature ends just before the
  // [0] and SEQUENCE headers (8 octets) of the responder certificate.
  Bytes responder = *cert("ocsp").der();
  auto at = std::search(resp.begin(), resp.end(), responder.begin(), responder.end());
  ASSERT_NE(at, resp.end());
  *(at - 8 - 5) ^= 0x01;
  expectError(check_ocsp_response(resp, *req, user("good"), cert("ca"), trust(), clock_),
              Errc::bad_signature, "not signed");
}

TEST_F(VerifyTest, OcspStaleResponseIsRejected) {
  OpensslFetcher f;
  f.extra = {"-nmin", "1"};
  auto req = make_ocsp_request(user("good"), cert("ca"));
  Bytes resp = *f.post("u", "application/ocsp-request", req->der);
  EXPECT_TRUE(check_ocsp_response(resp, *req, user("good"), cert("ca"), trust(), clock_).ok());
  FakeClock later(clock_.now() + std::chrono::minutes(10));
  expectError(check_ocsp_response(resp, *req, user("good"), cert("ca"), trust(), later),
              Errc::invalid_input, "stale");
  // Without nextUpdate, max_age decides.
  f.extra = {};
  resp = *f.post("u", "application/ocsp-request", req->der);
  EXPECT_TRUE(check_ocsp_response(resp, *req, user("good"), cert("ca"), trust(), clock_).ok());
  FakeClock hours_later(clock_.now() + std::chrono::hours(3));
  expectError(check_ocsp_response(resp, *req, user("good"), cert("ca"), trust(), hours_later),
              Errc::invalid_input, "stale");
  // A response from the future is not accepted either.
  FakeClock earlier(clock_.now() - std::chrono::hours(1));
  expectError(check_ocsp_response(resp, *req, user("good"), cert("ca"), trust(), earlier),
              Errc::invalid_input, "in the future");
}

TEST_F(VerifyTest, OcspNonceMismatchIsRejectedAndAbsentNonceAccepted) {
  OpensslFetcher f;
  auto first = make_ocsp_request(user("good"), cert("ca"));
  Bytes old = *f.post("u", "application/ocsp-request", first->der);
  auto second = make_ocsp_request(user("good"), cert("ca"));
  ASSERT_NE(first->nonce, second->nonce);
  expectError(check_ocsp_response(old, *second, user("good"), cert("ca"), trust(), clock_),
              Errc::invalid_input, "nonce");
  // A request without a nonce gets a response without one (the pre-signed case).
  OcspOptions no_nonce;
  no_nonce.nonce = false;
  auto plain = make_ocsp_request(user("good"), cert("ca"), no_nonce);
  EXPECT_TRUE(plain->nonce.empty());
  auto st = check_ocsp_response(*f.post("u", "application/ocsp-request", plain->der), *plain,
                                user("good"), cert("ca"), trust(), clock_);
  EXPECT_TRUE(st.ok()) << st.error().message;
  // A response about another certificate does not answer for this one.
  auto other = make_ocsp_request(user("bank"), cert("ca"), no_nonce);
  Bytes bank_resp = *f.post("u", "application/ocsp-request", other->der);
  expectError(check_ocsp_response(bank_resp, *plain, user("good"), cert("ca"), trust(), clock_),
              Errc::invalid_input, "no status for this certificate");
}

TEST_F(VerifyTest, OcspGarbageIsInvalidInput) {
  auto req = make_ocsp_request(user("good"), cert("ca"));
  Bytes junk = {0x30, 0x03, 0x0a, 0x01, 0x00};
  expectError(check_ocsp_response(Bytes{1, 2, 3}, *req, user("good"), cert("ca"), trust(), clock_),
              Errc::invalid_input, "OCSPResponse");
  // responseStatus tryLater (3), no responseBytes.
  Bytes try_later = {0x30, 0x03, 0x0a, 0x01, 0x03};
  expectError(check_ocsp_response(try_later, *req, user("good"), cert("ca"), trust(), clock_),
              Errc::policy, "trylater");
  (void)junk;
}

// ---- CRLs ----

TEST_F(VerifyTest, CrlRevokedGoodAndHeld) {
  auto p1 = load_crl(*g_pki / "crl/p1.crl");
  EXPECT_EQ(p1.partition_uri().value_or(""), crl_url(1));
  auto revoked = check_crl(p1, user("revoked"), cert("ca"), clock_);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(revoked->status, CertStatus::revoked);
  EXPECT_EQ(revoked->reason, "keyCompromise");
  EXPECT_TRUE(revoked->revoked_at.has_value());
  auto good = check_crl(p1, user("good"), cert("ca"), clock_);
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->status, CertStatus::good);
  auto held = check_crl(load_crl(*g_pki / "crl/p2.crl"), user("held"), cert("ca"), clock_);
  ASSERT_TRUE(held.ok()) << held.error().message;
  EXPECT_EQ(held->reason, "certificateHold");
}

TEST_F(VerifyTest, CrlOfAnotherPartitionDoesNotCover) {
  auto p2 = load_crl(*g_pki / "crl/p2.crl");
  expectError(
      check_crl(p2, user("revoked"), cert("ca"), clock_), Errc::not_found,
      "the CRL covers partition " + crl_url(2) + ", the certificate belongs to " + crl_url(1));
  // The full CRL (no issuingDistributionPoint) covers every partition.
  auto full = load_crl(*g_pki / "crl/full.crl");
  EXPECT_EQ(check_crl(full, user("revoked"), cert("ca"), clock_)->status, CertStatus::revoked);
  EXPECT_EQ(check_crl(full, user("bank"), cert("ca"), clock_)->status, CertStatus::good);
}

TEST_F(VerifyTest, CrlExpiredOrStaleIsRejected) {
  expectError(check_crl(load_crl(*g_pki / "crl/expired.crl"), user("good"), cert("ca"), clock_),
              Errc::invalid_input, "stale");
  FakeClock next_week(clock_.now() + std::chrono::hours(24 * 8));
  expectError(check_crl(load_crl(*g_pki / "crl/p1.crl"), user("good"), cert("ca"), next_week),
              Errc::invalid_input, "nextUpdate");
}

TEST_F(VerifyTest, CrlOfAnotherIssuerOrTamperedIsRejected) {
  expectError(check_crl(load_crl(*g_pki / "crl/root.crl"), user("good"), cert("ca"), clock_),
              Errc::not_found, "not by the certificate's issuer");
  Bytes der = read_bytes(*g_pki / "crl/p1.crl");
  der[der.size() - 10] ^= 0x01;  // inside the signature value
  auto tampered = Crl::parse(der);
  ASSERT_TRUE(tampered.ok());
  expectError(check_crl(*tampered, user("good"), cert("ca"), clock_), Errc::bad_signature,
              "not signed");
  expectError(Crl::parse(Bytes{0x30, 0x01, 0x00}), Errc::invalid_input, "CRL");
}

TEST_F(VerifyTest, UrlsFromTheCertificate) {
  EXPECT_EQ(ocsp_urls(user("good")), std::vector<std::string>{"http://127.0.0.1:18101/"});
  EXPECT_EQ(crl_urls(user("held")), std::vector<std::string>{crl_url(2)});
}

// ---- the whole pipeline ----

TEST_F(VerifyTest, PipelineValidOnlineWithOcsp) {
  OpensslFetcher f;
  auto sig = openssl_sign("good", "login challenge 1234");
  auto r = verify_signed(sig, std::nullopt, online(f), clock_);
  expectVerdict(r, Verdict::valid);
  EXPECT_EQ(r.signature.state, CheckState::passed);
  EXPECT_EQ(r.chain.state, CheckState::passed) << r.chain.detail;
  EXPECT_EQ(r.path.size(), 3u);  // the CA certificate came from the CMS
  EXPECT_EQ(r.validity.state, CheckState::passed) << r.validity.detail;
  EXPECT_EQ(r.revocation.state, CheckState::passed) << r.revocation.detail;
  EXPECT_EQ(r.revocation_info.source, "ocsp");
  EXPECT_EQ(r.revocation_info.url, "http://127.0.0.1:18101/");
  EXPECT_TRUE(r.signing_time.has_value());
  EXPECT_EQ(f.posts, 1);
  EXPECT_EQ(f.gets, 0);
}

TEST_F(VerifyTest, PipelineRevokedAndSuspendedAreRefused) {
  OpensslFetcher f;
  auto r = verify_signed(openssl_sign("revoked", "x"), std::nullopt, online(f), clock_);
  expectVerdict(r, Verdict::refused, "revoked since");
  EXPECT_NE(r.summary.find("keyCompromise"), std::string::npos);
  EXPECT_EQ(r.revocation_info.status->status, CertStatus::revoked);
  auto h = verify_signed(openssl_sign("held", "x"), std::nullopt, online(f), clock_);
  expectVerdict(h, Verdict::refused, "suspended (certificateHold)");
  auto u = verify_signed(openssl_sign("unknown", "x"), std::nullopt, online(f), clock_);
  expectVerdict(u, Verdict::refused, "does not know this certificate");
}

TEST_F(VerifyTest, PipelineFallsBackToTheCdpCrlWhenOcspFails) {
  OpensslFetcher f;
  f.ocsp_down = true;
  f.crls[crl_url(1)] = *g_pki / "crl/p1.crl";
  auto r = verify_signed(openssl_sign("revoked", "x"), std::nullopt, online(f), clock_);
  expectVerdict(r, Verdict::refused, "revoked");
  EXPECT_EQ(r.revocation_info.source, "crl");
  EXPECT_EQ(r.revocation_info.url, crl_url(1));
  ASSERT_EQ(r.revocation_info.attempts.size(), 1u);
  EXPECT_NE(r.revocation_info.attempts[0].find("connection refused"), std::string::npos);
  // A bad OCSP answer (rogue responder) also falls back.
  OpensslFetcher g;
  g.rsigner = {"-rsigner", (*g_pki / "rogue.pem").string(), "-rkey",
               (*g_pki / "rogue.key.pem").string()};
  g.crls[crl_url(1)] = *g_pki / "crl/p1.crl";
  auto ok = verify_signed(openssl_sign("good", "x"), std::nullopt, online(g), clock_);
  expectVerdict(ok, Verdict::valid);
  EXPECT_EQ(ok.revocation_info.source, "crl");
}

TEST_F(VerifyTest, PipelineUnavailableWhenNothingAnswers) {
  OpensslFetcher f;
  f.ocsp_down = true;
  auto r = verify_signed(openssl_sign("good", "x"), std::nullopt, online(f), clock_);
  expectVerdict(r, Verdict::unavailable, "could not be determined");
  EXPECT_EQ(r.revocation_info.attempts.size(), 2u);
  EXPECT_NE(r.summary.find("HTTP 404"), std::string::npos);
}

TEST_F(VerifyTest, PipelineOffline) {
  VerifyOptions o;
  o.trust = trust();
  o.revocation = RevocationMode::offline;
  o.crls.push_back(load_crl(*g_pki / "crl/p2.crl"));
  // Only a CRL of another partition: the status is not known.
  auto r = verify_signed(openssl_sign("revoked", "x"), std::nullopt, o, clock_);
  expectVerdict(r, Verdict::unavailable, "no CRL given covers");
  o.crls.push_back(load_crl(*g_pki / "crl/p1.crl"));
  r = verify_signed(openssl_sign("revoked", "x"), std::nullopt, o, clock_);
  expectVerdict(r, Verdict::refused, "revoked");
  EXPECT_EQ(r.revocation_info.source, "offline-crl");
  auto good = verify_signed(openssl_sign("good", "x"), std::nullopt, o, clock_);
  expectVerdict(good, Verdict::valid);
  // An expired CRL is no answer.
  VerifyOptions stale;
  stale.trust = trust();
  stale.revocation = RevocationMode::offline;
  stale.crls = {load_crl(*g_pki / "crl/expired.crl")};
  expectVerdict(verify_signed(openssl_sign("good", "x"), std::nullopt, stale, clock_),
                Verdict::unavailable, "stale");
}

TEST_F(VerifyTest, PipelineChainFailures) {
  OpensslFetcher f;
  auto foreign = verify_signed(openssl_sign("foreign", "x"), std::nullopt, online(f), clock_);
  expectVerdict(foreign, Verdict::invalid);
  EXPECT_EQ(foreign.chain.state, CheckState::failed);
  EXPECT_EQ(foreign.revocation.state, CheckState::skipped);
  // Expired signer: refused.
  auto expired = verify_signed(openssl_sign("expired", "x"), std::nullopt, online(f), clock_);
  expectVerdict(expired, Verdict::refused, "expired");
  // Expired intermediate (given with untrusted): refused.
  auto o = online(f);
  o.untrusted = {cert("oldca")};
  auto old2 = verify_raw_signed(
      *sign_raw(*PrivateKey::from_pem(read_bytes(*g_pki / "users/oldca.key.pem")), Bytes{'x'}),
      Bytes{'x'}, user("oldca"), o, clock_);
  expectVerdict(old2, Verdict::refused, "depth 1");
}

TEST_F(VerifyTest, PipelineRefusesAKeyManagementCertificate) {
  OpensslFetcher f;
  auto key = PrivateKey::from_pem(read_bytes(*g_pki / "users/km.key.pem"));
  ASSERT_TRUE(key.ok());
  Bytes data = {'x'};
  auto r = verify_raw_signed(*sign_raw(*key, data), data, user("km"), online(f), clock_);
  expectVerdict(r, Verdict::invalid, "keyUsage does not allow signatures");
  EXPECT_EQ(r.validity.state, CheckState::failed);
}

TEST_F(VerifyTest, PipelinePurposePolicy) {
  OpensslFetcher f;
  auto o = online(f);
  auto general_sig = openssl_sign("good", "x");
  auto bank_sig = openssl_sign("bank", "x");
  o.purpose = RequiredPurpose::bank;
  expectVerdict(verify_signed(general_sig, std::nullopt, o, clock_), Verdict::valid);
  expectVerdict(verify_signed(bank_sig, std::nullopt, o, clock_), Verdict::valid);
  o.purpose = RequiredPurpose::general;
  expectVerdict(verify_signed(general_sig, std::nullopt, o, clock_), Verdict::valid);
  auto refused = verify_signed(bank_sig, std::nullopt, o, clock_);
  expectVerdict(refused, Verdict::refused, "a general-purpose (범용) certificate is required");
  EXPECT_EQ(refused.purpose.state, CheckState::failed);
}

TEST_F(VerifyTest, PipelineVidWithRFromFileOrFromTheSignature) {
  OpensslFetcher f;
  auto o = online(f);
  o.idn = normalize_idn("800101-1234567").value();
  o.random_num = hex_secret(read_text(*g_pki / "users/good.random"));
  auto sig = openssl_sign("good", "x");
  auto r = verify_signed(sig, std::nullopt, o, clock_);
  expectVerdict(r, Verdict::valid);
  EXPECT_EQ(r.vid.state, CheckState::passed) << r.vid.detail;
  EXPECT_EQ(r.random_source, "file");

  o.idn = normalize_idn("9001011234567").value();
  expectVerdict(verify_signed(sig, std::nullopt, o, clock_), Verdict::invalid, "VID mismatch");

  // R in the signature's unsigned attribute (dojang sign --include-random).
  o.idn = normalize_idn("8001011234567").value();
  o.random_num.reset();
  expectVerdict(verify_signed(sig, std::nullopt, o, clock_), Verdict::invalid, "no randomNum R");
  auto key = PrivateKey::from_pem(read_bytes(*g_pki / "users/good.key.pem"));
  ASSERT_TRUE(key.ok());
  SecretBytes rnum = hex_secret(read_text(*g_pki / "users/good.random"));
  CmsSignOptions so;
  so.random_num = &rnum;
  auto with_r = sign_cms(*key, user("good"), Bytes{'h', 'i'}, so, clock_);
  ASSERT_TRUE(with_r.ok()) << with_r.error().message;
  o.untrusted = {cert("ca")};  // sign_cms carries only the signer certificate
  auto rr = verify_signed(*with_r, std::nullopt, o, clock_);
  expectVerdict(rr, Verdict::valid);
  EXPECT_EQ(rr.random_source, "cms-attribute");
  // openssl sees the attribute as an unsigned attribute and still verifies the signature.
  TempDir t;
  write_bytes(t / "s", *with_r);
  auto printed = openssl({"cms", "-cmsout", "-print", "-inform", "DER", "-in", (t / "s").string()});
  EXPECT_NE(printed.out.find("1.2.410.200004.10.1.1.3"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("unsignedAttrs"), std::string::npos);
  dojang::testing::write_text(t / "bundle.pem",
                              read_text(*g_pki / "root.pem") + read_text(*g_pki / "ca.pem"));
  auto v =
      openssl({"cms", "-verify", "-binary", "-inform", "DER", "-in", (t / "s").string(), "-CAfile",
               (t / "bundle.pem").string(), "-purpose", "any", "-out", "/dev/null"});
  EXPECT_EQ(v.exit_code, 0) << describe(v);
}

TEST_F(VerifyTest, PipelineWithoutTrustChecksTheSignatureOnly) {
  auto r = verify_signed(openssl_sign("revoked", "x"), std::nullopt, VerifyOptions{}, clock_);
  expectVerdict(r, Verdict::valid, "NOT checked");
  EXPECT_EQ(r.chain.state, CheckState::skipped);
  EXPECT_EQ(r.revocation.state, CheckState::skipped);
}

TEST_F(VerifyTest, PipelineBadSignatureAndDetachedContent) {
  OpensslFetcher f;
  TempDir t;
  dojang::testing::write_text(t / "in", "transfer 100");
  auto r = openssl({"cms", "-sign", "-binary", "-md", "sha256", "-noattr", "-signer",
                    (*g_pki / "users/good.pem").string(), "-inkey",
                    (*g_pki / "users/good.key.pem").string(), "-in", (t / "in").string(),
                    "-outform", "DER", "-out", (t / "sig").string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto sig = read_bytes(t / "sig");
  Bytes content = {'t', 'r', 'a', 'n', 's', 'f', 'e', 'r', ' ', '1', '0', '0'};
  auto o = online(f);
  o.untrusted = {cert("ca")};
  auto ok = verify_signed(sig, ByteView(content), o, clock_);
  expectVerdict(ok, Verdict::valid);
  EXPECT_TRUE(ok.detached);
  EXPECT_FALSE(ok.signed_attributes);
  EXPECT_FALSE(ok.signing_time.has_value());
  content.back() = '9';
  auto bad = verify_signed(sig, ByteView(content), o, clock_);
  expectVerdict(bad, Verdict::invalid);
  EXPECT_EQ(bad.signature.state, CheckState::failed);
  EXPECT_EQ(f.posts, 1);  // nothing is fetched for a bad signature
  expectVerdict(verify_signed(Bytes{0x30, 0x00}, std::nullopt, o, clock_), Verdict::invalid);
}

}  // namespace
}  // namespace dojang::pki
