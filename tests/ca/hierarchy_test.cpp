#include "dojang/ca/hierarchy.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>

#include "ca/ca_testing.hpp"
#include "ca/internal/keystore.hpp"
#include "dojang/ca/issue.hpp"
#include "dojang/pki/certificate.hpp"

namespace dojang::ca {
namespace {

namespace fs = std::filesystem;
using dojang::testing::read_bytes;
using dojang::testing::read_text;
using dojang::testing::TempDir;
using dojang::testing::write_text;
using test::clock_at_now;
using test::expect_openssl_verifies;
using test::kPassphrase;
using test::openssl;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

long long seconds_valid(const pki::Certificate& c) {
  auto info = c.info();
  EXPECT_TRUE(info.ok());
  return std::chrono::duration_cast<std::chrono::seconds>(info->not_after - info->not_before)
      .count();
}

constexpr long long kDay = 24 * 3600;

// ---------------------------------------------------------------------------
// The default hierarchy (RSA-3072 everywhere but the RSA-2048 key-management key).

class DefaultHierarchyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    FakeClock clock = clock_at_now();
    auto h = init_hierarchy(*tmp_ / "ca", SecretString(kPassphrase), InitOptions{}, clock);
    ASSERT_TRUE(h.ok()) << h.error().message;
    hierarchy_ = new Hierarchy(std::move(h).value());
  }
  static void TearDownTestSuite() {
    delete hierarchy_;
    delete tmp_;
  }
  static fs::path dir() { return *tmp_ / "ca"; }

  void expectText(const fs::path& cert, const std::vector<std::string>& wants) {
    auto r = openssl(*tmp_, {"x509", "-in", cert.string(), "-noout", "-text"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const std::string& want : wants)
      EXPECT_NE(r.out.find(want), std::string::npos) << cert << " lacks '" << want << "'\n"
                                                     << r.out;
  }

  static TempDir* tmp_;
  static Hierarchy* hierarchy_;
};

TempDir* DefaultHierarchyTest::tmp_ = nullptr;
Hierarchy* DefaultHierarchyTest::hierarchy_ = nullptr;

TEST_F(DefaultHierarchyTest, WritesTheLayoutWithPrivateKeyFiles) {
  for (const char* f : {"root.pem", "chain.pem", "hierarchy.conf", "certs/root.pem",
                        "certs/issuing.pem", "certs/ocsp.pem", "certs/cmp.pem", "certs/km.pem"})
    EXPECT_TRUE(fs::is_regular_file(dir() / f)) << f;
  EXPECT_EQ(mode_of(dir() / "keys"), 0700u);
  for (const char* k : {"root", "issuing", "ocsp", "cmp", "km"}) {
    fs::path p = dir() / "keys" / (std::string(k) + ".key.pem");
    ASSERT_TRUE(fs::is_regular_file(p)) << p;
    EXPECT_EQ(mode_of(p), 0600u) << p;
    EXPECT_EQ(read_text(p).find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), 0u) << p;
  }
  EXPECT_EQ(read_bytes(dir() / "root.pem"), read_bytes(dir() / "certs/root.pem"));
  // chain.pem: the issuing CA, then the root.
  std::string chain = read_text(dir() / "chain.pem");
  EXPECT_EQ(chain, read_text(dir() / "certs/issuing.pem") + read_text(dir() / "certs/root.pem"));
}

TEST_F(DefaultHierarchyTest, ReturnsTheRootFingerprintOpensslPrints) {
  auto r = openssl(
      *tmp_, {"x509", "-in", (dir() / "root.pem").string(), "-noout", "-fingerprint", "-sha256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string printed = r.out.substr(r.out.find('=') + 1);
  printed.erase(printed.find_last_not_of("\r\n") + 1);
  EXPECT_EQ(hierarchy_->root_fingerprint(), printed);
  EXPECT_TRUE(std::regex_match(hierarchy_->root_fingerprint(),
                               std::regex("([0-9A-F]{2}:){31}[0-9A-F]{2}")));
}

TEST_F(DefaultHierarchyTest, LoadRoundTrips) {
  auto loaded = load_hierarchy(dir(), SecretString(kPassphrase));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const Hierarchy& h = *loaded;
  EXPECT_EQ(*h.root_cert().der(), *hierarchy_->root_cert().der());
  EXPECT_EQ(*h.issuing_cert().der(), *hierarchy_->issuing_cert().der());
  EXPECT_EQ(*h.ocsp_cert().der(), *hierarchy_->ocsp_cert().der());
  EXPECT_EQ(*h.cmp_cert().der(), *hierarchy_->cmp_cert().der());
  EXPECT_EQ(*h.km_cert().der(), *hierarchy_->km_cert().der());
  EXPECT_TRUE(h.issuing_cert().matches(h.issuing_key()));
  EXPECT_TRUE(h.ocsp_cert().matches(h.ocsp_key()));
  EXPECT_TRUE(h.cmp_cert().matches(h.cmp_key()));
  EXPECT_TRUE(h.km_cert().matches(h.km_key()));
  EXPECT_EQ(h.root_fingerprint(), hierarchy_->root_fingerprint());
  EXPECT_EQ(h.options().ca_name, "Dojang CA");
  EXPECT_EQ(h.options().issuing_key, KeyType::rsa3072);
  EXPECT_EQ(h.options().base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(h.options().crl_partitions, 16u);

  // The root key stays offline: only init hands it out, load_root_key on request.
  EXPECT_TRUE(hierarchy_->root_key().has_value());
  EXPECT_FALSE(h.root_key().has_value());
  auto root_key = load_root_key(dir(), SecretString(kPassphrase));
  ASSERT_TRUE(root_key.ok()) << root_key.error().message;
  EXPECT_TRUE(h.root_cert().matches(*root_key));
}

TEST_F(DefaultHierarchyTest, KeyTypesAndValidityFollowTheProfile) {
  EXPECT_EQ(hierarchy_->root_cert().info()->key_algorithm, "RSA-3072");
  EXPECT_EQ(hierarchy_->issuing_cert().info()->key_algorithm, "RSA-3072");
  EXPECT_EQ(hierarchy_->ocsp_cert().info()->key_algorithm, "RSA-3072");
  EXPECT_EQ(hierarchy_->km_cert().info()->key_algorithm, "RSA-2048");
  EXPECT_EQ(hierarchy_->issuing_cert().info()->signature_algorithm, "sha256WithRSAEncryption");
  EXPECT_EQ(hierarchy_->root_cert().info()->subject, "cn=Dojang CA Root CA,o=Dojang CA,c=kr");
  EXPECT_EQ(hierarchy_->issuing_cert().info()->issuer, hierarchy_->root_cert().info()->subject);
  EXPECT_EQ(hierarchy_->km_cert().info()->issuer, hierarchy_->issuing_cert().info()->subject);
  EXPECT_EQ(seconds_valid(hierarchy_->root_cert()), (20 * 365 + 5) * kDay);
  EXPECT_EQ(seconds_valid(hierarchy_->issuing_cert()), (10 * 365 + 2) * kDay);
  EXPECT_EQ(seconds_valid(hierarchy_->ocsp_cert()), (2 * 365) * kDay);
}

TEST_F(DefaultHierarchyTest, OpensslVerifiesEveryCertificateAndAnIssuedOne) {
  for (const char* c : {"issuing", "ocsp", "cmp", "km"})
    expect_openssl_verifies(*tmp_, dir(), dir() / "certs" / (std::string(c) + ".pem"));

  auto subject = pki::PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(subject.ok());
  auto r = pki::random_bytes(20);
  ASSERT_TRUE(r.ok());
  FakeClock clock = clock_at_now();
  auto cert = issue_certificate(*hierarchy_, test::request_for(*subject, SecretBytes(*r)), clock);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ(cert->info()->signature_algorithm, "sha256WithRSAEncryption");
  expect_openssl_verifies(*tmp_, dir(), test::write_pem(*tmp_, "user", *cert));
}

TEST_F(DefaultHierarchyTest, CertificatesCarryTheirExtensions) {
  expectText(dir() / "certs/root.pem",
             {"CA:TRUE", "X509v3 Key Usage: critical", "Certificate Sign, CRL Sign",
              "X509v3 Subject Key Identifier"});
  expectText(dir() / "certs/issuing.pem",
             {"X509v3 Basic Constraints: critical", "CA:TRUE, pathlen:0",
              "Certificate Sign, CRL Sign", "X509v3 Authority Key Identifier"});
  expectText(dir() / "certs/ocsp.pem", {"CA:FALSE", "Digital Signature", "OCSP Signing",
                                        "OCSP No Check", "X509v3 Authority Key Identifier"});
  expectText(dir() / "certs/cmp.pem",
             {"CA:FALSE", "Digital Signature", "CMC Certificate Authority"});
  expectText(dir() / "certs/km.pem",
             {"CA:FALSE", "X509v3 Key Usage: critical", "Key Encipherment"});
}

TEST_F(DefaultHierarchyTest, KeyFilesArePbes2Pbkdf2Sha256Aes256ThatOpensslOpens) {
  fs::path pass = *tmp_ / "pass.txt";
  write_text(pass, kPassphrase);
  fs::path key = dir() / "keys/issuing.key.pem";
  auto r =
      openssl(*tmp_, {"pkey", "-in", key.string(), "-passin", "file:" + pass.string(), "-noout"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = openssl(*tmp_, {"asn1parse", "-in", key.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* want : {":PBES2", ":PBKDF2", ":hmacWithSHA256", ":aes-256-cbc"})
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("prim: INTEGER +:([0-9A-F]+)")));
  EXPECT_GE(std::stol(m[1].str(), nullptr, 16), 200000);
  // A wrong passphrase does not open it.
  write_text(pass, "not the passphrase");
  r = openssl(*tmp_, {"pkey", "-in", key.string(), "-passin", "file:" + pass.string(), "-noout"});
  EXPECT_NE(r.exit_code, 0);
}

// ---------------------------------------------------------------------------
// Smaller hierarchies (EC P-256 / RSA-2048 issuing keys) for everything else.

class HierarchyTest : public ::testing::Test {
 protected:
  Hierarchy expectInit(const fs::path& dir, InitOptions options = ec_options()) {
    FakeClock clock = clock_at_now();
    auto h = init_hierarchy(dir, SecretString(kPassphrase), options, clock);
    EXPECT_TRUE(h.ok()) << h.error().message;
    if (!h.ok()) throw std::runtime_error("init failed");
    return std::move(h).value();
  }
  static InitOptions ec_options() {
    InitOptions o;
    o.issuing_key = KeyType::ec_p256;
    return o;
  }
  void expectInitRefused(const InitOptions& options, Errc code,
                         const std::string& passphrase = kPassphrase) {
    FakeClock clock = clock_at_now();
    fs::path dir = tmp_ / "refused";
    auto h = init_hierarchy(dir, SecretString(passphrase), options, clock);
    ASSERT_FALSE(h.ok()) << "init accepted bad options";
    EXPECT_EQ(h.error().code, code) << h.error().message;
    EXPECT_FALSE(fs::exists(dir)) << "a refused init left files behind";
  }
  // Loads a copy of `source` damaged by `damage`; expects `code` and a message naming `file`.
  void expectLoadFails(const fs::path& source, const std::function<void(const fs::path&)>& damage,
                       Errc code, const std::string& file) {
    fs::path copy = tmp_ / ("copy" + std::to_string(copies_++));
    fs::copy(source, copy, fs::copy_options::recursive);
    damage(copy);
    auto h = load_hierarchy(copy, SecretString(kPassphrase));
    ASSERT_FALSE(h.ok()) << "loaded a damaged hierarchy (" << file << ")";
    EXPECT_EQ(h.error().code, code) << h.error().message;
    EXPECT_NE(h.error().message.find(file), std::string::npos) << h.error().message;
  }

  TempDir tmp_;
  int copies_ = 0;
};

TEST_F(HierarchyTest, WrongPassphraseIsWrongPassword) {
  fs::path dir = tmp_ / "ca";
  expectInit(dir);
  auto h = load_hierarchy(dir, SecretString("correct horse battery stapler"));
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, Errc::wrong_password);
  EXPECT_EQ(h.error().message.find("stapler"), std::string::npos) << "passphrase echoed";
  auto root = load_root_key(dir, SecretString("nope"));
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.error().code, Errc::wrong_password);
  auto empty = load_hierarchy(dir, SecretString(""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::usage);
}

TEST_F(HierarchyTest, MissingOrDamagedFilesAreNamed) {
  fs::path dir = tmp_ / "ca";
  expectInit(dir);
  auto truncate = [](const fs::path& p) {
    std::string t = read_text(p);
    write_text(p, t.substr(0, t.size() / 2));
  };
  expectLoadFails(
      dir, [](const fs::path& d) { fs::remove(d / "certs/km.pem"); }, Errc::invalid_input,
      "certs/km.pem");
  expectLoadFails(
      dir, [&](const fs::path& d) { truncate(d / "certs/ocsp.pem"); }, Errc::invalid_input,
      "certs/ocsp.pem");
  expectLoadFails(
      dir, [](const fs::path& d) { fs::remove(d / "keys/cmp.key.pem"); }, Errc::invalid_input,
      "keys/cmp.key.pem");
  expectLoadFails(
      dir, [&](const fs::path& d) { truncate(d / "keys/ocsp.key.pem"); }, Errc::invalid_input,
      "keys/ocsp.key.pem");
  // Ciphertext damage in a later key: the passphrase opened the issuing key, so
  // this is a damaged file, not a wrong passphrase.
  expectLoadFails(
      dir,
      [](const fs::path& d) {
        std::string t = read_text(d / "keys/km.key.pem");
        size_t pos = t.find("-----END") - 40;
        t[pos] = t[pos] == 'A' ? 'B' : 'A';
        write_text(d / "keys/km.key.pem", t);
      },
      Errc::invalid_input, "keys/km.key.pem");
  // A damaged key that still decrypts and decodes (a CRT value changed, the
  // DER lengths kept): only the key arithmetic shows it.
  expectLoadFails(
      dir,
      [](const fs::path& d) {
        const std::string pem_text = read_text(d / "keys/km.key.pem");
        auto key = internal::decrypt_key_pem(Bytes(pem_text.begin(), pem_text.end()),
                                             SecretString(kPassphrase));
        ASSERT_TRUE(key.ok()) << key.error().message;
        auto der = key->to_pkcs8_der();
        ASSERT_TRUE(der.ok()) << der.error().message;
        Bytes bad(der->view().begin(), der->view().end());
        bad.back() ^= 0x01;  // the last byte of RSAPrivateKey's coefficient
        auto damaged = pki::PrivateKey::from_pkcs8_der(bad);
        ASSERT_TRUE(damaged.ok()) << damaged.error().message;
        auto pem = internal::encrypt_key_pem(*damaged, SecretString(kPassphrase), 1000);
        ASSERT_TRUE(pem.ok()) << pem.error().message;
        write_text(d / "keys/km.key.pem", std::string(pem->begin(), pem->end()));
      },
      Errc::invalid_input, "keys/km.key.pem");
  expectLoadFails(
      dir, [](const fs::path& d) { write_text(d / "hierarchy.conf", "garbage\n"); },
      Errc::invalid_input, "hierarchy.conf");
  expectLoadFails(
      dir,
      [](const fs::path& d) {
        std::string t = read_text(d / "hierarchy.conf");
        t.replace(t.find("issuing_key = ec_p256"), 21, "issuing_key = dsa1024");
        write_text(d / "hierarchy.conf", t);
      },
      Errc::invalid_input, "hierarchy.conf");
  expectLoadFails(
      dir, [](const fs::path& d) { fs::remove(d / "hierarchy.conf"); }, Errc::invalid_input,
      "hierarchy.conf");
  // A certificate that the issuing CA did not sign.
  expectLoadFails(
      dir,
      [](const fs::path& d) {
        fs::copy_file(d / "certs/root.pem", d / "certs/cmp.pem",
                      fs::copy_options::overwrite_existing);
      },
      Errc::invalid_input, "certs/cmp.pem");
  // Swapped keys (both EC P-256): the key does not belong to its certificate.
  expectLoadFails(
      dir,
      [](const fs::path& d) {
        fs::rename(d / "keys/ocsp.key.pem", d / "keys/tmp.key.pem");
        fs::rename(d / "keys/cmp.key.pem", d / "keys/ocsp.key.pem");
        fs::rename(d / "keys/tmp.key.pem", d / "keys/cmp.key.pem");
      },
      Errc::key_mismatch, "keys/ocsp.key.pem");

  auto none = load_hierarchy(tmp_ / "nothing-here", SecretString(kPassphrase));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::invalid_input);
  EXPECT_NE(none.error().message.find("hierarchy.conf"), std::string::npos);
}

TEST_F(HierarchyTest, RefusesToOverwriteAHierarchy) {
  fs::path dir = tmp_ / "ca";
  expectInit(dir);
  Bytes root = read_bytes(dir / "root.pem");
  FakeClock clock = clock_at_now();
  auto again = init_hierarchy(dir, SecretString(kPassphrase), ec_options(), clock);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(read_bytes(dir / "root.pem"), root);

  // Even a partial one (only keys/), while unrelated files are fine.
  fs::create_directories(tmp_ / "partial/keys");
  auto partial = init_hierarchy(tmp_ / "partial", SecretString(kPassphrase), ec_options(), clock);
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.error().code, Errc::already_exists);
  fs::create_directories(tmp_ / "data");
  write_text(tmp_ / "data/dojangd.toml", "listen = \"127.0.0.1:8080\"\n");
  auto with_config = init_hierarchy(tmp_ / "data", SecretString(kPassphrase), ec_options(), clock);
  EXPECT_TRUE(with_config.ok()) << with_config.error().message;
}

TEST_F(HierarchyTest, BadOptionsAreRefusedBeforeAnythingIsWritten) {
  expectInitRefused(ec_options(), Errc::usage, "");
  auto with = [](auto change) {
    InitOptions o = ec_options();
    change(o);
    return o;
  };
  expectInitRefused(with([](InitOptions& o) { o.ca_name = ""; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.ca_name = " Dojang"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.ca_name = "Evil\nCA"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.ca_name = std::string(49, 'x'); }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.ca_name = "bad \xff utf8"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.base_url = "ftp://ca.example"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.base_url = "http://"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.base_url = "http://a b"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.base_url = "http://ca/?x=1"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.policies.general = "1.2.x"; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.policies.bank_insurance = ""; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.crl_partitions = 0; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.crl_partitions = 257; }), Errc::usage);
  expectInitRefused(with([](InitOptions& o) { o.user_validity_days = 0; }), Errc::usage);
}

TEST_F(HierarchyTest, EcHierarchyWithCustomOptionsRoundTripsAndIssues) {
  InitOptions o;
  o.ca_name = "도장 테스트 CA";
  o.issuing_key = KeyType::ec_p256;
  o.base_url = "https://ca.example.test:8443/";
  o.policies.general = "1.2.410.200005.1.1.1";
  o.policies.bank_insurance = "1.3.6.1.4.1.99999.1.4";
  o.crl_partitions = 4;
  o.user_validity_days = 30;
  fs::path dir = tmp_ / "ec";
  expectInit(dir, o);

  auto h = load_hierarchy(dir, SecretString(kPassphrase));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->options().ca_name, o.ca_name);
  EXPECT_EQ(h->options().issuing_key, KeyType::ec_p256);
  EXPECT_EQ(h->options().base_url, "https://ca.example.test:8443");  // trailing '/' dropped
  EXPECT_EQ(h->options().policies.bank_insurance, o.policies.bank_insurance);
  EXPECT_EQ(h->options().crl_partitions, 4u);
  EXPECT_EQ(h->options().user_validity_days, 30u);
  EXPECT_EQ(h->issuing_cert().info()->key_algorithm, "EC-256");
  EXPECT_EQ(h->issuing_cert().info()->signature_algorithm,
            "sha256WithRSAEncryption");  // by the root
  EXPECT_EQ(h->km_cert().info()->key_algorithm, "RSA-2048");
  EXPECT_EQ(h->ocsp_cert().info()->signature_algorithm, "ecdsa-with-SHA256");

  auto subject = pki::PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(subject.ok());
  auto r = pki::random_bytes(20);
  FakeClock clock = clock_at_now();
  IssueRequest req = test::request_for(*subject, SecretBytes(*r), pki::Purpose::bank_insurance);
  auto cert = issue_certificate(*h, req, clock);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  auto info = cert->info();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->signature_algorithm, "ecdsa-with-SHA256");
  ASSERT_EQ(info->policies.size(), 1u);
  EXPECT_EQ(info->policies[0].oid, "1.3.6.1.4.1.99999.1.4");
  EXPECT_EQ(info->subject,
            "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=도장 테스트 CA,c=kr");
  EXPECT_EQ(seconds_valid(*cert), 30 * kDay);

  fs::path pem = test::write_pem(tmp_, "user", *cert);
  expect_openssl_verifies(tmp_, dir, pem);
  auto text = openssl(tmp_, {"x509", "-in", pem.string(), "-noout", "-text"});
  unsigned partition = crl_partition(req.serial, 4);
  EXPECT_LT(partition, 4u);
  EXPECT_NE(
      text.out.find("URI:https://ca.example.test:8443/crl/p" + std::to_string(partition) + ".crl"),
      std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("CPS: https://ca.example.test:8443/cps"), std::string::npos) << text.out;
}

TEST_F(HierarchyTest, Rsa2048IssuingKeyWorks) {
  InitOptions o;
  o.issuing_key = KeyType::rsa2048;
  fs::path dir = tmp_ / "rsa2048";
  Hierarchy h = expectInit(dir, o);
  EXPECT_EQ(h.issuing_cert().info()->key_algorithm, "RSA-2048");
  EXPECT_EQ(h.cmp_cert().info()->key_algorithm, "RSA-2048");
  EXPECT_EQ(h.root_cert().info()->key_algorithm, "RSA-3072");

  auto subject = pki::PrivateKey::generate_rsa(2048);
  auto r = pki::random_bytes(20);
  FakeClock clock = clock_at_now();
  auto cert = issue_certificate(h, test::request_for(*subject, SecretBytes(*r)), clock);
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_EQ(cert->info()->signature_algorithm, "sha256WithRSAEncryption");
  expect_openssl_verifies(tmp_, dir, test::write_pem(tmp_, "user", *cert));
}

TEST(KeyTypeTest, NamesRoundTrip) {
  for (KeyType t : {KeyType::rsa3072, KeyType::rsa2048, KeyType::ec_p256}) {
    auto parsed = parse_key_type(key_type_name(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_EQ(*parse_key_type("rsa-3072"), KeyType::rsa3072);
  EXPECT_EQ(*parse_key_type("p256"), KeyType::ec_p256);
  auto bad = parse_key_type("rsa1024");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::usage);
}

}  // namespace
}  // namespace dojang::ca
