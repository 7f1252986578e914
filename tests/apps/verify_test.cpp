// `dojang verify` as a relying party runs it: against a real `openssl ocsp
// -port` responder on a free loopback port, with CRLs from `openssl ca
// -gencrl`, over a test PKI made by tests/data/verify/mkpki.sh.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

// True once `ss -ltn` lists a listener on port. (Never probe openssl ocsp by
// connecting: a connection that sends nothing wedges it.)
bool wait_listening(std::uint16_t port, int timeout_seconds = 20) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  const std::string needle = ":" + std::to_string(port) + " ";
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = run({"/usr/bin/ss", "-ltn"});
    if (r.out.find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

struct Pki {
  TempDir dir;
  std::uint16_t ocsp_port = 0;
  std::uint16_t crl_port = 0;
  std::unique_ptr<Background> responder;
  fs::path operator/(const std::string& rel) const { return dir.path() / rel; }
};
Pki* g_pki = nullptr;

class VerifyCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_pki != nullptr) return;
    g_pki = new Pki();
    g_pki->ocsp_port = free_port();
    g_pki->crl_port = free_port();
    auto r = run({data_path("verify/mkpki.sh").string(), g_pki->dir.path().string(),
                  std::to_string(g_pki->ocsp_port), std::to_string(g_pki->crl_port)},
                 {}, {std::string("MKPKI_KEY_CACHE=") + DOJANG_BIN_DIR + "/../test-cache/mkpki-keys"},
                 300);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    start_responder();
  }
  static void TearDownTestSuite() {
    delete g_pki;
    g_pki = nullptr;
  }

  // openssl ocsp -port: the independent responder, delegated signer, nextUpdate in 5 minutes.
  static void start_responder() {
    const Pki& p = *g_pki;
    g_pki->responder = std::make_unique<Background>(std::vector<std::string>{
        "/usr/bin/openssl", "ocsp", "-port", std::to_string(p.ocsp_port), "-index",
        (p / "index.txt").string(), "-CA", (p / "ca.pem").string(), "-rsigner",
        (p / "ocsp.pem").string(), "-rkey", (p / "ocsp.key.pem").string(), "-nmin", "5"});
    ASSERT_TRUE(wait_listening(p.ocsp_port)) << "openssl ocsp did not start";
  }
  static void stop_responder() {
    g_pki->responder.reset();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           run({"/usr/bin/ss", "-ltn"}).out.find(":" + std::to_string(g_pki->ocsp_port) + " ") !=
               std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  std::string path(const std::string& rel) { return (*g_pki / rel).string(); }

  RunResult dojang(std::vector<std::string> args) {
    std::vector<std::string> argv = {bin_path("dojang").string(), "--npki-dir",
                                     (tmp_ / "NPKI").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  nlohmann::json json_of(const RunResult& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  void expectExit(const RunResult& r, int code) {
    EXPECT_EQ(r.exit_code, code) << "stdout: " << r.out << "\nstderr: " << r.err;
  }
  void expectOut(const RunResult& r, const std::string& needle) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << r.out << r.err;
  }

  // A CMS SignedData by `openssl cms -sign` with the user's key and the CA certificate in it.
  std::string sign(const std::string& user, const std::string& content = "로그인 challenge 42") {
    auto in = tmp_ / (user + ".txt");
    write_text(in, content);
    auto out = tmp_ / (user + ".p7s");
    auto r = run({"/usr/bin/openssl", "cms", "-sign", "-binary", "-nodetach", "-md", "sha256",
                  "-signer", path("users/" + user + ".pem"), "-inkey",
                  path("users/" + user + ".key.pem"), "-certfile", path("ca.pem"), "-in",
                  in.string(), "-outform", "DER", "-out", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out.string();
  }
  RunResult verify(const std::string& sig, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", "--in", sig, "--trust", path("root.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    return dojang(args);
  }
  RunResult verify_json(const std::string& sig, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--json", "verify", "--in", sig, "--trust", path("root.pem")};
    args.insert(args.end(), extra.begin(), extra.end());
    return dojang(args);
  }

  TempDir tmp_;
};

TEST_F(VerifyCliTest, OnlineOcspGoodRevokedSuspendedUnknown) {
  auto good = verify(sign("good"));
  expectExit(good, 0);
  expectOut(good, "Verdict:     VALID");
  expectOut(good, "Revocation:  ok - not revoked (ocsp http://127.0.0.1:" +
                      std::to_string(g_pki->ocsp_port));
  expectOut(good, "Chain:       ok - trusted:");

  auto j = json_of(verify_json(sign("revoked")));
  EXPECT_EQ(j["verdict"], "refused");
  EXPECT_EQ(j["revocation"]["source"], "ocsp");
  EXPECT_EQ(j["revocation"]["status"], "revoked");
  EXPECT_EQ(j["revocation"]["reason"], "keyCompromise");
  EXPECT_TRUE(j["revocation"]["revoked_at"].is_string());
  EXPECT_EQ(j["checks"]["revocation"]["status"], "failed");
  expectExit(verify(sign("revoked")), 4);

  auto held = verify(sign("held"));
  expectExit(held, 4);
  expectOut(held, "suspended (certificateHold)");

  auto unknown = verify(sign("unknown"));
  expectExit(unknown, 4);
  expectOut(unknown, "does not know this certificate");
}

TEST_F(VerifyCliTest, UnreachableOcspAndCrlGiveExitFive) {
  auto sig = sign("good");
  stop_responder();
  auto r = verify(sig, {"--timeout", "5"});
  start_responder();
  expectExit(r, 5);
  expectOut(r, "UNAVAILABLE");
  expectOut(r, "OCSP http://127.0.0.1:" + std::to_string(g_pki->ocsp_port));
  expectOut(r, "CRL http://127.0.0.1:" + std::to_string(g_pki->crl_port) + "/crl/p1.crl");
  // Given a CRL, the CLI falls back to it when OCSP cannot answer.
  stop_responder();
  auto with_crl = verify_json(sign("revoked"), {"--crl", path("crl/p1.crl")});
  start_responder();
  expectExit(with_crl, 4);
  auto j = json_of(with_crl);
  EXPECT_EQ(j["revocation"]["source"], "crl");
  EXPECT_EQ(j["revocation"]["attempts"].size(), 1u);
}

TEST_F(VerifyCliTest, OfflineWithGivenCrls) {
  auto revoked = verify_json(sign("revoked"), {"--offline", "--crl", path("crl/p1.crl")});
  expectExit(revoked, 4);
  auto j = json_of(revoked);
  EXPECT_EQ(j["revocation"]["source"], "offline-crl");
  EXPECT_EQ(j["revocation"]["reason"], "keyCompromise");
  expectExit(verify(sign("good"), {"--offline", "--crl", path("crl/p1.crl")}), 0);
  // Partition 2's CRL says nothing about a partition 1 certificate.
  auto other = verify(sign("revoked"), {"--offline", "--crl", path("crl/p2.crl")});
  expectExit(other, 5);
  expectOut(other, "no CRL given covers the certificate");
  // The full CRL covers every partition; both given: either may answer.
  expectExit(verify(sign("held"), {"--offline", "--crl", path("crl/full.crl")}), 4);
  expectExit(verify(sign("bank"), {"--offline", "--crl", path("crl/p1.crl"), path("crl/p2.crl")}),
             0);
  auto expired = verify(sign("good"), {"--offline", "--crl", path("crl/expired.crl")});
  expectExit(expired, 5);
  expectOut(expired, "stale");
  // openssl verify agrees on the partition CRL.
  auto ov =
      run({"/usr/bin/openssl", "verify", "-crl_check", "-CAfile", path("root.pem"), "-untrusted",
           path("ca.pem"), "-CRLfile", path("crl/p1.crl"), path("users/revoked.pem")});
  EXPECT_NE(ov.exit_code, 0);
  EXPECT_NE((ov.out + ov.err).find("revoked"), std::string::npos) << ov.out << ov.err;
  // Usage errors.
  expectExit(dojang({"verify", "--in", sign("good"), "--offline"}), 2);
  expectExit(verify(sign("good"), {"--offline", "--crl", path("users/good.pem")}), 3);
}

TEST_F(VerifyCliTest, PurposePolicy) {
  auto bank_sig = sign("bank");
  auto general_sig = sign("good");
  expectExit(verify(bank_sig, {"--require-purpose", "bank"}), 0);
  expectExit(verify(general_sig, {"--require-purpose", "bank"}), 0);
  expectExit(verify(general_sig, {"--require-purpose", "general"}), 0);
  auto refused = verify(bank_sig, {"--require-purpose", "general"});
  expectExit(refused, 4);
  expectOut(refused, "a general-purpose (범용) certificate is required");
  expectExit(verify(bank_sig, {"--require-purpose", "nonsense"}), 2);
}

TEST_F(VerifyCliTest, VidMatchAndMismatch) {
  auto sig = sign("good");
  auto r = verify(
      sig, {"--idn-file", path("users/good.idn"), "--random-file", path("users/good.random")});
  expectExit(r, 0);
  expectOut(r, "VID:         ok - the certificate belongs to the person with this IDN");
  auto wrong_idn = tmp_ / "wrong.idn";
  write_text(wrong_idn, "900101-1234567\n");
  auto mismatch =
      verify(sig, {"--idn-file", wrong_idn.string(), "--random-file", path("users/good.random")});
  expectExit(mismatch, 3);
  expectOut(mismatch, "VID mismatch");
  // The R of another certificate does not fit either.
  expectExit(verify(sig, {"--idn-file", path("users/good.idn"), "--random-file",
                          path("users/bank.random")}),
             3);
  auto no_r = verify(sig, {"--idn-file", path("users/good.idn")});
  expectExit(no_r, 3);
  expectOut(no_r, "no randomNum R");
}

TEST_F(VerifyCliTest, ChainProblemsAndNoTrust) {
  auto foreign = verify(sign("foreign"));
  expectExit(foreign, 3);
  expectOut(foreign, "Chain:       failed");
  auto expired = verify(sign("expired"));
  expectExit(expired, 4);
  expectOut(expired, "expired");
  // Raw PKCS#1 with an intermediate that expired in 2021.
  auto data = tmp_ / "challenge";
  write_text(data, "raw challenge");
  auto raw = tmp_ / "raw.sig";
  ASSERT_EQ(run({"/usr/bin/openssl", "dgst", "-sha256", "-sign", path("users/oldca.key.pem"),
                 "-out", raw.string(), data.string()})
                .exit_code,
            0);
  auto old = verify(raw.string(), {"--format", "raw", "--content", data.string(), "--cert",
                                   path("users/oldca.pem"), "--untrusted", path("oldca.pem")});
  expectExit(old, 4);
  expectOut(old, "depth 1");
  // Without --trust: the signature only, and it says so.
  auto bare = dojang({"verify", "--in", sign("revoked")});
  expectExit(bare, 0);
  expectOut(bare, "Not checked here: certificate chain and revocation");
  auto bare_json = json_of(dojang({"--json", "verify", "--in", sign("revoked")}));
  EXPECT_EQ(bare_json["checks_not_done"], nlohmann::json::array({"chain", "revocation"}));
  // Corrupt input.
  auto junk = tmp_ / "junk.p7s";
  write_text(junk, "not a signature");
  expectExit(verify(junk.string()), 3);
}

TEST_F(VerifyCliTest, SignIncludeRandomLetsTheRelyingPartyCheckTheVid) {
  auto npki = tmp_ / "NPKI";
  install_credential(npki, "yessign-general");
  auto e = read_expected(data_path("pki/cred/yessign-general/expected.txt"));
  auto pw = tmp_ / "pw";
  write_text(pw, e["password"] + "\n");
  auto idn = tmp_ / "idn";
  write_text(idn, e["idn"] + "\n");
  auto doc = tmp_ / "doc";
  write_text(doc, "이체 10,000원");
  auto sig = tmp_ / "doc.p7s";
  expectExit(dojang({"sign", "길동", "--in", doc.string(), "--out", sig.string(),
                     "--include-random", "--password-file", pw.string()}),
             0);
  auto r = dojang({"--json", "verify", "--in", sig.string(), "--idn-file", idn.string()});
  expectExit(r, 0);
  auto j = json_of(r);
  EXPECT_EQ(j["checks"]["vid"]["status"], "ok");
  EXPECT_EQ(j["vid_random_source"], "cms-attribute");
  // Without --include-random nothing carries R.
  auto plain = tmp_ / "plain.p7s";
  expectExit(dojang({"sign", "길동", "--in", doc.string(), "--out", plain.string(),
                     "--password-file", pw.string()}),
             0);
  expectExit(dojang({"verify", "--in", plain.string(), "--idn-file", idn.string()}), 3);
  expectExit(dojang({"sign", "길동", "--format", "raw", "--in", doc.string(), "--out",
                     plain.string(), "--include-random", "--password-file", pw.string()}),
             2);
}

}  // namespace
}  // namespace dojang::testing
