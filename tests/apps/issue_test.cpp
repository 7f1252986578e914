// `dojang issue` end to end against the real dojangd on a free loopback port:
// bank login, identity (IDN + SMS code read from the development outbox by
// --otp-command), application, genm, key and R on the device, EncryptedVID,
// ir/certConf, password, NPKI storage; and the teller path.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "dojangd_helpers.hpp"

namespace dojang::testing {
namespace {

constexpr const char* kCertPassword = "Seoul#River-92z";

class IssueTest : public DojangdFixture {
 protected:
  void SetUp() override {
    npki_ = (tmp_ / "NPKI").string();
    init("rsa2048");
    enrol_hong();
    server_ = serve();
    url_ = url();
    secret("cpw", kCertPassword);
  }
  RunResult dojang(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_path("dojang").string(), "--npki-dir", npki_});
    return run(args);
  }
  // Prints the newest SMS to hong's phone; the CLI takes its six-digit code.
  std::string otp_command(bool wrong = false) {
    if (wrong) return "echo 'your code: 000000'";
    return "'" + bin_path("dojangd").string() + "' bank outbox --data '" + data_ + "' --passphrase-file '" +
           pass_ + "' --phone 01012345678 | tail -n 1";
  }
  std::vector<std::string> bank_flags() {
    return {"issue",         "--server",    url_,
            "--trust",       data_ + "/root.pem",
            "--customer",    "hong",
            "--login-password-file", (tmp_ / "lpw").string(),
            "--idn-file",    (tmp_ / "idn").string(),
            "--otp-command", otp_command(),
            "--password-file", (tmp_ / "cpw").string()};
  }
  static nlohmann::json json_of(const std::string& s) { return nlohmann::json::parse(s, nullptr, false); }

  // The stored certificate chains to the root for the openssl CLI.
  void expectOpensslVerifies(const std::string& cert_der) {
    auto pem = (tmp_ / "issued.pem").string();
    auto conv = run({"/usr/bin/openssl", "x509", "-inform", "DER", "-in", cert_der, "-out", pem});
    ASSERT_EQ(conv.exit_code, 0) << conv.err;
    auto v = run({"/usr/bin/openssl", "verify", "-CAfile", data_ + "/root.pem", "-untrusted", data_ + "/chain.pem",
                  pem});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }

  std::string npki_, url_;
  std::unique_ptr<Background> server_;
};

// Needs nothing but the bank API: fails before any CMP exchange.
TEST_F(IssueTest, BankStepFailuresNameTheStepAndExitWithTheirCode) {
  auto flags = bank_flags();
  flags[8] = secret("bad-lpw", "Wrong!login-1");  // --login-password-file
  auto login = dojang(flags);
  EXPECT_EQ(login.exit_code, 3) << login.out << login.err;
  EXPECT_NE(login.err.find("dojang: bank login: "), std::string::npos) << login.err;
  EXPECT_NE(login.out.find("Logging in to the bank"), std::string::npos) << login.out;

  flags = bank_flags();
  flags[12] = otp_command(true);  // --otp-command
  flags.insert(flags.begin(), "--json");
  auto otp = dojang(flags);
  EXPECT_EQ(otp.exit_code, 3) << otp.out << otp.err;
  auto j = json_of(otp.out);
  EXPECT_EQ(j["ok"], false) << otp.out;
  EXPECT_EQ(j["step"], "identity verification") << otp.out;
  EXPECT_NE(otp.err.find("SMS code sent to 010-****-5678"), std::string::npos) << otp.err;
  EXPECT_EQ(otp.out.find("800101"), std::string::npos);

  auto none = run({bin_path("dojang").string(), "--npki-dir", npki_, "issue", "--server", url_, "--customer", "hong"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("--trust"), std::string::npos) << none.err;
}

// The issue's whole phone flow end to end against the real dojangd.
TEST_F(IssueTest, PhoneFlowPutsAWorkingCertificateWithTheRightVidInTheNpkiFolder) {
  auto flags = bank_flags();
  flags.insert(flags.begin(), "--json");
  flags.insert(flags.end(), {"--purpose", "bank"});
  auto r = dojang(flags);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json_of(r.out);
  EXPECT_EQ(j["ok"], true) << r.out;
  EXPECT_EQ(j["vid_sent"], true);
  EXPECT_EQ(j["vid_verified"], true);
  EXPECT_TRUE(std::regex_match(j["reference"].get<std::string>(), std::regex("[1-9][0-9]{7}")));
  for (const char* step : {"Logging in to the bank", "SMS code sent to 010-****-5678",
                           "Generating your key on this device (RSA-2048)",
                           "Requesting the certificate from the CA (CMP ir)", "Confirming", "Stored in "})
    EXPECT_NE(r.err.find(step), std::string::npos) << step << "\n" << r.err;
  std::string folder = j["folder"];
  EXPECT_EQ(folder.rfind(npki_, 0), 0u) << folder;
  EXPECT_NE(j["cn"].get<std::string>().find("홍길동"), std::string::npos) << r.out;

  // The wallet sees it, the key opens with the password, the VID matches the IDN.
  auto list = dojang({"--json", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(json_of(list.out)["certificates"].size(), 1u) << list.out;
  auto vid = dojang({"vid", j["serial"], "--idn-file", (tmp_ / "idn").string(), "--password-file",
                     (tmp_ / "cpw").string()});
  EXPECT_EQ(vid.exit_code, 0) << vid.out << vid.err;
  expectOpensslVerifies(folder + "/signCert.der");
  const auto first_cert = read_bytes(fs::path(folder) / "signCert.der");
  auto sign = dojang({"sign", j["serial"], "--in", (tmp_ / "idn").string(), "--out", (tmp_ / "sig.p7s").string(),
                      "--password-file", (tmp_ / "cpw").string()});
  EXPECT_EQ(sign.exit_code, 0) << sign.err;

  // Going through the bank steps again opens a new application and gives a
  // second certificate for the same subject: kept out unless --replace.
  auto again = dojang(bank_flags());
  EXPECT_EQ(again.exit_code, 4) << again.out << again.err;
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_EQ(read_bytes(fs::path(folder) / "signCert.der"), first_cert);
  auto replace_flags = bank_flags();
  replace_flags.push_back("--replace");
  auto replaced = dojang(replace_flags);
  EXPECT_EQ(replaced.exit_code, 0) << replaced.out << replaced.err;
  EXPECT_NE(read_bytes(fs::path(folder) / "signCert.der"), first_cert);
  auto list2 = dojang({"--json", "list"});
  EXPECT_EQ(json_of(list2.out)["certificates"].size(), 1u) << list2.out;
}

// The teller path.
TEST_F(IssueTest, TellerPathWithReferenceAndAuthorizationCode) {
  auto app = dojangd({"bank", "application", "--data", data_, "--passphrase-file", pass_, "--customer", "hong",
                      "--purpose", "general"});
  ASSERT_EQ(app.exit_code, 0) << app.err;
  std::smatch ref, code;
  ASSERT_TRUE(std::regex_search(app.out, ref, std::regex("Reference number: +([0-9]{8})")));
  ASSERT_TRUE(std::regex_search(app.out, code, std::regex("Authorization code: +([0-9A-Z-]{19})")));
  auto r = dojang({"--json", "issue", "--server", url_, "--trust", data_ + "/root.pem", "--ref", ref[1].str(),
                   "--auth-code-file", secret("auth", code[1].str()), "--idn-file", (tmp_ / "idn").string(),
                   "--password-file", (tmp_ / "cpw").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json_of(r.out);
  EXPECT_EQ(j["vid_verified"], true) << r.out;
  expectOpensslVerifies(j["folder"].get<std::string>() + "/signCert.der");

  // Used once: the same reference number again is refused by the CA (exit 4).
  auto reuse = dojang({"issue", "--server", url_, "--trust", data_ + "/root.pem", "--ref", ref[1].str(),
                       "--auth-code-file", (tmp_ / "auth").string(), "--password-file", (tmp_ / "cpw").string()});
  EXPECT_EQ(reuse.exit_code, 4) << reuse.err;
}

// Trust by the root's fingerprint.
TEST_F(IssueTest, PinnedRootFingerprintInsteadOfTheRootFile) {
  auto fp = run({"/usr/bin/openssl", "x509", "-in", data_ + "/root.pem", "-noout", "-fingerprint", "-sha256"});
  ASSERT_EQ(fp.exit_code, 0) << fp.err;
  std::string fingerprint = fp.out.substr(fp.out.find('=') + 1);
  while (!fingerprint.empty() && fingerprint.back() == '\n') fingerprint.pop_back();
  auto flags = bank_flags();
  flags[3] = "--trust-fingerprint";
  flags[4] = fingerprint;
  auto r = dojang(flags);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  flags[4] = std::string(64, '0');
  auto wrong = dojang(flags);
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("pinned fingerprint"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace dojang::testing
