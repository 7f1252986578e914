#include "dojang/ca/issue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

#include "ca/ca_testing.hpp"
#include "dojang/pki/certificate.hpp"
#include "dojang/pki/vid.hpp"

namespace dojang::ca {
namespace {

namespace fs = std::filesystem;
using dojang::testing::TempDir;
using dojang::testing::to_hex;
using test::clock_at_now;
using test::kIdn;
using test::kPassphrase;
using test::openssl;

// One hierarchy per test process, with an RSA-2048 issuing CA (quick to make;
// the RSA-3072 default is covered by hierarchy_test).
class IssueTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    auto h = test::shared_hierarchy(*tmp_ / "ca", KeyType::rsa2048);
    ASSERT_TRUE(h.ok()) << h.error().message;
    ca_ = new Hierarchy(std::move(h).value());
    auto key = pki::PrivateKey::generate_rsa(2048);
    ASSERT_TRUE(key.ok());
    subject_ = new pki::PrivateKey(std::move(key).value());
  }
  static void TearDownTestSuite() {
    delete subject_;
    delete ca_;
    delete tmp_;
  }

  void SetUp() override {
    auto r = pki::random_bytes(20);
    ASSERT_TRUE(r.ok());
    r_ = SecretBytes(*r);
  }

  pki::Certificate expectIssued(const IssueRequest& req) {
    auto cert = issue_certificate(*ca_, req, clock_);
    EXPECT_TRUE(cert.ok()) << cert.error().message;
    if (!cert.ok()) throw std::runtime_error("issuance failed");
    return std::move(cert).value();
  }

  void expectRefused(const IssueRequest& req, Errc code) {
    auto cert = issue_certificate(*ca_, req, clock_);
    ASSERT_FALSE(cert.ok()) << "issued a certificate for a bad request";
    EXPECT_EQ(cert.error().code, code) << cert.error().message;
    EXPECT_FALSE(cert.error().message.empty());
  }

  std::string opensslText(const pki::Certificate& cert) {
    fs::path pem = test::write_pem(*tmp_, "text", cert);
    auto r = openssl(*tmp_, {"x509", "-in", pem.string(), "-noout", "-text", "-nameopt",
                             "RFC2253,show_type,-esc_msb"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  static fs::path ca_dir() { return *tmp_ / "ca"; }

  static TempDir* tmp_;
  static Hierarchy* ca_;
  static pki::PrivateKey* subject_;
  FakeClock clock_ = clock_at_now();
  SecretBytes r_;
};

TempDir* IssueTest::tmp_ = nullptr;
Hierarchy* IssueTest::ca_ = nullptr;
pki::PrivateKey* IssueTest::subject_ = nullptr;

TEST_F(IssueTest, OpensslVerifiesTheIssuedCertificate) {
  pki::Certificate cert = expectIssued(test::request_for(*subject_, r_));
  test::expect_openssl_verifies(*tmp_, ca_dir(), test::write_pem(*tmp_, "user", cert));
  EXPECT_TRUE(cert.matches(*subject_));
}

TEST_F(IssueTest, OpensslShowsEveryProfileElement) {
  IssueRequest req = test::request_for(*subject_, r_);
  pki::Certificate cert = expectIssued(req);
  std::string text = opensslText(cert);
  std::string partition = crl_partition_name(crl_partition(req.serial));
  for (const std::string& want : {
           std::string("Version: 3"),
           std::string("Signature Algorithm: sha256WithRSAEncryption"),
           std::string("Subject: CN=UTF8STRING:홍길동()0012345678901234,OU=UTF8STRING:WOORI,"
                       "OU=UTF8STRING:personal4IB,O=UTF8STRING:Dojang CA,C=PRINTABLESTRING:kr"),
           std::string("Issuer: CN=UTF8STRING:Dojang CA Issuing CA,O=UTF8STRING:Dojang CA,"
                       "C=PRINTABLESTRING:kr"),
           std::string("X509v3 Key Usage: critical"),
           std::string("Digital Signature, Non Repudiation\n"),
           std::string("X509v3 Certificate Policies: critical"),
           std::string("Policy: 1.2.410.200005.1.1.1"),
           std::string("CPS: http://127.0.0.1:8080/cps"),
           std::string("X509v3 Subject Key Identifier"),
           std::string("X509v3 Authority Key Identifier"),
           std::string("X509v3 CRL Distribution Points"),
           "URI:http://127.0.0.1:8080/crl/" + partition + ".crl",
           std::string("Authority Information Access"),
           std::string("OCSP - URI:http://127.0.0.1:8080/ocsp"),
           std::string("CA Issuers - URI:http://127.0.0.1:8080/ca.crt"),
           std::string("X509v3 Subject Alternative Name"),
           std::string("othername: 1.2.410.200004.10.1.1::<unsupported>"),
       })
    EXPECT_NE(text.find(want), std::string::npos) << "missing '" << want << "'\n" << text;
  EXPECT_EQ(text.find("Basic Constraints"), std::string::npos) << text;
  // The serial as issued.
  auto serial = openssl(*tmp_, {"x509", "-in", (*tmp_ / "text.pem").string(), "-noout", "-serial"});
  EXPECT_EQ(
      serial.out, "serial=" + [&] {
        std::string h = to_hex(req.serial);
        for (char& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return h;
      }() + "\n");
}

TEST_F(IssueTest, CertificateInfoReadsBackNameVidAndPurpose) {
  IssueRequest req = test::request_for(*subject_, r_);
  pki::Certificate cert = expectIssued(req);
  auto info = cert.info();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->subject, "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=Dojang CA,c=kr");
  EXPECT_EQ(info->cn, "홍길동()0012345678901234");
  EXPECT_EQ(info->serial_hex, to_hex(req.serial).substr(to_hex(req.serial).find_first_not_of('0')));
  ASSERT_TRUE(info->real_name.has_value());
  EXPECT_EQ(*info->real_name, "홍길동");
  ASSERT_TRUE(info->vid.has_value());
  EXPECT_EQ(info->vid->hash_alg, "sha256");
  auto vid = pki::compute_vid(SecretString(kIdn), r_, "sha256");
  ASSERT_TRUE(vid.ok());
  EXPECT_EQ(info->vid->virtual_id, *vid);
  EXPECT_TRUE(*pki::verify_vid(cert, r_, SecretString(kIdn)));
  EXPECT_FALSE(*pki::verify_vid(cert, r_, SecretString("8001011234568")));
  ASSERT_EQ(info->policies.size(), 1u);
  EXPECT_EQ(info->policies[0].oid, "1.2.410.200005.1.1.1");
  EXPECT_EQ(info->policies[0].purpose, pki::Purpose::general);
  EXPECT_EQ(info->key_algorithm, "RSA-2048");

  pki::Certificate bank =
      expectIssued(test::request_for(*subject_, r_, pki::Purpose::bank_insurance));
  auto bank_info = bank.info();
  ASSERT_TRUE(bank_info.ok());
  ASSERT_EQ(bank_info->policies.size(), 1u);
  EXPECT_EQ(bank_info->policies[0].oid, "1.2.410.200005.1.1.4");
  EXPECT_EQ(bank_info->policies[0].purpose, pki::Purpose::bank_insurance);
  EXPECT_EQ(pki::lookup_policy(bank_info->policies[0].oid).purpose, pki::Purpose::bank_insurance);
}

TEST_F(IssueTest, WithoutAVidOnlyTheRealNameIsCarried) {
  IssueRequest req = test::request_for(*subject_, r_);
  req.vid.reset();
  pki::Certificate cert = expectIssued(req);
  auto info = cert.info();
  ASSERT_TRUE(info.ok()) << info.error().message;
  ASSERT_TRUE(info->real_name.has_value());
  EXPECT_EQ(*info->real_name, "홍길동");
  EXPECT_FALSE(info->vid.has_value());
  auto check = pki::verify_vid(cert, r_, SecretString(kIdn));
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code, Errc::not_found);

  req.vid = VidValue{"sha1", Bytes(20, 0x42)};
  auto sha1 = expectIssued(req).info();
  ASSERT_TRUE(sha1.ok());
  ASSERT_TRUE(sha1->vid.has_value());
  EXPECT_EQ(sha1->vid->hash_alg, "sha1");
}

TEST_F(IssueTest, ValidityDefaultsToOneYearAndHonoursExplicitDates) {
  auto info = expectIssued(test::request_for(*subject_, r_)).info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->not_before, clock_.now() - std::chrono::minutes(5));
  EXPECT_EQ(info->not_after, info->not_before + std::chrono::days(365));

  IssueRequest renewal = test::request_for(*subject_, r_);
  renewal.not_before = clock_.now() + std::chrono::days(10);
  renewal.not_after = clock_.now() + std::chrono::days(200);
  auto renewed = expectIssued(renewal).info();
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->not_before, *renewal.not_before);
  EXPECT_EQ(renewed->not_after, *renewal.not_after);

  // Never beyond the issuing CA.
  IssueRequest too_long = test::request_for(*subject_, r_);
  too_long.not_after = clock_.now() + std::chrono::days(365 * 30);
  auto capped = expectIssued(too_long).info();
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->not_after, ca_->issuing_cert().info()->not_after);

  IssueRequest backwards = test::request_for(*subject_, r_);
  backwards.not_after = clock_.now() - std::chrono::days(1);
  expectRefused(backwards, Errc::usage);
  IssueRequest after_ca = test::request_for(*subject_, r_);
  after_ca.not_before = clock_.now() + std::chrono::days(365 * 30);
  after_ca.not_after = clock_.now() + std::chrono::days(365 * 31);
  expectRefused(after_ca, Errc::policy);
}

TEST_F(IssueTest, SerialsAreUnpredictableAndUnique) {
  std::set<Bytes> seen;
  std::array<int, 128> ones{};
  constexpr int kDraws = 1000;
  for (int i = 0; i < kDraws; ++i) {
    auto s = new_serial();
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->size(), 16u);
    EXPECT_EQ((*s)[0] & 0x80, 0) << "top bit set: not a positive INTEGER of 16 octets";
    EXPECT_NE((*s)[0], 0) << "leading zero octet";
    EXPECT_TRUE(seen.insert(*s).second) << "duplicate serial";
    for (int bit = 0; bit < 128; ++bit)
      ones[static_cast<size_t>(bit)] += ((*s)[static_cast<size_t>(bit / 8)] >> (7 - bit % 8)) & 1;
  }
  // Bits 1..127 are random (>= 64 random bits): each is set in roughly half
  // of the draws (binomial, 1000 draws: far outside 350..650 never happens by chance).
  for (int bit = 1; bit < 128; ++bit) {
    EXPECT_GT(ones[static_cast<size_t>(bit)], 350) << "bit " << bit;
    EXPECT_LT(ones[static_cast<size_t>(bit)], 650) << "bit " << bit;
  }
  // Certificates carry them unchanged.
  IssueRequest req = test::request_for(*subject_, r_);
  auto info = expectIssued(req).info();
  EXPECT_EQ(info->serial_hex, to_hex(req.serial).substr(to_hex(req.serial).find_first_not_of('0')));
}

TEST_F(IssueTest, CrlPartitionIsTheFirstSerialByteModuloN) {
  EXPECT_EQ(crl_partition(Bytes{0x05, 0xff}), 5u);
  EXPECT_EQ(crl_partition(Bytes{0x7f, 0x00}), 15u);
  EXPECT_EQ(crl_partition(Bytes{0x10, 0x01}), 0u);
  EXPECT_EQ(crl_partition(Bytes{0x00, 0x00, 0x23}), 3u);  // leading zero octets ignored
  EXPECT_EQ(crl_partition(Bytes{0x23}, 4), 3u);
  EXPECT_EQ(crl_partition(Bytes{0x23}, 1), 0u);
  EXPECT_EQ(crl_partition(Bytes{}, 16), 0u);
  EXPECT_EQ(crl_partition_name(0), "p0");
  EXPECT_EQ(crl_partition_name(15), "p15");
  InitOptions o;
  EXPECT_EQ(crl_url(o, Bytes{0x2a}), "http://127.0.0.1:8080/crl/p10.crl");

  // Every partition 0..15 is reachable by random serials.
  std::set<unsigned> hit;
  for (int i = 0; i < 400; ++i) hit.insert(crl_partition(*new_serial()));
  EXPECT_EQ(hit.size(), 16u);
}

TEST_F(IssueTest, EcP256SubjectKeysAreAccepted) {
  IssueRequest req = test::request_for(*subject_, r_);
  req.public_key_der =
      test::openssl_spki(*tmp_, {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
  pki::Certificate cert = expectIssued(req);
  EXPECT_EQ(cert.info()->key_algorithm, "EC-256");
  test::expect_openssl_verifies(*tmp_, ca_dir(), test::write_pem(*tmp_, "ec-user", cert));
}

TEST_F(IssueTest, WeakOrUnsupportedSubjectKeysAreRefused) {
  IssueRequest req = test::request_for(*subject_, r_);
  auto weak = pki::PrivateKey::generate_rsa(1024);
  ASSERT_TRUE(weak.ok());
  req.public_key_der = test::spki_of(*weak);
  expectRefused(req, Errc::policy);

  req.public_key_der = test::openssl_spki(
      *tmp_,
      {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_pubexp:3"});
  expectRefused(req, Errc::policy);
  req.public_key_der =
      test::openssl_spki(*tmp_, {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"});
  expectRefused(req, Errc::policy);
  req.public_key_der = test::openssl_spki(*tmp_, {"-algorithm", "ED25519"});
  expectRefused(req, Errc::policy);

  // A P-256 point that is not on the curve.
  Bytes ec = test::openssl_spki(*tmp_, {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
  ec.back() ^= 0x01;
  req.public_key_der = ec;
  expectRefused(req, Errc::invalid_input);

  Bytes good = test::spki_of(*subject_);
  req.public_key_der = Bytes(good.begin(), good.begin() + 40);
  expectRefused(req, Errc::invalid_input);
  req.public_key_der = good;
  req.public_key_der.push_back(0);
  expectRefused(req, Errc::invalid_input);
  req.public_key_der = Bytes{0x30, 0x03, 0x02, 0x01, 0x01};
  expectRefused(req, Errc::invalid_input);
  req.public_key_der.clear();
  expectRefused(req, Errc::usage);
}

TEST_F(IssueTest, MalformedRequestsAreRefused) {
  auto with = [&](auto change) {
    IssueRequest req = test::request_for(*subject_, r_);
    change(req);
    return req;
  };
  expectRefused(with([](IssueRequest& r) { r.real_name.clear(); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.real_name = "홍\n길동"; }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.real_name = "\xed\xa0\x80"; }),
                Errc::usage);  // surrogate
  expectRefused(with([](IssueRequest& r) { r.real_name = std::string(60, 'x'); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.holder_digits = "12a4"; }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.holder_digits.clear(); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.bank_code.clear(); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.bank_code = "WOO\x01RI"; }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.purpose = pki::Purpose::credit_card; }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.purpose = pki::Purpose::unknown; }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.serial.clear(); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.serial = Bytes(4, 0); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.serial = Bytes(21, 0x11); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.serial = Bytes(20, 0xff); }), Errc::usage);
  expectRefused(with([](IssueRequest& r) { r.vid = VidValue{"sha256", {}}; }), Errc::usage);
  expectRefused(with([](IssueRequest& r) {
                  r.vid = VidValue{"md5", Bytes(16, 1)};
                }),
                Errc::foreign_format);
  // 20 octets with the top bit clear is the longest serial RFC 5280 allows.
  expectIssued(with([](IssueRequest& r) { r.serial = Bytes(20, 0x7f); }));
}

}  // namespace
}  // namespace dojang::ca
