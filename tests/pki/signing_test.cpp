#include "dojang/pki/signing.hpp"

#include <gtest/gtest.h>
#include <openssl/cms.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

namespace fs = std::filesystem;
using dojang::testing::read_bytes;
using dojang::testing::RunResult;
using dojang::testing::TempDir;
using dojang::testing::write_bytes;
using namespace std::string_literals;

// 2024-05-01 12:34:56 UTC: printed by `openssl cms -print` as "May  1 12:34:56 2024 GMT".
constexpr std::chrono::seconds kSigningEpoch{1714566896};

std::string find_openssl() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    fs::path candidate = fs::path(dir) / "openssl";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "/usr/bin/openssl";
}

RunResult openssl(std::vector<std::string> args) {
  args.insert(args.begin(), find_openssl());
  return dojang::testing::run(args);
}

std::string describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

Bytes to_bytes(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

// A key and self-signed certificate made by the openssl CLI.
struct Credential {
  fs::path key_pem;
  fs::path cert_pem;
  fs::path pub_pem;
  std::optional<PrivateKey> key;
  std::optional<Certificate> cert;
};

class SigningTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // a and b share issuer name and serial (same sid) but not the key.
    a_ = make_credential(
        "a", {"-x509", "-newkey", "rsa:2048", "-subj", "/CN=signer", "-set_serial", "1"});
    b_ = make_credential(
        "b", {"-x509", "-newkey", "rsa:2048", "-subj", "/CN=signer", "-set_serial", "1"});
    c_ = make_credential(
        "c", {"-x509", "-newkey", "rsa:2048", "-subj", "/CN=second signer", "-set_serial", "2"});
    ec_ = make_credential("ec", {"-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                 "-subj", "/CN=ec signer"});
  }
  static void TearDownTestSuite() {
    delete a_;
    delete b_;
    delete c_;
    delete ec_;
    delete dir_;
  }

  static Credential* make_credential(const std::string& name, std::vector<std::string> req) {
    auto* cred = new Credential;
    cred->key_pem = *dir_ / (name + ".key");
    cred->cert_pem = *dir_ / (name + ".pem");
    cred->pub_pem = *dir_ / (name + ".pub");
    req.insert(req.begin(), "req");
    req.insert(req.end(), {"-nodes", "-days", "365", "-keyout", cred->key_pem.string(), "-out",
                           cred->cert_pem.string()});
    RunResult r = openssl(req);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    r = openssl({"x509", "-in", cred->cert_pem, "-pubkey", "-noout", "-out", cred->pub_pem});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    auto key = PrivateKey::from_pem(read_bytes(cred->key_pem));
    EXPECT_TRUE(key.ok()) << key.error().message;
    auto cert = Certificate::from_pem(read_bytes(cred->cert_pem));
    EXPECT_TRUE(cert.ok()) << cert.error().message;
    if (key.ok()) cred->key = std::move(key).value();
    if (cert.ok()) cred->cert = std::move(cert).value();
    return cred;
  }

  void SetUp() override {
    ASSERT_TRUE(a_->key && a_->cert && b_->key && b_->cert && c_->key && c_->cert && ec_->key &&
                ec_->cert)
        << "test credentials could not be made with the openssl CLI";
  }

  fs::path path(const std::string& name) const { return work_ / name; }
  fs::path write(const std::string& name, const Bytes& data) const {
    write_bytes(work_ / name, data);
    return work_ / name;
  }

  // ASSERT_TRUE(succeeded(r)) stops the test before r.value() is touched.
  template <class T>
  static ::testing::AssertionResult succeeded(const Result<T>& r) {
    if (r.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << errc_name(r.error().code) << ": " << r.error().message;
  }
  template <class T>
  static void expectError(const Result<T>& r, Errc code) {
    ASSERT_FALSE(r.ok()) << "expected " << errc_name(code) << ", got success";
    EXPECT_EQ(r.error().code, code) << errc_name(r.error().code) << ": " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
  static void expectSameCert(const Certificate& got, const Certificate& want) {
    auto g = got.der();
    auto w = want.der();
    ASSERT_TRUE(g.ok() && w.ok());
    EXPECT_EQ(*g, *w);
  }

  // Signs with our code and fails the test on error.
  Bytes signCms(const Credential& cred, const Bytes& content, bool detached, bool attrs,
                std::chrono::seconds at = kSigningEpoch) {
    FakeClock clock{TimePoint(at)};
    auto der = sign_cms(*cred.key, *cred.cert, content,
                        {.detached = detached, .signed_attributes = attrs}, clock);
    EXPECT_TRUE(der.ok()) << der.error().message;
    return der.ok() ? *der : Bytes{};
  }

  // Runs `openssl cms -verify` on a DER SignedData; returns the content it prints.
  RunResult opensslCmsVerify(const Bytes& der, const Bytes* detached_content) {
    std::vector<std::string> args = {
        "cms",  "-verify",           "-binary", "-inform",
        "DER",  "-noverify",         "-in",     write("verify.der", der),
        "-out", path("verified.bin")};
    if (detached_content != nullptr) {
      args.push_back("-content");
      args.push_back(write("verify.content", *detached_content));
    }
    return openssl(args);
  }

  std::string opensslCmsPrint(const Bytes& der) {
    RunResult r =
        openssl({"cms", "-cmsout", "-print", "-inform", "DER", "-in", write("print.der", der)});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return r.out;
  }

  static Credential* a_;
  static Credential* b_;
  static Credential* c_;
  static Credential* ec_;
  static TempDir* dir_;
  TempDir work_;
  // Binary on purpose: CR LF, NUL and a high byte must survive untouched (no MIME
  // canonicalisation).
  const Bytes data_ =
      to_bytes("transfer 1,000,000 KRW to 110-123-456789\r\n\x00\xff binary tail\n"s);
};

Credential* SigningTest::a_ = nullptr;
Credential* SigningTest::b_ = nullptr;
Credential* SigningTest::c_ = nullptr;
Credential* SigningTest::ec_ = nullptr;
TempDir* SigningTest::dir_ = nullptr;

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size()))
    ++n;
  return n;
}

// True when `openssl cms -print` shows field as <ABSENT>.
bool printed_absent(const std::string& printed, const std::string& field) {
  size_t at = printed.find(field);
  if (at == std::string::npos) return false;
  size_t next = printed.find_first_not_of(" \n", at + field.size());
  return next != std::string::npos && printed.compare(next, 8, "<ABSENT>") == 0;
}

// Flips one byte of `needle`'s first occurrence in `der`.
Bytes flip_inside(Bytes der, const Bytes& needle, size_t offset = 0) {
  auto it = std::search(der.begin(), der.end(), needle.begin(), needle.end());
  EXPECT_NE(it, der.end()) << "needle not found in DER";
  if (it != der.end()) *(it + static_cast<std::ptrdiff_t>(offset)) ^= 0x01;
  return der;
}

// The signature value of SignerInfo number `index`, read with OpenSSL (tests only).
Bytes signature_of(const Bytes& der, int index) {
  const unsigned char* p = der.data();
  std::unique_ptr<CMS_ContentInfo, decltype(&::CMS_ContentInfo_free)> cms(
      ::d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())), ::CMS_ContentInfo_free);
  if (!cms) return {};
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(::CMS_get0_SignerInfos(cms.get()), index);
  ASN1_OCTET_STRING* sig = ::CMS_SignerInfo_get0_signature(si);
  return Bytes(::ASN1_STRING_get0_data(sig),
               ::ASN1_STRING_get0_data(sig) + ::ASN1_STRING_length(sig));
}

// True when SignerInfo 0 names cert as its signer (tests only).
bool first_signer_is(const Bytes& der, const Certificate& cert) {
  const unsigned char* p = der.data();
  std::unique_ptr<CMS_ContentInfo, decltype(&::CMS_ContentInfo_free)> cms(
      ::d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())), ::CMS_ContentInfo_free);
  if (!cms) return false;
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(::CMS_get0_SignerInfos(cms.get()), 0);
  return ::CMS_SignerInfo_cert_cmp(si, cert.native()) == 0;
}

// ---- raw PKCS#1 v1.5 signatures ----

TEST_F(SigningTest, RawSignatureIsAcceptedByOpensslDgstAndEqualsItsOwn) {
  auto sig = sign_raw(*a_->key, data_);
  ASSERT_TRUE(succeeded(sig));
  EXPECT_EQ(sig->size(), 256u);
  RunResult r = openssl({"dgst", "-sha256", "-verify", a_->pub_pem, "-signature",
                         write("sig", *sig), write("data", data_)});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("Verified OK"), std::string::npos) << r.out;
  // PKCS#1 v1.5 is deterministic: openssl's own signature is the same bytes.
  r = openssl({"dgst", "-sha256", "-sign", a_->key_pem, "-out", path("openssl.sig"), path("data")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(*sig, read_bytes(path("openssl.sig")));
}

TEST_F(SigningTest, RawSignatureMadeByOpensslVerifies) {
  RunResult r =
      openssl({"dgst", "-sha256", "-sign", a_->key_pem, "-out", path("sig"), write("data", data_)});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  ASSERT_TRUE(succeeded(verify_raw(*a_->cert, data_, read_bytes(path("sig")))));
}

TEST_F(SigningTest, RawSignatureOverEmptyDataRoundTrips) {
  auto sig = sign_raw(*a_->key, {});
  ASSERT_TRUE(succeeded(sig));
  ASSERT_TRUE(succeeded(verify_raw(*a_->cert, {}, *sig)));
  RunResult r = openssl({"dgst", "-sha256", "-verify", a_->pub_pem, "-signature",
                         write("sig", *sig), write("empty", {})});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(SigningTest, TamperedRawDataOrSignatureIsBadSignature) {
  auto sig = sign_raw(*a_->key, data_);
  ASSERT_TRUE(succeeded(sig));
  Bytes tampered_data = data_;
  tampered_data[3] ^= 0x20;
  expectError(verify_raw(*a_->cert, tampered_data, *sig), Errc::bad_signature);
  Bytes tampered_sig = *sig;
  tampered_sig[100] ^= 0x01;
  expectError(verify_raw(*a_->cert, data_, tampered_sig), Errc::bad_signature);
  expectError(verify_raw(*a_->cert, data_, ByteView(*sig).first(255)), Errc::bad_signature);
  expectError(verify_raw(*a_->cert, data_, {}), Errc::bad_signature);
  // Same issuer and serial, another key.
  expectError(verify_raw(*b_->cert, data_, *sig), Errc::bad_signature);
}

TEST_F(SigningTest, RawSigningNeedsRsa) {
  expectError(sign_raw(*ec_->key, data_), Errc::foreign_format);
  expectError(verify_raw(*ec_->cert, data_, Bytes(64, 1)), Errc::foreign_format);
}

// ---- CMS SignedData made by sign_cms, checked by the openssl CLI ----

struct CmsForm {
  bool detached;
  bool signed_attributes;
};

class CmsFormTest : public SigningTest, public ::testing::WithParamInterface<CmsForm> {};

TEST_P(CmsFormTest, OpensslVerifiesItAndWeReadItBack) {
  const CmsForm form = GetParam();
  Bytes der = signCms(*a_, data_, form.detached, form.signed_attributes);
  ASSERT_FALSE(der.empty());

  RunResult r = opensslCmsVerify(der, form.detached ? &data_ : nullptr);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("Verification successful"), std::string::npos) << r.err;
  EXPECT_EQ(read_bytes(path("verified.bin")), data_);

  std::string printed = opensslCmsPrint(der);
  EXPECT_NE(printed.find("pkcs7-signedData"), std::string::npos);
  EXPECT_NE(printed.find("d.issuerAndSerialNumber"), std::string::npos);
  EXPECT_NE(printed.find("algorithm: sha256 (2.16.840.1.101.3.4.2.1)"), std::string::npos);
  EXPECT_EQ(count_of(printed, "d.certificate:"), 1u) << "the signer certificate must be included";
  EXPECT_EQ(printed.find("S/MIME Capabilities"), std::string::npos);
  EXPECT_EQ(printed_absent(printed, "eContent:"), form.detached) << printed;
  if (form.signed_attributes) {
    EXPECT_EQ(count_of(printed, "object: signingTime"), 1u) << printed;
    EXPECT_NE(printed.find("UTCTIME:May  1 12:34:56 2024 GMT"), std::string::npos) << printed;
    EXPECT_EQ(count_of(printed, "object: messageDigest"), 1u);
    EXPECT_EQ(count_of(printed, "object: contentType"), 1u);
  } else {
    EXPECT_TRUE(printed_absent(printed, "signedAttrs:")) << printed;
    EXPECT_EQ(printed.find("signingTime"), std::string::npos);
  }

  auto v = verify_cms(der, form.detached ? std::optional<ByteView>(data_) : std::nullopt);
  ASSERT_TRUE(succeeded(v));
  EXPECT_EQ(v->content, data_);
  EXPECT_EQ(v->detached, form.detached);
  EXPECT_EQ(v->signed_attributes, form.signed_attributes);
  EXPECT_EQ(v->digest_algorithm, "SHA256");
  expectSameCert(v->signer, *a_->cert);
  if (form.signed_attributes) {
    ASSERT_TRUE(v->signing_time.has_value());
    EXPECT_EQ(*v->signing_time, TimePoint(kSigningEpoch));
  } else {
    EXPECT_FALSE(v->signing_time.has_value());
  }
}

TEST_P(CmsFormTest, TamperedContentIsBadSignature) {
  const CmsForm form = GetParam();
  Bytes der = signCms(*a_, data_, form.detached, form.signed_attributes);
  Bytes other = data_;
  other[0] ^= 0x01;
  if (form.detached) {
    expectError(verify_cms(der, std::optional<ByteView>(other)), Errc::bad_signature);
  } else {
    expectError(verify_cms(flip_inside(der, data_), std::nullopt), Errc::bad_signature);
    // Given content that differs from the embedded content.
    expectError(verify_cms(der, std::optional<ByteView>(other)), Errc::bad_signature);
    ASSERT_TRUE(succeeded(verify_cms(der, std::optional<ByteView>(data_))));
  }
}

TEST_P(CmsFormTest, TamperedSignatureIsBadSignature) {
  const CmsForm form = GetParam();
  Bytes der = signCms(*a_, data_, form.detached, form.signed_attributes);
  Bytes tampered = flip_inside(der, signature_of(der, 0), 128);
  auto content = form.detached ? std::optional<ByteView>(data_) : std::nullopt;
  expectError(verify_cms(tampered, content), Errc::bad_signature);
}

INSTANTIATE_TEST_SUITE_P(AllForms, CmsFormTest,
                         ::testing::Values(CmsForm{false, true}, CmsForm{true, true},
                                           CmsForm{false, false}, CmsForm{true, false}),
                         [](const ::testing::TestParamInfo<CmsForm>& form) {
                           return std::string(form.param.detached ? "Detached" : "Attached") +
                                  (form.param.signed_attributes ? "WithAttrs" : "NoAttrs");
                         });

TEST_F(SigningTest, SigningTimeAfter2049IsGeneralizedTime) {
  // 2051-01-02 03:04:05 UTC
  Bytes der = signCms(*a_, data_, false, true, std::chrono::seconds{2556241445});
  std::string printed = opensslCmsPrint(der);
  EXPECT_NE(printed.find("GENERALIZEDTIME:Jan  2 03:04:05 2051 GMT"), std::string::npos) << printed;
  auto v = verify_cms(der, std::nullopt);
  ASSERT_TRUE(succeeded(v));
  ASSERT_TRUE(v->signing_time.has_value());
  EXPECT_EQ(*v->signing_time, TimePoint(std::chrono::seconds{2556241445}));
}

TEST_F(SigningTest, EmptyContentSignsAndVerifies) {
  Bytes der = signCms(*a_, {}, false, true);
  auto v = verify_cms(der, std::nullopt);
  ASSERT_TRUE(succeeded(v));
  EXPECT_TRUE(v->content.empty());
  EXPECT_FALSE(v->detached);
  RunResult r = opensslCmsVerify(der, nullptr);
  EXPECT_EQ(r.exit_code, 0) << describe(r);
}

TEST_F(SigningTest, SignCmsRefusesAKeyThatIsNotTheCertificates) {
  FakeClock clock{TimePoint(kSigningEpoch)};
  expectError(sign_cms(*b_->key, *a_->cert, data_, {}, clock), Errc::key_mismatch);
}

// ---- SignedData made by the openssl CLI, read by verify_cms ----

TEST_F(SigningTest, VerifiesAttachedCmsFromOpenssl) {
  RunResult r = openssl({"cms", "-sign", "-binary", "-nodetach", "-md", "sha256", "-outform", "DER",
                         "-signer", a_->cert_pem, "-inkey", a_->key_pem, "-in",
                         write("data", data_), "-out", path("sig.der")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto v = verify_cms(read_bytes(path("sig.der")), std::nullopt);
  ASSERT_TRUE(succeeded(v));
  EXPECT_EQ(v->content, data_);
  EXPECT_FALSE(v->detached);
  EXPECT_TRUE(v->signed_attributes);
  EXPECT_TRUE(v->signing_time.has_value());
  EXPECT_EQ(v->digest_algorithm, "SHA256");
  expectSameCert(v->signer, *a_->cert);
}

TEST_F(SigningTest, VerifiesDetachedCmsFromOpenssl) {
  RunResult r = openssl({"cms", "-sign", "-binary", "-md", "sha256", "-outform", "DER", "-signer",
                         a_->cert_pem, "-inkey", a_->key_pem, "-in", write("data", data_), "-out",
                         path("sig.der")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  Bytes der = read_bytes(path("sig.der"));
  auto v = verify_cms(der, std::optional<ByteView>(data_));
  ASSERT_TRUE(succeeded(v));
  EXPECT_EQ(v->content, data_);
  EXPECT_TRUE(v->detached);
  EXPECT_TRUE(v->signed_attributes);
  expectSameCert(v->signer, *a_->cert);
  expectError(verify_cms(der, std::nullopt), Errc::usage);
}

TEST_F(SigningTest, VerifiesPkcs7WithoutAttributesFromOpensslSmime) {
  RunResult r = openssl({"smime", "-sign", "-binary", "-nodetach", "-noattr", "-md", "sha256",
                         "-outform", "DER", "-signer", a_->cert_pem, "-inkey", a_->key_pem, "-in",
                         write("data", data_), "-out", path("sig.p7")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto v = verify_cms(read_bytes(path("sig.p7")), std::nullopt);
  ASSERT_TRUE(succeeded(v));
  EXPECT_EQ(v->content, data_);
  EXPECT_FALSE(v->detached);
  EXPECT_FALSE(v->signed_attributes);
  EXPECT_FALSE(v->signing_time.has_value());
  expectSameCert(v->signer, *a_->cert);
}

TEST_F(SigningTest, VerifiesDetachedSha1Pkcs7FromOpensslSmime) {
  // The shape of older Korean relying-party signatures: SHA-1, no attributes, detached.
  RunResult r = openssl({"smime", "-sign", "-binary", "-noattr", "-md", "sha1", "-outform", "DER",
                         "-signer", a_->cert_pem, "-inkey", a_->key_pem, "-in",
                         write("data", data_), "-out", path("sig.p7")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  auto v = verify_cms(read_bytes(path("sig.p7")), std::optional<ByteView>(data_));
  ASSERT_TRUE(succeeded(v));
  EXPECT_TRUE(v->detached);
  EXPECT_FALSE(v->signed_attributes);
  EXPECT_EQ(v->digest_algorithm, "SHA1");
  Bytes other = data_;
  other.push_back('!');
  expectError(verify_cms(read_bytes(path("sig.p7")), std::optional<ByteView>(other)),
              Errc::bad_signature);
}

TEST_F(SigningTest, VerifiesEverySignerAndReportsTheFirst) {
  RunResult r = openssl({"cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-signer",
                         a_->cert_pem, "-inkey", a_->key_pem, "-signer", c_->cert_pem, "-inkey",
                         c_->key_pem, "-in", write("data", data_), "-out", path("sig.der")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  Bytes der = read_bytes(path("sig.der"));
  auto v = verify_cms(der, std::nullopt);
  ASSERT_TRUE(succeeded(v));
  // The first SignerInfo of the SET is whichever one DER sorting put first.
  const Credential& first = first_signer_is(der, *a_->cert) ? *a_ : *c_;
  expectSameCert(v->signer, *first.cert);
  EXPECT_EQ(v->content, data_);

  // A bad second signature fails the whole SignedData.
  expectError(verify_cms(flip_inside(der, signature_of(der, 1), 7), std::nullopt),
              Errc::bad_signature);
  expectError(verify_cms(flip_inside(der, signature_of(der, 0), 7), std::nullopt),
              Errc::bad_signature);
}

// ---- malformed or unsuitable input ----

TEST_F(SigningTest, SwappedSignerCertificateIsBadSignature) {
  // Signed with key a; the SignedData carries only certificate b, which has a's
  // issuer and serial (so it matches the SignerInfo) but another key.
  RunResult r = openssl({"cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-signer",
                         a_->cert_pem, "-inkey", a_->key_pem, "-nocerts", "-certfile", b_->cert_pem,
                         "-in", write("data", data_), "-out", path("sig.der")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  expectError(verify_cms(read_bytes(path("sig.der")), std::nullopt), Errc::bad_signature);
}

TEST_F(SigningTest, MissingSignerCertificateIsInvalidInput) {
  RunResult r = openssl({"cms", "-sign", "-binary", "-nodetach", "-nocerts", "-outform", "DER",
                         "-signer", a_->cert_pem, "-inkey", a_->key_pem, "-in",
                         write("data", data_), "-out", path("sig.der")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  expectError(verify_cms(read_bytes(path("sig.der")), std::nullopt), Errc::invalid_input);
}

TEST_F(SigningTest, ContentInfoThatIsNotSignedDataIsInvalidInput) {
  RunResult r = openssl({"cms", "-data_create", "-binary", "-outform", "DER", "-in",
                         write("data", data_), "-out", path("data.der")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  expectError(verify_cms(read_bytes(path("data.der")), std::nullopt), Errc::invalid_input);
}

TEST_F(SigningTest, MalformedDerIsInvalidInput) {
  Bytes der = signCms(*a_, data_, false, true);
  expectError(verify_cms(ByteView(der).first(der.size() - 10), std::nullopt), Errc::invalid_input);
  expectError(verify_cms(ByteView(der).first(40), std::nullopt), Errc::invalid_input);
  Bytes trailing = der;
  trailing.push_back(0);
  expectError(verify_cms(trailing, std::nullopt), Errc::invalid_input);
  expectError(verify_cms(Bytes(300, 0x42), std::nullopt), Errc::invalid_input);
  expectError(verify_cms({}, std::nullopt), Errc::invalid_input);
  auto cert_der = a_->cert->der();
  ASSERT_TRUE(succeeded(cert_der));
  expectError(verify_cms(*cert_der, std::nullopt), Errc::invalid_input);
}

TEST_F(SigningTest, DetachedSignatureWithoutContentIsUsageError) {
  for (bool attrs : {true, false})
    expectError(verify_cms(signCms(*a_, data_, true, attrs), std::nullopt), Errc::usage);
}

}  // namespace
}  // namespace dojang::pki
