// Interop: the stock `openssl cmp` client (OpenSSL 3.0) against the real
// `dojangd serve` on a free loopback port, with a teller application.
#include <gtest/gtest.h>

#include <regex>

#include "testing/testing.hpp"

namespace dojang::testing {
namespace {

class CmpInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (tmp_ / "data").string();
    pass_ = secret("pass", "operator passphrase 1");
    write_text(tmp_ / "empty.cnf", "");
    auto init =
        dojangd({"init", "--data", data_, "--passphrase-file", pass_, "--issuing-key", "rsa2048"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto enrol =
        dojangd({"bank", "enrol", "--data", data_, "--passphrase-file", pass_, "--customer", "hong",
                 "--name", "홍길동", "--idn-file", secret("idn", "800101-1234567"), "--phone",
                 "010-1234-5678", "--password-file", secret("lpw", "Bank!login-77")});
    ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
  }
  std::string secret(const std::string& name, const std::string& value) {
    auto p = tmp_ / name;
    write_text(p, value + "\n");
    return p.string();
  }
  RunResult dojangd(std::vector<std::string> args) {
    args.insert(args.begin(), bin_path("dojangd").string());
    return run(args);
  }
  std::unique_ptr<Background> serve() {
    auto bg = std::make_unique<Background>(std::vector<std::string>{
        bin_path("dojangd").string(), "serve", "--data", data_, "--passphrase-file", pass_,
        "--listen", "127.0.0.1:0", "--threads", "2"});
    std::string line = bg->wait_for_line("listening on");
    EXPECT_FALSE(line.empty()) << bg->out();
    port_ = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    return bg;
  }
  // A teller application: (reference, authorization code).
  std::pair<std::string, std::string> application() {
    auto r = dojangd(
        {"bank", "application", "--data", data_, "--passphrase-file", pass_, "--customer", "hong"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch ref, code;
    EXPECT_TRUE(std::regex_search(r.out, ref, std::regex("Reference number: +([0-9]{8})")))
        << r.out;
    EXPECT_TRUE(std::regex_search(r.out, code, std::regex("Authorization code: +([0-9A-Z-]{19})")))
        << r.out;
    return {ref.size() > 1 ? ref[1].str() : "", code.size() > 1 ? code[1].str() : ""};
  }
  RunResult openssl_cmp(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "/usr/bin/openssl", "cmp",
        "-config",          (tmp_ / "empty.cnf").string(),
        "-server",          "127.0.0.1:" + std::to_string(port_) + "/pkix/"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  TempDir tmp_;
  std::string data_, pass_;
  std::uint16_t port_ = 0;
};

TEST_F(CmpInteropTest, OpensslCmpIrGetsAVerifiableCertificate) {
  auto server = serve();
  auto [ref, code] = application();
  auto key = (tmp_ / "k.pem").string();
  ASSERT_EQ(run({"/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                 "rsa_keygen_bits:2048", "-out", key})
                .exit_code,
            0);
  auto cert = (tmp_ / "c.pem").string();
  auto r = openssl_cmp({"-cmd", "ir", "-ref", ref, "-secret", "pass:" + code, "-newkey", key,
                        "-subject", "/CN=x", "-trusted", data_ + "/root.pem", "-certout", cert});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto v = run({"/usr/bin/openssl", "verify", "-CAfile", data_ + "/root.pem", "-untrusted",
                data_ + "/chain.pem", cert});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto subj = run({"/usr/bin/openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt",
                   "RFC2253,-esc_msb"});
  EXPECT_NE(subj.out.find("CN=홍길동()"), std::string::npos) << subj.out;
  EXPECT_EQ(subj.out.find("CN=x"), std::string::npos) << subj.out;

  // The same reference number again: refused.
  // (The refusal cannot be protected with a code the CA did not verify:
  // -unprotected_errors lets openssl cmp show it.)
  auto again = openssl_cmp({"-cmd", "ir", "-ref", ref, "-secret", "pass:" + code,
                            "-unprotected_errors", "-newkey", key, "-subject", "/CN=x", "-trusted",
                            data_ + "/root.pem", "-certout", (tmp_ / "c2.pem").string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE((again.out + again.err).find("already used"), std::string::npos)
      << again.out << again.err;
  EXPECT_EQ(server->stop(SIGTERM), 0);
}

TEST_F(CmpInteropTest, OpensslCmpGenm) {
  auto server = serve();
  auto [ref, code] = application();
  auto r = openssl_cmp(
      {"-cmd", "genm", "-ref", ref, "-secret", "pass:" + code, "-infotype", "caProtEncCert"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("caProtEncCert"), std::string::npos) << r.out << r.err;
  auto plain = openssl_cmp({"-cmd", "genm", "-ref", ref, "-secret", "pass:" + code});
  EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  auto wrong =
      openssl_cmp({"-cmd", "genm", "-ref", ref, "-secret", "pass:WRONG", "-unprotected_errors"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE((wrong.out + wrong.err).find("wrong authorization code"), std::string::npos)
      << wrong.out << wrong.err;
  EXPECT_EQ(server->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace dojang::testing
