// Interop: the stock `openssl cmp` client (OpenSSL 3.0) against the real
// `dojangd serve` on a free loopback port, with a teller application.
#include <gtest/gtest.h>

#include <regex>

#include "dojangd_helpers.hpp"

namespace dojang::testing {
namespace {

class CmpInteropTest : public DojangdFixture {
 protected:
  void SetUp() override {
    write_text(tmp_ / "empty.cnf", "");
    init("rsa2048");
    enrol_hong();
  }
  std::pair<std::string, std::string> application() { return teller_application(); }
  RunResult openssl_cmp(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        "/usr/bin/openssl", "cmp",
        "-config",          (tmp_ / "empty.cnf").string(),
        "-server",          "127.0.0.1:" + std::to_string(port_) + "/pkix/"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
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
