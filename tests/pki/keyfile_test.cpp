#include "dojang/pki/keyfile.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "pki/internal/ossl.hpp"
#include "pki/internal/pbe.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

namespace fs = std::filesystem;
using dojang::testing::data_path;
using dojang::testing::from_hex;
using dojang::testing::read_bytes;
using dojang::testing::read_expected;
using dojang::testing::run;
using dojang::testing::TempDir;
using dojang::testing::to_hex;
using dojang::testing::write_bytes;
using dojang::testing::write_text;
using Format = KeyFileOptions::Format;

constexpr char kKoreanPassword[] = "도장비밀번호!Seal2024";
constexpr char kRandomNumOid[] = "1.2.410.200004.10.1.1.3";

std::string hex(const SecretBytes& s) {
  return to_hex(Bytes(s.view().begin(), s.view().end()));
}

// OpenSSL-side helpers used to build inputs our encoder would never write.
using SigPtr = internal::Ptr<X509_SIG>;
using P8Ptr = internal::Ptr<PKCS8_PRIV_KEY_INFO>;

SigPtr parse_sig(const Bytes& der) {
  const unsigned char* p = der.data();
  return SigPtr(d2i_X509_SIG(nullptr, &p, static_cast<long>(der.size())));
}

Bytes encode_sig(X509_SIG* sig) {
  unsigned char* out = nullptr;
  int len = i2d_X509_SIG(sig, &out);
  Bytes b(out, out + (len > 0 ? len : 0));
  OPENSSL_free(out);
  return b;
}

class KeyFileTest : public ::testing::Test {
 protected:
  // One RSA-2048 key for every round trip of the suite (key generation is slow).
  static void SetUpTestSuite() {
    auto k = PrivateKey::generate_rsa(2048);
    ASSERT_TRUE(k.ok()) << k.error().message;
    key_ = new PrivateKey(std::move(*k));
  }
  static void TearDownTestSuite() {
    delete key_;
    key_ = nullptr;
  }
  static const PrivateKey& key() { return *key_; }

  static SecretBytes sample_r(std::uint8_t last = 0x5a) {
    SecretBytes r(20);
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(0x11 * (i + 1));
    r[19] = last;
    return r;
  }

  static Bytes encrypt(const SecretBytes* r, const std::string& password,
                       KeyFileOptions options = {}) {
    auto f = encrypt_key_file(key(), r, SecretString(password), options);
    EXPECT_TRUE(f.ok()) << f.error().message;
    return f.ok() ? *f : Bytes{};
  }

  static void expectSameKey(const PrivateKey& a, const PrivateKey& b) {
    auto pa = a.public_key_der();
    auto pb = b.public_key_der();
    ASSERT_TRUE(pa.ok() && pb.ok());
    EXPECT_EQ(*pa, *pb);
  }

  template <class T>
  static void expectError(const Result<T>& r, Errc code, const std::string& fragment = {}) {
    ASSERT_FALSE(r.ok()) << "expected " << errc_name(code);
    EXPECT_EQ(r.error().code, code) << errc_name(r.error().code) << ": " << r.error().message;
    if (!fragment.empty()) {
      EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
    }
  }

  static void expectDecryptError(const Bytes& file, const std::string& password, Errc code,
                                 const std::string& fragment = {}) {
    expectError(decrypt_key_file(file, SecretString(password)), code, fragment);
  }

  // Encrypts a PrivateKeyInfo (as built by the test) with OpenSSL's own PBES2
  // writer: AES-256-CBC, PBKDF2-HMAC-SHA256.
  static Bytes openssl_encrypt(PKCS8_PRIV_KEY_INFO* p8, const std::string& password,
                               int iter = 2048) {
    SigPtr sig(PKCS8_encrypt_ex(-1, EVP_aes_256_cbc(), password.data(),
                                static_cast<int>(password.size()), nullptr, 0, iter, p8, nullptr,
                                nullptr));
    EXPECT_NE(sig, nullptr);
    return sig ? encode_sig(sig.get()) : Bytes{};
  }

  static P8Ptr plain_p8() { return P8Ptr(EVP_PKEY2PKCS8(key().native())); }

  // Rewrites the iteration count of a seedCBCWithSHA1 or PBES2 file.
  static Bytes with_iterations(const Bytes& file, const char* decimal) {
    SigPtr sig = parse_sig(file);
    X509_ALGOR* alg = nullptr;
    ASN1_OCTET_STRING* data = nullptr;
    X509_SIG_getm(sig.get(), &alg, &data);
    BIGNUM* bn = nullptr;
    EXPECT_GT(BN_dec2bn(&bn, decimal), 0);
    Bytes out;
    if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) {
      auto* pbe2 = static_cast<PBE2PARAM*>(
          ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
      auto* kdf = static_cast<PBKDF2PARAM*>(
          ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), pbe2->keyfunc->parameter));
      ASN1_INTEGER_free(kdf->iter);
      kdf->iter = BN_to_ASN1_INTEGER(bn, nullptr);
      EXPECT_NE(
          ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), kdf, &pbe2->keyfunc->parameter),
          nullptr);
      EXPECT_NE(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), pbe2, &alg->parameter), nullptr);
      PBKDF2PARAM_free(kdf);
      PBE2PARAM_free(pbe2);
    } else {
      auto* pbe = static_cast<PBEPARAM*>(
          ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
      ASN1_INTEGER_free(pbe->iter);
      pbe->iter = BN_to_ASN1_INTEGER(bn, nullptr);
      EXPECT_NE(ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBEPARAM), pbe, &alg->parameter), nullptr);
      PBEPARAM_free(pbe);
    }
    BN_free(bn);
    return encode_sig(sig.get());
  }

 private:
  static inline PrivateKey* key_ = nullptr;
};

// ---------------------------------------------------------------------------
// Known answers: every credential of tests/data/pki/cred (written by gen.sh
// with the openssl CLI).

struct Variant {
  KeyFileScheme scheme;
  const char* inspect_kdf;  // what the file says
  const char* opened_kdf;   // what opened it
  const char* cipher;
};

const std::map<std::string, Variant>& variants() {
  static const std::map<std::string, Variant> v{
      {"seedsha1", {KeyFileScheme::seed_cbc_with_sha1, "PBKDF1-SHA1", "PBKDF1-SHA1", "SEED-CBC"}},
      {"seedcbc-pbkdf1",
       {KeyFileScheme::seed_cbc_legacy, "PBKDF1-SHA1", "PBKDF1-SHA1", "SEED-CBC"}},
      {"seedcbc-pbkdf2",
       {KeyFileScheme::seed_cbc_legacy, "PBKDF1-SHA1", "PBKDF2-HMAC-SHA1", "SEED-CBC"}},
      {"pbes2-seed-sha1",
       {KeyFileScheme::pbes2, "PBKDF2-HMAC-SHA1", "PBKDF2-HMAC-SHA1", "SEED-CBC"}},
      {"pbes2-seed-sha256",
       {KeyFileScheme::pbes2, "PBKDF2-HMAC-SHA256", "PBKDF2-HMAC-SHA256", "SEED-CBC"}},
      {"pbes2-aria",
       {KeyFileScheme::pbes2, "PBKDF2-HMAC-SHA256", "PBKDF2-HMAC-SHA256", "ARIA-128-CBC"}},
      {"pbes2-aes-openssl",
       {KeyFileScheme::pbes2, "PBKDF2-HMAC-SHA256", "PBKDF2-HMAC-SHA256", "AES-256-CBC"}},
      {"pbes2-seed-openssl",
       {KeyFileScheme::pbes2, "PBKDF2-HMAC-SHA256", "PBKDF2-HMAC-SHA256", "SEED-CBC"}},
  };
  return v;
}

class CredentialTest : public KeyFileTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    dir_ = data_path("pki/cred/" + GetParam());
    if (!fs::exists(dir_ / "expected.txt")) GTEST_SKIP() << "no test data in " << dir_;
    expected_ = read_expected(dir_ / "expected.txt");
    file_ = read_bytes(dir_ / "signPri.key");
    auto v = variants().find(expected_.at("enc"));
    ASSERT_NE(v, variants().end()) << "unknown enc " << expected_.at("enc");
    variant_ = v->second;
  }

  fs::path dir_;
  std::map<std::string, std::string> expected_;
  Bytes file_;
  Variant variant_{};
};

TEST_P(CredentialTest, InspectReportsTheScheme) {
  auto info = inspect_key_file(file_);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->scheme, variant_.scheme);
  EXPECT_EQ(info->iterations, std::stoull(expected_.at("iterations")));
  EXPECT_EQ(info->kdf, variant_.inspect_kdf);
  EXPECT_EQ(info->cipher, variant_.cipher);
  EXPECT_NE(info->description.find(std::to_string(info->iterations) + " iterations"),
            std::string::npos)
      << info->description;
  if (expected_.count("salt") != 0 && !expected_.at("salt").empty()) {
    EXPECT_EQ(info->salt_length, expected_.at("salt").size() / 2);
  }
}

TEST_P(CredentialTest, DecryptsWithThePasswordAndMatchesTheCertificate) {
  auto k = decrypt_key_file(file_, SecretString(expected_.at("password")));
  ASSERT_TRUE(k.ok()) << k.error().message;
  auto cert = Certificate::from_der(read_bytes(dir_ / "signCert.der"));
  ASSERT_TRUE(cert.ok()) << cert.error().message;
  EXPECT_TRUE(cert->matches(k->key));
  EXPECT_EQ(k->key.bits(), 2048);

  const std::string& r = expected_.at("randomnum");
  if (r.empty()) {
    EXPECT_FALSE(k->random_num.has_value());
  } else {
    ASSERT_TRUE(k->random_num.has_value());
    EXPECT_EQ(hex(*k->random_num), r);
  }
  EXPECT_EQ(k->info.scheme, variant_.scheme);
  EXPECT_EQ(k->info.kdf, variant_.opened_kdf);
  EXPECT_EQ(k->info.cipher, variant_.cipher);
  EXPECT_EQ(k->info.iterations, std::stoull(expected_.at("iterations")));
  EXPECT_NE(k->info.description.find(variant_.opened_kdf), std::string::npos)
      << k->info.description;
}

TEST_P(CredentialTest, WrongPasswordIsWrongPassword) {
  expectDecryptError(file_, expected_.at("password") + "x", Errc::wrong_password, "wrong password");
  expectDecryptError(file_, "", Errc::wrong_password);
}

// The generator recorded the key (and IV) it derived with the openssl CLI.
TEST_P(CredentialTest, DerivedKeyMatchesTheGenerator) {
  if (expected_.count("key") == 0 || expected_.at("key").empty()) GTEST_SKIP() << "no key recorded";
  SecretString pw(expected_.at("password"));
  Bytes salt = from_hex(expected_.at("salt"));
  std::uint64_t iter = std::stoull(expected_.at("iterations"));
  const std::string& enc = expected_.at("enc");
  if (enc == "seedsha1" || enc == "seedcbc-pbkdf1") {
    auto dk = internal::pbkdf1_sha1(pw.bytes(), salt, iter);
    ASSERT_TRUE(dk.ok());
    EXPECT_EQ(to_hex(Bytes(dk->data(), dk->data() + 16)), expected_.at("key"));
    if (enc == "seedsha1") {
      unsigned char h[20];
      ASSERT_EQ(EVP_Digest(dk->data() + 16, 4, h, nullptr, EVP_sha1(), nullptr), 1);
      EXPECT_EQ(to_hex(Bytes(h, h + 16)), expected_.at("iv"));
    }
  } else {
    const char* digest = expected_.at("prf") == "hmacWithSHA256" ? "SHA2-256" : "SHA1";
    auto k = internal::pbkdf2(pw.bytes(), salt, iter, digest, expected_.at("key").size() / 2);
    ASSERT_TRUE(k.ok()) << k.error().message;
    EXPECT_EQ(hex(*k), expected_.at("key"));
  }
}

INSTANTIATE_TEST_SUITE_P(Cred, CredentialTest,
                         ::testing::Values("yessign-general", "yessign-bank", "signgate-old",
                                           "signkorea-pbkdf2", "crosscert-pbes2", "tradesign-pbes2",
                                           "aria", "aes-openssl", "seed-openssl", "norandom",
                                           "corporate", "expired", "unknown-policy"),
                         [](const auto& p) {
                           std::string n = p.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---------------------------------------------------------------------------
// Negative files of tests/data/pki/bad.

class BadFileTest : public KeyFileTest {
 protected:
  void SetUp() override {
    if (!fs::exists(data_path("pki/bad/expected.txt"))) GTEST_SKIP() << "no test data";
    password_ = read_expected(data_path("pki/cred/yessign-general/expected.txt")).at("password");
  }
  static Bytes bad(const std::string& name) { return read_bytes(data_path("pki/bad/" + name)); }
  void expectBad(const std::string& name, Errc code, const std::string& fragment = {}) {
    SCOPED_TRACE(name);
    expectDecryptError(bad(name), password_, code, fragment);
  }
  std::string password_;
};

TEST_F(BadFileTest, EmptyFile) {
  expectBad("empty.key", Errc::invalid_input, "key file is empty");
  expectError(inspect_key_file(bad("empty.key")), Errc::invalid_input, "key file is empty");
}

TEST_F(BadFileTest, TruncatedFile) {
  expectBad("truncated.key", Errc::invalid_input, "truncated or not DER");
  expectError(inspect_key_file(bad("truncated.key")), Errc::invalid_input);
}

TEST_F(BadFileTest, RandomBytes) {
  expectBad("not-der.key", Errc::invalid_input, "truncated or not DER");
}

// A certificate is DER but not an EncryptedPrivateKeyInfo.
TEST_F(BadFileTest, CertificateGivenAsKey) {
  expectBad("cert-as-key.key", Errc::invalid_input, "truncated or not DER");
}

TEST_F(BadFileTest, UnknownOuterAlgorithmIsForeign) {
  expectBad("wrong-oid.key", Errc::foreign_format, "1.2.3.4");
  expectError(inspect_key_file(bad("wrong-oid.key")), Errc::foreign_format, "1.2.3.4");
}

TEST_F(BadFileTest, Pbes1IsForeign) {
  expectBad("unsupported-oid.key", Errc::foreign_format, "1.2.840.113549.1.5.3");
}

// A flipped bit in the last ciphertext block breaks the PKCS#7 padding: the
// format has no integrity check, so this is indistinguishable from a wrong
// password.
TEST_F(BadFileTest, BitflipInLastBlockLooksLikeAWrongPassword) {
  expectBad("bitflip-ciphertext.key", Errc::wrong_password, "wrong password");
}

// A flipped bit in a middle block garbles 16 bytes inside the RSA modulus: the
// padding and the DER stay valid, but the key is no longer consistent (n != pq),
// which the pairwise check catches.
TEST_F(BadFileTest, BitflipInsideTheKeyIsDamage) {
  expectBad("bitflip-middle.key", Errc::invalid_input, "key file is damaged");
}

TEST_F(BadFileTest, OtherKeyDecryptsButDoesNotMatchTheCertificate) {
  auto k = decrypt_key_file(bad("other-key.key"), SecretString(password_));
  ASSERT_TRUE(k.ok()) << k.error().message;
  auto cert = Certificate::from_der(read_bytes(data_path("pki/cred/yessign-general/signCert.der")));
  ASSERT_TRUE(cert.ok());
  EXPECT_FALSE(cert->matches(k->key));
}

// ---------------------------------------------------------------------------
// Round trips of everything we write.

struct WriteCase {
  const char* name;
  Format format;
  KeyFileScheme scheme;
  std::uint64_t default_iterations;
  const char* kdf;
  const char* cipher;
  std::size_t salt_length;
};
void PrintTo(const WriteCase& c, std::ostream* os) {
  *os << c.name;
}

class RoundTripTest : public KeyFileTest, public ::testing::WithParamInterface<WriteCase> {};

TEST_P(RoundTripTest, WithRandomNumAndKoreanPassword) {
  const WriteCase& c = GetParam();
  SecretBytes r = sample_r();
  KeyFileOptions o;
  o.format = c.format;
  Bytes f = encrypt(&r, kKoreanPassword, o);
  auto k = decrypt_key_file(f, SecretString(kKoreanPassword));
  ASSERT_TRUE(k.ok()) << k.error().message;
  expectSameKey(k->key, key());
  ASSERT_TRUE(k->random_num.has_value());
  EXPECT_EQ(hex(*k->random_num), hex(r));
  EXPECT_EQ(k->info.scheme, c.scheme);
  EXPECT_EQ(k->info.iterations, c.default_iterations);
  EXPECT_EQ(k->info.kdf, c.kdf);
  EXPECT_EQ(k->info.cipher, c.cipher);
  EXPECT_EQ(k->info.salt_length, c.salt_length);
}

TEST_P(RoundTripTest, WithoutRandomNum) {
  KeyFileOptions o;
  o.format = GetParam().format;
  Bytes f = encrypt(nullptr, "Plain-ascii-pw1", o);
  auto k = decrypt_key_file(f, SecretString("Plain-ascii-pw1"));
  ASSERT_TRUE(k.ok()) << k.error().message;
  expectSameKey(k->key, key());
  EXPECT_FALSE(k->random_num.has_value());
}

// R ending in zero bits must survive: the BIT STRING says "0 unused bits".
TEST_P(RoundTripTest, RandomNumEndingInZeroBits) {
  KeyFileOptions o;
  o.format = GetParam().format;
  for (std::uint8_t last : {0x00, 0x80, 0x10}) {
    SecretBytes r = sample_r(last);
    auto k = decrypt_key_file(encrypt(&r, "pw-zero-bits", o), SecretString("pw-zero-bits"));
    ASSERT_TRUE(k.ok()) << k.error().message;
    ASSERT_TRUE(k->random_num.has_value());
    EXPECT_EQ(hex(*k->random_num), hex(r));
  }
}

TEST_P(RoundTripTest, WrongPassword) {
  KeyFileOptions o;
  o.format = GetParam().format;
  SecretBytes r = sample_r();
  Bytes f = encrypt(&r, kKoreanPassword, o);
  expectDecryptError(f, "도장비밀번호!Seal2025", Errc::wrong_password);
}

TEST_P(RoundTripTest, FreshSaltEveryTime) {
  KeyFileOptions o;
  o.format = GetParam().format;
  EXPECT_NE(encrypt(nullptr, "same-password", o), encrypt(nullptr, "same-password", o));
}

INSTANTIATE_TEST_SUITE_P(
    Formats, RoundTripTest,
    ::testing::Values(WriteCase{"seed_cbc_with_sha1", Format::seed_cbc_with_sha1,
                                KeyFileScheme::seed_cbc_with_sha1, 2048, "PBKDF1-SHA1", "SEED-CBC",
                                8},
                      WriteCase{"pbes2_seed", Format::pbes2_seed, KeyFileScheme::pbes2, 10000,
                                "PBKDF2-HMAC-SHA256", "SEED-CBC", 16},
                      WriteCase{"pbes2_aria", Format::pbes2_aria, KeyFileScheme::pbes2, 10000,
                                "PBKDF2-HMAC-SHA256", "ARIA-128-CBC", 16}),
    [](const auto& p) { return std::string(p.param.name); });

TEST_F(KeyFileTest, DefaultFormatIsSeedCbcWithSha1At2048) {
  auto info = inspect_key_file(encrypt(nullptr, "default-pw"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->scheme, KeyFileScheme::seed_cbc_with_sha1);
  EXPECT_EQ(info->iterations, 2048u);
  EXPECT_EQ(info->description, "seedCBCWithSHA1 (PBKDF1-SHA1, 2048 iterations)");
}

TEST_F(KeyFileTest, ExplicitIterationCounts) {
  KeyFileOptions o;
  o.iterations = 1024;
  auto info = inspect_key_file(encrypt(nullptr, "pw-1024", o));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->iterations, 1024u);

  o.format = Format::pbes2_aria;
  o.iterations = 12345;
  Bytes f = encrypt(nullptr, "pw-12345", o);
  info = inspect_key_file(f);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->iterations, 12345u);
  EXPECT_EQ(info->description, "PBES2 (PBKDF2-HMAC-SHA256, 12345 iterations, ARIA-128-CBC)");
  EXPECT_TRUE(decrypt_key_file(f, SecretString("pw-12345")).ok());
}

TEST_F(KeyFileTest, EncoderRefusesBadOptions) {
  KeyFileOptions o;
  expectError(encrypt_key_file(key(), nullptr, SecretString(""), o), Errc::usage);
  SecretBytes empty;
  expectError(encrypt_key_file(key(), &empty, SecretString("pw"), o), Errc::usage);
  o.iterations = static_cast<std::uint32_t>(kMaxKeyFileIterations + 1);
  expectError(encrypt_key_file(key(), nullptr, SecretString("pw"), o), Errc::usage);
  o.format = Format::pbes2_seed;
  o.iterations = 9999;
  expectError(encrypt_key_file(key(), nullptr, SecretString("pw"), o), Errc::policy);
}

// Our seedCBCWithSHA1 output has exactly the KISA shape:
// SEQUENCE { SEQUENCE { OID 1.2.410.200004.1.15, SEQUENCE { OCTET STRING(8), INTEGER } }, OCTET
// STRING }
TEST_F(KeyFileTest, SeedCbcWithSha1Shape) {
  SigPtr sig = parse_sig(encrypt(nullptr, "shape-pw"));
  ASSERT_NE(sig, nullptr);
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_get0(sig.get(), &alg, &data);
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, alg->algorithm, 1);
  EXPECT_STREQ(oid, "1.2.410.200004.1.15");
  auto* pbe =
      static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
  ASSERT_NE(pbe, nullptr);
  EXPECT_EQ(ASN1_STRING_length(pbe->salt), 8);
  EXPECT_EQ(ASN1_INTEGER_get(pbe->iter), 2048);
  PBEPARAM_free(pbe);
  EXPECT_EQ(ASN1_STRING_length(data) % 16, 0);
}

// ---------------------------------------------------------------------------
// Hostile or unusual parameters.

TEST_F(KeyFileTest, AbsurdIterationCountIsRefusedQuickly) {
  Bytes seed = encrypt(nullptr, "pw");
  KeyFileOptions o;
  o.format = Format::pbes2_seed;
  Bytes pbes2 = encrypt(nullptr, "pw", o);
  for (const Bytes* f : {&seed, &pbes2}) {
    for (const char* n :
         {"10000001", "2147483647", "18446744073709551615", "1180591620717411303424"}) {
      SCOPED_TRACE(n);
      Bytes hostile = with_iterations(*f, n);
      auto start = std::chrono::steady_clock::now();
      expectDecryptError(hostile, "pw", Errc::foreign_format, "iteration");
      expectError(inspect_key_file(hostile), Errc::foreign_format);
      EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    }
  }
}

TEST_F(KeyFileTest, ZeroOrNegativeIterationsAreInvalid) {
  Bytes seed = encrypt(nullptr, "pw");
  KeyFileOptions o;
  o.format = Format::pbes2_aria;
  Bytes pbes2 = encrypt(nullptr, "pw", o);
  for (const Bytes* f : {&seed, &pbes2}) {
    expectDecryptError(with_iterations(*f, "0"), "pw", Errc::invalid_input, "iteration");
    expectDecryptError(with_iterations(*f, "-2048"), "pw", Errc::invalid_input, "iteration");
  }
}

// The largest accepted count still works (and bounds the worst case).
TEST_F(KeyFileTest, IterationCountAtTheLimitIsAccepted) {
  Bytes f = with_iterations(encrypt(nullptr, "pw"), "10000000");
  auto info = inspect_key_file(f);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->iterations, kMaxKeyFileIterations);
}

TEST_F(KeyFileTest, TrailingBytesAreRefused) {
  Bytes f = encrypt(nullptr, "pw");
  f.push_back(0);
  expectDecryptError(f, "pw", Errc::invalid_input, "truncated or not DER");
}

TEST_F(KeyFileTest, CiphertextNotAWholeNumberOfBlocksIsDamage) {
  SigPtr sig = parse_sig(encrypt(nullptr, "pw"));
  X509_ALGOR* alg = nullptr;
  ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_getm(sig.get(), &alg, &data);
  Bytes ct(ASN1_STRING_get0_data(data), ASN1_STRING_get0_data(data) + ASN1_STRING_length(data) - 1);
  ASSERT_EQ(ASN1_OCTET_STRING_set(data, ct.data(), static_cast<int>(ct.size())), 1);
  expectDecryptError(encode_sig(sig.get()), "pw", Errc::invalid_input, "damaged");
}

// A private key that decrypts fine but is not internally consistent.
TEST_F(KeyFileTest, InconsistentRsaKeyIsDamage) {
  // The suite's key with d + 2: d no longer inverts e.
  BIGNUM *n = nullptr, *e = nullptr, *d = nullptr, *p = nullptr, *q = nullptr, *dp = nullptr,
         *dq = nullptr, *qi = nullptr;
  EVP_PKEY* k = key().native();
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "n", &n), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "e", &e), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "d", &d), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "rsa-factor1", &p), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "rsa-factor2", &q), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "rsa-exponent1", &dp), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "rsa-exponent2", &dq), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(k, "rsa-coefficient1", &qi), 1);
  ASSERT_EQ(BN_add_word(d, 2), 1);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_BN(bld, "n", n);
  OSSL_PARAM_BLD_push_BN(bld, "e", e);
  OSSL_PARAM_BLD_push_BN(bld, "d", d);
  OSSL_PARAM_BLD_push_BN(bld, "rsa-factor1", p);
  OSSL_PARAM_BLD_push_BN(bld, "rsa-factor2", q);
  OSSL_PARAM_BLD_push_BN(bld, "rsa-exponent1", dp);
  OSSL_PARAM_BLD_push_BN(bld, "rsa-exponent2", dq);
  OSSL_PARAM_BLD_push_BN(bld, "rsa-coefficient1", qi);
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  EVP_PKEY* bad = nullptr;
  ASSERT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  ASSERT_EQ(EVP_PKEY_fromdata(ctx, &bad, EVP_PKEY_KEYPAIR, params), 1);
  PrivateKey bad_key = PrivateKey::adopt(bad);
  EVP_PKEY_free(bad);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  for (BIGNUM* b : {n, e, d, p, q, dp, dq, qi}) BN_clear_free(b);

  auto f = encrypt_key_file(bad_key, nullptr, SecretString("pw"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  expectDecryptError(*f, "pw", Errc::invalid_input, "key file is damaged");
}

// PBES2 files written by the openssl library with attributes we would never write.
class RandomNumAttributeTest : public KeyFileTest {
 protected:
  // Adds Attribute { randomNum, SET { values... } } to a fresh PrivateKeyInfo
  // and encrypts it with OpenSSL's PBES2 writer.
  Bytes file_with(const std::vector<ASN1_TYPE*>& values, int copies = 1) {
    P8Ptr p8 = plain_p8();
    ASN1_OBJECT* oid = OBJ_txt2obj(kRandomNumOid, 1);
    for (int c = 0; c < copies; ++c) {
      X509_ATTRIBUTE* attr = X509_ATTRIBUTE_new();
      EXPECT_EQ(X509_ATTRIBUTE_set1_object(attr, oid), 1);
      for (ASN1_TYPE* v : values) {
        EXPECT_EQ(X509_ATTRIBUTE_set1_data(attr, v->type, v->value.ptr, -1), 1);
      }
      if (c == 0) {
        EXPECT_EQ(PKCS8_pkey_add1_attr(p8.get(), attr), 1);
        X509_ATTRIBUTE_free(attr);
      } else {  // OpenSSL refuses to add a duplicate: push it behind its back
        auto* attrs = const_cast<STACK_OF(X509_ATTRIBUTE)*>(PKCS8_pkey_get0_attrs(p8.get()));
        EXPECT_GT(sk_X509_ATTRIBUTE_push(attrs, attr), 0);
      }
    }
    ASN1_OBJECT_free(oid);
    for (ASN1_TYPE* v : values) ASN1_TYPE_free(v);
    return openssl_encrypt(p8.get(), "attr-pw");
  }
  static ASN1_TYPE* bits(const Bytes& b, int unused = 0) {
    ASN1_BIT_STRING* s = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set(s, const_cast<unsigned char*>(b.data()), static_cast<int>(b.size()));
    s->flags = ASN1_STRING_FLAG_BITS_LEFT | unused;
    ASN1_TYPE* t = ASN1_TYPE_new();
    ASN1_TYPE_set(t, V_ASN1_BIT_STRING, s);
    return t;
  }
  static ASN1_TYPE* octets(const Bytes& b) {
    ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(s, b.data(), static_cast<int>(b.size()));
    ASN1_TYPE* t = ASN1_TYPE_new();
    ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, s);
    return t;
  }
  void expectMalformed(const Bytes& f) {
    expectDecryptError(f, "attr-pw", Errc::invalid_input, "randomNum");
  }
};

TEST_F(RandomNumAttributeTest, AnyNonEmptyLengthIsAccepted) {
  for (std::size_t n : {1u, 20u, 32u}) {
    Bytes r(n, 0xa5);
    auto k = decrypt_key_file(file_with({bits(r)}), SecretString("attr-pw"));
    ASSERT_TRUE(k.ok()) << k.error().message;
    ASSERT_TRUE(k->random_num.has_value());
    EXPECT_EQ(hex(*k->random_num), to_hex(r));
  }
}

TEST_F(RandomNumAttributeTest, OtherAttributesAreIgnored) {
  P8Ptr p8 = plain_p8();
  ASSERT_EQ(PKCS8_pkey_add1_attr_by_NID(p8.get(), NID_friendlyName, MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("name"), -1),
            1);
  auto k = decrypt_key_file(openssl_encrypt(p8.get(), "attr-pw"), SecretString("attr-pw"));
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_FALSE(k->random_num.has_value());
}

TEST_F(RandomNumAttributeTest, MalformedAttributesAreRefused) {
  Bytes r(20, 0x42);
  {
    SCOPED_TRACE("OCTET STRING");
    expectMalformed(file_with({octets(r)}));
  }
  {
    SCOPED_TRACE("empty BIT STRING");
    expectMalformed(file_with({bits({})}));
  }
  {
    SCOPED_TRACE("unused bits");
    expectMalformed(file_with({bits(r, 3)}));
  }
  {
    SCOPED_TRACE("two values");
    expectMalformed(file_with({bits(r), bits(r)}));
  }
  {
    SCOPED_TRACE("no value");
    expectMalformed(file_with({}));
  }
  {
    SCOPED_TRACE("two attributes");
    expectMalformed(file_with({bits(r)}, 2));
  }
}

// ---------------------------------------------------------------------------
// Interoperability with the openssl CLI.

class OpensslCliTest : public KeyFileTest {
 protected:
  void SetUp() override {
    write_text(tmp_ / "openssl.cnf", "");  // never read the system configuration
    write_text(tmp_ / "pw", kKoreanPassword);
  }
  dojang::testing::RunResult sh(const std::string& script) {
    return run({"/bin/sh", "-c", script}, {}, {"OPENSSL_CONF=" + (tmp_ / "openssl.cnf").string()});
  }
  std::string path(const std::string& rel) const { return (tmp_ / rel).string(); }
  void expectOpensslReadsPkcs8(const Bytes& file) {
    write_bytes(tmp_ / "k.der", file);
    auto r = sh("openssl pkcs8 -inform DER -in " + path("k.der") + " -passin file:" + path("pw") +
                " -provider legacy -provider default -out " + path("k.pem"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Bytes pem = read_bytes(tmp_ / "k.pem");
    auto k = PrivateKey::from_pem(pem);
    ASSERT_TRUE(k.ok()) << k.error().message;
    expectSameKey(*k, key());
  }

  TempDir tmp_;
};

TEST_F(OpensslCliTest, OpensslReadsOurPbes2Seed) {
  KeyFileOptions o;
  o.format = Format::pbes2_seed;
  SecretBytes r = sample_r();
  expectOpensslReadsPkcs8(encrypt(&r, kKoreanPassword, o));
}

TEST_F(OpensslCliTest, OpensslReadsOurPbes2Aria) {
  KeyFileOptions o;
  o.format = Format::pbes2_aria;
  SecretBytes r = sample_r();
  expectOpensslReadsPkcs8(encrypt(&r, kKoreanPassword, o));
}

// Our default output (seedCBCWithSHA1, 2048 iterations) decrypted by the
// openssl CLI alone: PBKDF1 as 2048 runs of `openssl dgst -sha1` (started as
// pipelines of 32 processes; a few seconds), then `openssl enc -seed-cbc`.
TEST_F(OpensslCliTest, OpensslCliDecryptsOurSeedCbcWithSha1) {
  SecretBytes r = sample_r(0x00);
  // The shell below runs one `openssl dgst` per PBKDF1 iteration: 97 of them
  // (three 32-process pipelines and one single step) instead of the default
  // 2048 keep the test at a second; the default count is checked elsewhere.
  KeyFileOptions options;
  options.iterations = 97;
  Bytes file = encrypt(&r, kKoreanPassword, options);
  SigPtr sig = parse_sig(file);  // fields read back with OpenSSL's own templates
  ASSERT_NE(sig, nullptr);
  const X509_ALGOR* alg = nullptr;
  const ASN1_OCTET_STRING* data = nullptr;
  X509_SIG_get0(sig.get(), &alg, &data);
  auto* pbe =
      static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
  ASSERT_NE(pbe, nullptr);
  write_bytes(tmp_ / "salt",
              Bytes(ASN1_STRING_get0_data(pbe->salt),
                    ASN1_STRING_get0_data(pbe->salt) + ASN1_STRING_length(pbe->salt)));
  long iter = ASN1_INTEGER_get(pbe->iter);
  PBEPARAM_free(pbe);
  write_bytes(tmp_ / "ct", Bytes(ASN1_STRING_get0_data(data),
                                 ASN1_STRING_get0_data(data) + ASN1_STRING_length(data)));
  ASSERT_EQ(iter, 97);

  const std::string script = R"(set -eu
cd ")" + tmp_.path().string() +
                             R"("
stage='openssl dgst -sha1 -binary'
chunk=$stage; n=1
while [ $n -lt 32 ]; do chunk="$chunk | $stage"; n=$((n + 1)); done
cat pw salt | openssl dgst -sha1 -binary > t
left=$(()" + std::to_string(iter) +
                             R"( - 1))
while [ $left -ge 32 ]; do eval "$chunk" < t > t2; mv t2 t; left=$((left - 32)); done
while [ $left -gt 0 ]; do openssl dgst -sha1 -binary < t > t2; mv t2 t; left=$((left - 1)); done
key=$(head -c 16 t | od -An -tx1 | tr -d ' \n')
iv=$(tail -c 4 t | openssl dgst -sha1 -binary | head -c 16 | od -An -tx1 | tr -d ' \n')
openssl enc -d -seed-cbc -K "$key" -iv "$iv" -in ct -out pki.der -provider legacy -provider default
openssl asn1parse -inform DER -in pki.der
openssl pkey -inform DER -in pki.der -out key.pem
)";
  auto start = std::chrono::steady_clock::now();
  auto res = sh(script);
  ASSERT_EQ(res.exit_code, 0) << res.err;
  RecordProperty("cli_seconds", static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                                     std::chrono::steady_clock::now() - start)
                                                     .count()));
  // asn1parse shows the randomNum attribute: OID, then the 20-byte BIT STRING.
  EXPECT_NE(res.out.find(":1.2.410.200004.10.1.1.3"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("BIT STRING"), std::string::npos) << res.out;
  auto k = PrivateKey::from_pem(read_bytes(tmp_ / "key.pem"));
  ASSERT_TRUE(k.ok()) << k.error().message;
  expectSameKey(*k, key());
  // The BIT STRING content is 00 (unused bits) || R, at the very end of the PrivateKeyInfo.
  Bytes pki = read_bytes(tmp_ / "pki.der");
  ASSERT_GE(pki.size(), 21u);
  EXPECT_EQ(to_hex(Bytes(pki.end() - 21, pki.end())), "00" + hex(r));
}

struct OpensslWrite {
  const char* name;
  const char* args;
  const char* kdf;
  const char* cipher;
};
void PrintTo(const OpensslWrite& w, std::ostream* os) {
  *os << w.args;
}

class OpensslWritesTest : public OpensslCliTest,
                          public ::testing::WithParamInterface<OpensslWrite> {};

// Files written by `openssl pkcs8 -topk8` with various PBES2 choices decrypt.
TEST_P(OpensslWritesTest, WeReadIt) {
  auto pem = key().to_pem();
  ASSERT_TRUE(pem.ok());
  write_bytes(tmp_ / "key.pem", Bytes(pem->view().begin(), pem->view().end()));
  auto r = sh(std::string("openssl pkcs8 -topk8 -in ") + path("key.pem") + " " + GetParam().args +
              " -iter 2048 -outform DER -passout file:" + path("pw") +
              " -provider legacy -provider default -out " + path("k.der"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Bytes f = read_bytes(tmp_ / "k.der");
  auto k = decrypt_key_file(f, SecretString(kKoreanPassword));
  ASSERT_TRUE(k.ok()) << k.error().message;
  expectSameKey(k->key, key());
  EXPECT_FALSE(k->random_num.has_value());
  EXPECT_EQ(k->info.scheme, KeyFileScheme::pbes2);
  EXPECT_EQ(k->info.kdf, GetParam().kdf);
  EXPECT_EQ(k->info.cipher, GetParam().cipher);
  EXPECT_EQ(k->info.iterations, 2048u);
  expectDecryptError(f, "not the password", Errc::wrong_password);
}

INSTANTIATE_TEST_SUITE_P(
    Pbes2, OpensslWritesTest,
    ::testing::Values(
        OpensslWrite{"seed_default_prf", "-v2 seed-cbc", "PBKDF2-HMAC-SHA256", "SEED-CBC"},
        OpensslWrite{"seed_sha1", "-v2 seed-cbc -v2prf hmacWithSHA1", "PBKDF2-HMAC-SHA1",
                     "SEED-CBC"},
        OpensslWrite{"aria128", "-v2 aria-128-cbc", "PBKDF2-HMAC-SHA256", "ARIA-128-CBC"},
        OpensslWrite{"aria192_sha512", "-v2 aria-192-cbc -v2prf hmacWithSHA512",
                     "PBKDF2-HMAC-SHA512", "ARIA-192-CBC"},
        OpensslWrite{"aria256_sha384", "-v2 aria-256-cbc -v2prf hmacWithSHA384",
                     "PBKDF2-HMAC-SHA384", "ARIA-256-CBC"},
        OpensslWrite{"aes128_sha224", "-v2 aes-128-cbc -v2prf hmacWithSHA224", "PBKDF2-HMAC-SHA224",
                     "AES-128-CBC"},
        OpensslWrite{"aes192", "-v2 aes-192-cbc", "PBKDF2-HMAC-SHA256", "AES-192-CBC"},
        OpensslWrite{"aes256", "-v2 aes-256-cbc", "PBKDF2-HMAC-SHA256", "AES-256-CBC"}),
    [](const auto& p) { return std::string(p.param.name); });

// What openssl can write but we do not read is foreign, with the OID named.
TEST_F(OpensslCliTest, ForeignOpensslSchemesAreNamed) {
  auto pem = key().to_pem();
  ASSERT_TRUE(pem.ok());
  write_bytes(tmp_ / "key.pem", Bytes(pem->view().begin(), pem->view().end()));
  const std::vector<std::pair<std::string, std::string>> cases{
      {"-v2 des3", "1.2.840.113549.3.7"},                    // des-ede3-cbc cipher
      {"-scrypt -scrypt_N 1024", "1.3.6.1.4.1.11591.4.11"},  // scrypt KDF
      {"-v1 PBE-SHA1-3DES", "1.2.840.113549.1.12.1.3"},      // PKCS#12 PBE
  };
  for (const auto& [args, oid] : cases) {
    SCOPED_TRACE(args);
    auto r = sh("openssl pkcs8 -topk8 -in " + path("key.pem") + " " + args +
                " -outform DER -passout file:" + path("pw") +
                " -provider legacy -provider default -out " + path("k.der"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Bytes f = read_bytes(tmp_ / "k.der");
    expectError(inspect_key_file(f), Errc::foreign_format, oid);
    expectDecryptError(f, kKoreanPassword, Errc::foreign_format, oid);
  }
}

}  // namespace
}  // namespace dojang::pki
