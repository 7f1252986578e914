// The demo relying party end to end: `dojang rp-demo serve` on a free
// loopback port, `dojang login` from a wallet, revocation from a CRL made by
// `openssl ca -revoke` / `-gencrl` over the checked-in test CA.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

class RpDemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    npki_ = tmp_ / "NPKI";
    for (const char* c :
         {"yessign-general", "yessign-bank", "expired", "signgate-old", "signkorea-pbkdf2"})
      install_credential(npki_, c);
    make_crl();
  }

  // The test CA's CRL with yessign-bank revoked (keyCompromise) and
  // signkorea-pbkdf2 suspended (certificateHold), by openssl ca.
  void make_crl() {
    auto db = tmp_ / "cadb";
    fs::create_directories(db);
    write_text(db / "index.txt", "");
    write_text(db / "crlnumber", "01\n");
    write_text(db / "ca.cnf",
               "[ca]\ndefault_ca = d\n[d]\ndatabase = " + (db / "index.txt").string() +
                   "\ncrlnumber = " + (db / "crlnumber").string() +
                   "\ncertificate = " + data_path("pki/ca.pem").string() +
                   "\nprivate_key = " + data_path("pki/ca.key.pem").string() +
                   "\ndefault_md = sha256\ndefault_crl_days = 7\n");
    std::vector<std::string> env = {"OPENSSL_CONF=/dev/null"};
    auto revoke = [&](const std::string& cred, std::vector<std::string> how) {
      auto pem = tmp_ / (cred + ".pem");
      ASSERT_EQ(
          run({"/usr/bin/openssl", "x509", "-inform", "DER", "-in",
               data_path("pki/cred/" + cred + "/signCert.der").string(), "-out", pem.string()})
              .exit_code,
          0);
      std::vector<std::string> argv = {"/usr/bin/openssl",       "ca",      "-config",
                                       (db / "ca.cnf").string(), "-revoke", pem.string()};
      argv.insert(argv.end(), how.begin(), how.end());
      auto r = run(argv, {}, env);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    revoke("yessign-bank", {"-crl_reason", "keyCompromise"});
    revoke("signkorea-pbkdf2", {"-crl_hold", "holdInstructionNone"});
    auto r = run({"/usr/bin/openssl", "ca", "-config", (db / "ca.cnf").string(), "-gencrl", "-out",
                  (tmp_ / "ca.crl").string()},
                 {}, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Starts the demo RP (offline revocation from our CRL); returns its URL.
  std::string serve(std::unique_ptr<Background>& bg, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {bin_path("dojang").string(),
                                     "rp-demo",
                                     "serve",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--trust",
                                     data_path("pki/root.pem").string(),
                                     "--untrusted",
                                     data_path("pki/ca.pem").string(),
                                     "--offline",
                                     "--crl",
                                     (tmp_ / "ca.crl").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    bg = std::make_unique<Background>(argv);
    std::string line = bg->wait_for_line("listening on");
    EXPECT_FALSE(line.empty()) << bg->out();
    auto at = line.find("http://");
    auto end = line.find(' ', at);
    return line.substr(at, end - at);
  }
  std::uint16_t port_of(const std::string& url) {
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
  }

  RunResult login(const std::string& url, const std::string& cred,
                  std::vector<std::string> extra = {}) {
    auto e = read_expected(data_path("pki/cred/" + cred + "/expected.txt"));
    auto pw = tmp_ / ("pw-" + cred);
    write_text(pw, e["password"] + "\n");
    std::vector<std::string> argv = {bin_path("dojang").string(),
                                     "--npki-dir",
                                     npki_.string(),
                                     "login",
                                     "0x" + e["serial_hex"],
                                     "--server",
                                     url,
                                     "--password-file",
                                     pw.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  }
  void expectExit(const RunResult& r, int code, const std::string& needle) {
    EXPECT_EQ(r.exit_code, code) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_NE((r.out + r.err).find(needle), std::string::npos) << r.out << r.err;
  }

  TempDir tmp_;
  fs::path npki_;
};

TEST_F(RpDemoTest, AcceptsAValidSignatureAndRefusesRevokedSuspendedAndExpiredOnes) {
  std::unique_ptr<Background> rp;
  auto url = serve(rp);
  expectExit(login(url, "yessign-general"), 0, "Logged in as 홍길동()");
  expectExit(login(url, "yessign-bank"), 4, "revoked since");
  expectExit(login(url, "yessign-bank"), 4, "keyCompromise");
  expectExit(login(url, "expired"), 4, "expired");
  expectExit(login(url, "signkorea-pbkdf2"), 4, "suspended (certificateHold)");
}

TEST_F(RpDemoTest, RefusesTheWrongPersonByVid) {
  auto idn = tmp_ / "account.idn";
  write_text(idn, read_expected(data_path("pki/cred/yessign-general/expected.txt"))["idn"] + "\n");
  std::unique_ptr<Background> rp;
  auto url = serve(rp, {"--idn-file", idn.string(), "--require-purpose", "bank"});
  expectExit(login(url, "yessign-general", {"--include-random"}), 0, "Logged in");
  expectExit(login(url, "signgate-old", {"--include-random"}), 3, "VID mismatch");
  expectExit(login(url, "yessign-general"), 3, "no randomNum R");
}

TEST_F(RpDemoTest, ChallengesAreSingleUseAndTheApiAnswersJson) {
  std::unique_ptr<Background> rp;
  auto url = serve(rp);
  auto port = port_of(url);
  auto ch = http_request(port, "GET", "/challenge");
  ASSERT_EQ(ch.status, 200);
  auto challenge = nlohmann::json::parse(ch.body)["challenge"].get<std::string>();
  EXPECT_EQ(challenge.size(), 64u);
  // Sign the challenge with dojang sign (CMS, attached) and post it twice.
  auto e = read_expected(data_path("pki/cred/yessign-general/expected.txt"));
  auto pw = tmp_ / "pw";
  write_text(pw, e["password"] + "\n");
  auto in = tmp_ / "challenge";
  write_text(in, challenge);
  auto sig = tmp_ / "challenge.p7s";
  ASSERT_EQ(run({bin_path("dojang").string(), "--npki-dir", npki_.string(), "sign",
                 "0x" + e["serial_hex"], "--in", in.string(), "--out", sig.string(),
                 "--password-file", pw.string()})
                .exit_code,
            0);
  auto der = read_bytes(sig);
  std::string body(der.begin(), der.end());
  auto first = http_request(port, "POST", "/login", body);
  EXPECT_EQ(first.status, 200) << first.body;
  auto j = nlohmann::json::parse(first.body);
  EXPECT_EQ(j["verdict"], "valid");
  EXPECT_EQ(j["checks"]["revocation"]["status"], "ok");
  auto replay = http_request(port, "POST", "/login", body);
  EXPECT_EQ(replay.status, 400);
  EXPECT_NE(replay.body.find("already used"), std::string::npos) << replay.body;
  EXPECT_EQ(http_request(port, "POST", "/login", "garbage").status, 400);
  EXPECT_EQ(http_request(port, "GET", "/nowhere").status, 404);
  EXPECT_EQ(http_request(port, "POST", "/challenge").status, 405);
}

TEST_F(RpDemoTest, RefusesNonLoopbackListenAndNeedsTrust) {
  auto r = run({bin_path("dojang").string(), "rp-demo", "serve", "--listen", "0.0.0.0:0", "--trust",
                data_path("pki/root.pem").string()});
  expectExit(r, 2, "loopback");
  expectExit(run({bin_path("dojang").string(), "rp-demo", "serve"}), 2, "--trust");
}

}  // namespace
}  // namespace dojang::testing
