#include "dojang/pki/certificate.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <map>
#include <optional>

#include "pki/certinfo_testdata.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

using dojang::testing::data_path;
using dojang::testing::from_hex;
using dojang::testing::read_bytes;
using dojang::testing::TempDir;
using dojang::testing::to_hex;
using test::cred_path;
using test::expected_for;
using test::run_openssl;

TimePoint from_epoch(const std::string& s) {
  return TimePoint(std::chrono::seconds(std::stoll(s)));
}

// openssl prints RFC 2253 names with uppercase short names ("CN=..,OU=.."); NPKI
// folder names, and Dojang, use lowercase ones.
std::string lower_types(const std::string& dn) {
  std::string out;
  bool in_type = true;
  for (size_t i = 0; i < dn.size(); ++i) {
    char c = dn[i];
    if (c == '\\' && i + 1 < dn.size()) {
      out += c;
      out += dn[++i];
      continue;
    }
    if (in_type) {
      if (c == '=') in_type = false;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      if (c == ',' || c == '+') in_type = true;
      out += c;
    }
  }
  return out;
}

struct PolicyExpectation {
  Purpose purpose;
  const char* ca;
  HolderKind holder;
};

// What each credential's policy OID (chosen by gen.sh) must be looked up as.
const std::map<std::string, PolicyExpectation>& policy_expectations() {
  static const std::map<std::string, PolicyExpectation> m = {
      {"yessign-general", {Purpose::general, "yessign", HolderKind::personal}},
      {"yessign-bank", {Purpose::bank_insurance, "yessign", HolderKind::personal}},
      {"signgate-old", {Purpose::general, "KICA signGATE", HolderKind::personal}},
      {"signkorea-pbkdf2", {Purpose::general, "SignKorea", HolderKind::personal}},
      {"crosscert-pbes2", {Purpose::general, "CrossCert", HolderKind::personal}},
      {"tradesign-pbes2", {Purpose::general, "TradeSign", HolderKind::personal}},
      {"aria", {Purpose::general, "yessign", HolderKind::personal}},
      {"aes-openssl", {Purpose::general, "yessign", HolderKind::personal}},
      {"seed-openssl", {Purpose::general, "yessign", HolderKind::personal}},
      {"norandom", {Purpose::general, "yessign", HolderKind::personal}},
      {"corporate", {Purpose::general, "SignKorea", HolderKind::corporate}},
      {"expired", {Purpose::general, "yessign", HolderKind::personal}},
      {"unknown-policy", {Purpose::unknown, "", HolderKind::unknown}},
  };
  return m;
}

class CertificateInfoTest : public ::testing::TestWithParam<std::string> {
 protected:
  static Certificate load(const std::string& name) {
    auto c = Certificate::from_der(read_bytes(cred_path(name, "signCert.der")));
    EXPECT_TRUE(c.ok()) << name << ": " << c.error().message;
    return std::move(c).value();
  }

  void expectInfoMatches(const std::string& name) {
    auto want = expected_for(name);
    Certificate cert = load(name);
    auto info = cert.info();
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->subject, lower_types(want.at("subject")));
    EXPECT_EQ(info->issuer, lower_types(want.at("issuer")));
    EXPECT_EQ(info->cn, want.at("cn"));
    EXPECT_EQ(info->serial_hex, want.at("serial_hex"));
    EXPECT_EQ(info->serial_dec, want.at("serial_dec"));
    EXPECT_EQ(info->not_before, from_epoch(want.at("not_before")));
    EXPECT_EQ(info->not_after, from_epoch(want.at("not_after")));
    EXPECT_EQ(info->key_algorithm, "RSA-" + want.at("rsa_bits"));
    EXPECT_EQ(info->signature_algorithm, "sha256WithRSAEncryption");

    if (want.at("has_san") == "yes") {
      ASSERT_TRUE(info->real_name.has_value());
      EXPECT_EQ(*info->real_name, want.at("real_name"));
      ASSERT_TRUE(info->vid.has_value());
      EXPECT_EQ(to_hex(info->vid->virtual_id), want.at("vid"));
      EXPECT_EQ(info->vid->hash_alg, want.at("vid_hash"));
      EXPECT_EQ(info->vid->hash_alg_oid,
                want.at("vid_hash") == "sha1" ? "1.3.14.3.2.26" : "2.16.840.1.101.3.4.2.1");
    } else {
      EXPECT_FALSE(info->real_name.has_value());
      EXPECT_FALSE(info->vid.has_value());
    }

    ASSERT_EQ(info->policies.size(), 1u);
    const PolicyInfo& p = info->policies[0];
    EXPECT_EQ(p.oid, want.at("policy_oid"));
    const PolicyExpectation& e = policy_expectations().at(name);
    EXPECT_EQ(p.purpose, e.purpose) << purpose_name(p.purpose);
    EXPECT_EQ(p.ca, e.ca);
    EXPECT_EQ(p.holder, e.holder);
    if (e.purpose == Purpose::unknown) {
      EXPECT_EQ(p.label, "unknown policy " + want.at("policy_oid"));
    }
  }
};

TEST_P(CertificateInfoTest, InfoMatchesOpensslKnownAnswers) {
  expectInfoMatches(GetParam());
}

INSTANTIATE_TEST_SUITE_P(Credentials, CertificateInfoTest,
                         ::testing::ValuesIn(test::credential_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(CertificateInfo, CorporateBmpStringCnIsDecodedToUtf8) {
  auto want = expected_for("corporate");
  ASSERT_EQ(want.at("cn_type"), "BMPSTRING");  // the point of this credential
  auto cert = Certificate::from_der(read_bytes(cred_path("corporate", "signCert.der")));
  ASSERT_TRUE(cert.ok());
  auto info = cert->info();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->cn, "(주)도장테스트()0012345678901234");
  EXPECT_EQ(info->subject,
            "cn=(주)도장테스트()0012345678901234,ou=corporation4EC,o=SignKorea,c=kr");
  ASSERT_EQ(info->policies.size(), 1u);
  EXPECT_EQ(info->policies[0].holder, HolderKind::corporate);
  EXPECT_EQ(info->policies[0].label, "SignKorea corporate general-purpose (범용)");
}

TEST(CertificateInfo, SubjectIsTheNpkiFolderName) {
  auto cert = Certificate::from_der(read_bytes(cred_path("yessign-general", "signCert.der")));
  ASSERT_TRUE(cert.ok());
  auto info = cert->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject, "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=yessign,c=kr");
  EXPECT_EQ(info->cn, "홍길동()0012345678901234");
  ASSERT_TRUE(info->real_name.has_value());
  EXPECT_EQ(*info->real_name, "홍길동");
}

TEST(CertificateInfo, HighBitSerialIsPositiveWithoutLeadingZeros) {
  auto want = expected_for("yessign-bank");  // gen.sh sets the serial's top bit here
  auto cert = Certificate::from_der(read_bytes(cred_path("yessign-bank", "signCert.der")));
  ASSERT_TRUE(cert.ok());
  auto info = cert->info();
  ASSERT_TRUE(info.ok());
  ASSERT_GE(info->serial_hex.size(), 2u);
  EXPECT_GE(std::stoi(info->serial_hex.substr(0, 1), nullptr, 16), 8);
  EXPECT_EQ(info->serial_hex, want.at("serial_hex"));
}

// ---------------------------------------------------------------------------
// Validity against a fake clock.

class CertificateValidityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    want_ = expected_for("expired");
    auto c = Certificate::from_der(read_bytes(cred_path("expired", "signCert.der")));
    ASSERT_TRUE(c.ok()) << c.error().message;
    cert_.emplace(std::move(c).value());
    not_after_ = from_epoch(want_.at("not_after"));
  }

  void expectDaysLeft(TimePoint now, long days, bool expired) {
    FakeClock clock(now);
    EXPECT_EQ(cert_->days_left(clock), days);
    EXPECT_EQ(cert_->expired(clock), expired);
  }

  std::map<std::string, std::string> want_;
  std::optional<Certificate> cert_;
  TimePoint not_after_;
};

TEST_F(CertificateValidityTest, CountsWholeDaysUntilNotAfter) {
  using std::chrono::hours;
  using std::chrono::seconds;
  expectDaysLeft(not_after_ - hours(24 * 30), 30, false);
  expectDaysLeft(not_after_ - hours(24 * 30) + seconds(1), 29, false);
  expectDaysLeft(not_after_ - seconds(1), 0, false);
  expectDaysLeft(not_after_, 0, false);  // notAfter itself is still valid (RFC 5280)
  expectDaysLeft(not_after_ + seconds(1), -1, true);
  expectDaysLeft(not_after_ + hours(24 * 400), -400, true);
}

TEST_F(CertificateValidityTest, ExpiredCredentialIsExpiredNow) {
  EXPECT_EQ(want_.at("expired"), "yes");
  EXPECT_TRUE(cert_->expired(SystemClock::instance()));
  EXPECT_LT(cert_->days_left(SystemClock::instance()), 0);
  // and was valid in the middle of its year
  FakeClock mid(from_epoch(want_.at("not_before")) + std::chrono::hours(24 * 180));
  EXPECT_FALSE(cert_->expired(mid));
  EXPECT_GT(cert_->days_left(mid), 180);
}

// ---------------------------------------------------------------------------
// Malformed input.

TEST(CertificateTest, RejectsEmptyInput) {
  auto c = Certificate::from_der({});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::invalid_input);
}

TEST(CertificateTest, RejectsGarbage) {
  std::vector<std::uint8_t> junk(100, 0x42);
  auto c = Certificate::from_der(junk);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::invalid_input);
}

TEST(CertificateTest, RejectsBadCertificateFiles) {
  for (const char* f : {"truncated-cert.der", "garbage-cert.der"}) {
    auto c = Certificate::from_der(read_bytes(data_path(std::string("pki/bad/") + f)));
    ASSERT_FALSE(c.ok()) << f;
    EXPECT_EQ(c.error().code, Errc::invalid_input) << f;
    EXPECT_FALSE(c.error().message.empty());
  }
}

TEST(CertificateTest, RejectsTrailingBytes) {
  auto der = read_bytes(cred_path("yessign-general", "signCert.der"));
  der.push_back(0);
  auto c = Certificate::from_der(der);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Errc::invalid_input);
}

// Certificates made on the spot by the openssl CLI.
class OpensslMadeCertificateTest : public ::testing::Test {
 protected:
  // Self-signed P-256 certificate with the given subject and extra -addext
  // arguments; config_extra is appended to the request configuration.
  Certificate make(const std::string& subj, const std::vector<std::string>& addext,
                   const std::string& config_extra = {}, bool multivalue = false) {
    dojang::testing::write_text(dir_ / "req.cnf",
                                "[req]\ndistinguished_name = dn\n[dn]\n" + config_extra);
    std::vector<std::string> args = {"req",
                                     "-x509",
                                     "-config",
                                     (dir_ / "req.cnf").string(),
                                     "-newkey",
                                     "ec",
                                     "-pkeyopt",
                                     "ec_paramgen_curve:P-256",
                                     "-nodes",
                                     "-keyout",
                                     (dir_ / "k.pem").string(),
                                     "-out",
                                     (dir_ / "c.der").string(),
                                     "-outform",
                                     "DER",
                                     "-utf8",
                                     "-days",
                                     "30",
                                     "-subj",
                                     subj};
    if (multivalue) args.push_back("-multivalue-rdn");
    for (const auto& e : addext) {
      args.push_back("-addext");
      args.push_back(e);
    }
    auto r = run_openssl(dir_, args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto c = Certificate::from_der(read_bytes(dir_ / "c.der"));
    EXPECT_TRUE(c.ok()) << c.error().message;
    return std::move(c).value();
  }

  void expectInfoError(const Certificate& cert, Errc code) {
    auto info = cert.info();
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.error().code, code) << info.error().message;
    EXPECT_FALSE(info.error().message.empty());
  }

  TempDir dir_;
};

TEST_F(OpensslMadeCertificateTest, GarbageIdentifyDataIsInvalidInput) {
  auto cert = make("/CN=garbage", {"subjectAltName=otherName:1.2.410.200004.10.1.1;UTF8:garbage"});
  expectInfoError(cert, Errc::invalid_input);
}

TEST_F(OpensslMadeCertificateTest, WrongShapeIdentifyDataIsInvalidInput) {
  auto cert =
      make("/CN=wrong shape", {"subjectAltName=otherName:1.2.410.200004.10.1.1;SEQUENCE:bad"},
           "[bad]\nfirst = INTEGER:5\nsecond = UTF8:x\n");
  expectInfoError(cert, Errc::invalid_input);
}

TEST_F(OpensslMadeCertificateTest, OtherSubjectAltNamesAreIgnored) {
  auto cert = make("/CN=dns only", {"subjectAltName=DNS:example.test,email:a@example.test"});
  auto info = cert.info();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_FALSE(info->real_name.has_value());
  EXPECT_FALSE(info->vid.has_value());
  EXPECT_TRUE(info->policies.empty());
  EXPECT_EQ(info->key_algorithm, "EC-256");
  EXPECT_EQ(info->signature_algorithm, "ecdsa-with-SHA256");
}

TEST_F(OpensslMadeCertificateTest, SpecialCharactersAreEscapedPerRfc2253) {
  auto cert = make(R"(/C=kr/O=#lead/OU= sp /CN=a,b\+c;d<e>f"g\\h+serialNumber=x=y)", {}, {}, true);
  auto info = cert.info();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->subject,
            R"(cn=a\,b\+c\;d\<e\>f\"g\\h+serialnumber=x\=y,ou=\ sp\ ,o=\#lead,c=kr)");
  EXPECT_EQ(info->cn, R"(a,b+c;d<e>f"g\h)");
  // Same as openssl's own RFC 2253 rendering, up to the case of the types and
  // the optional escaping of '='.
  auto r = run_openssl(dir_, {"x509", "-inform", "DER", "-in", (dir_ / "c.der").string(), "-noout",
                              "-subject", "-nameopt", "RFC2253,-esc_msb"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string theirs = r.out.substr(r.out.find('=') + 1);
  while (!theirs.empty() && (theirs.back() == '\n' || theirs.back() == '\r')) theirs.pop_back();
  std::string ours = info->subject;
  for (size_t pos; (pos = ours.find("\\=")) != std::string::npos;) ours.erase(pos, 1);
  EXPECT_EQ(ours, lower_types(theirs));
}

TEST(KeyTest, GeneratedKeyRoundTripsThroughPkcs8AndMatchesItself) {
  auto k = PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->bits(), 2048);
  auto der = k->to_pkcs8_der();
  ASSERT_TRUE(der.ok());
  auto k2 = PrivateKey::from_pkcs8_der(der->view());
  ASSERT_TRUE(k2.ok()) << k2.error().message;
  EXPECT_EQ(*k->public_key_der(), *k2->public_key_der());
}

}  // namespace
}  // namespace dojang::pki
