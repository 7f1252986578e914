#include "dojang/pki/encrypted_vid.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dojang/pki/random.hpp"
#include "dojang/pki/vid.hpp"
#include "pki/certinfo_testdata.hpp"
#include "pki/internal/encrypted_vid_asn1.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

using dojang::testing::from_hex;
using dojang::testing::read_bytes;
using dojang::testing::read_text;
using dojang::testing::TempDir;
using dojang::testing::to_hex;
using dojang::testing::write_bytes;
using dojang::testing::write_text;
using internal::VidEncryption;
using test::expected_for;
using test::run_openssl;

constexpr const char* kIdn = "8001011234567";

SecretBytes secret(const Bytes& b) {
  return SecretBytes(ByteView(b));
}

// A key-management certificate and key made by the openssl CLI.
struct KmPair {
  std::string pem_cert;  // path
  std::string pem_key;   // path
  std::string pem_pub;   // path
  std::unique_ptr<Certificate> cert;
  std::unique_ptr<PrivateKey> key;
};

class EncryptedVidTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    km_ = new KmPair(make_pair("km", "Dojang Test KM", "keyEncipherment"));
    other_ = new KmPair(make_pair("other", "Dojang Test KM", "keyEncipherment"));
    signer_ = new KmPair(make_pair("signer", "Dojang Test Signer", "digitalSignature"));
  }
  static void TearDownTestSuite() {
    delete signer_;
    delete other_;
    delete km_;
    delete dir_;
  }

  static KmPair make_pair(const std::string& name, const std::string& cn, const std::string& ku) {
    KmPair p;
    p.pem_cert = (*dir_ / (name + ".pem")).string();
    p.pem_key = (*dir_ / (name + ".key")).string();
    p.pem_pub = (*dir_ / (name + ".pub")).string();
    auto r = run_openssl(*dir_, {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                                 "/CN=" + cn, "-days", "30", "-keyout", p.pem_key, "-out",
                                 p.pem_cert, "-addext", "keyUsage=critical," + ku});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = run_openssl(*dir_, {"pkey", "-in", p.pem_key, "-pubout", "-out", p.pem_pub});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto cert = Certificate::from_pem(read_bytes(p.pem_cert));
    auto key = PrivateKey::from_pem(read_bytes(p.pem_key));
    EXPECT_TRUE(cert.ok() && key.ok());
    p.cert = std::make_unique<Certificate>(std::move(cert).value());
    p.key = std::make_unique<PrivateKey>(std::move(key).value());
    return p;
  }

  static SecretBytes fresh_r() {
    auto r = random_bytes(20);
    EXPECT_TRUE(r.ok());
    return secret(*r);
  }

  // Opens der with the km pair and expects success.
  OpenedVid expectOpens(const Bytes& der) {
    auto opened = open_encrypted_vid(der, *km_->key, *km_->cert);
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().message);
    if (!opened.ok()) return {};
    return std::move(opened).value();
  }

  void expectRejected(const Bytes& der, Errc code) {
    auto opened = open_encrypted_vid(der, *km_->key, *km_->cert);
    ASSERT_FALSE(opened.ok()) << "opened a bad EncryptedVID";
    EXPECT_EQ(opened.error().code, code) << opened.error().message;
  }

  // `openssl asn1parse` of DER bytes.
  std::string asn1parse(const Bytes& der) {
    auto path = *dir_ / "parse.der";
    write_bytes(path, der);
    auto r = run_openssl(*dir_, {"asn1parse", "-inform", "DER", "-in", path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  // RSA-encrypts a file with `openssl pkeyutl` to the km key.
  Bytes openssl_encrypt(ByteView plaintext, const std::string& padding) {
    auto in = *dir_ / "pt.der";
    auto out = *dir_ / "ct.bin";
    write_bytes(in, Bytes(plaintext.begin(), plaintext.end()));
    auto r = run_openssl(*dir_,
                         {"pkeyutl", "-encrypt", "-pubin", "-inkey", km_->pem_pub, "-pkeyopt",
                          "rsa_padding_mode:" + padding, "-in", in.string(), "-out", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_bytes(out);
  }

  // DER built by `openssl asn1parse -genconf` from a generator config.
  Bytes genconf(const std::string& conf) {
    auto cnf = *dir_ / "gen.cnf";
    auto out = *dir_ / "gen.der";
    write_text(cnf, conf);
    auto r =
        run_openssl(*dir_, {"asn1parse", "-genconf", cnf.string(), "-out", out.string(), "-noout"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return read_bytes(out);
  }

  static TempDir* dir_;
  static KmPair* km_;
  static KmPair* other_;
  static KmPair* signer_;
};

TempDir* EncryptedVidTest::dir_ = nullptr;
KmPair* EncryptedVidTest::km_ = nullptr;
KmPair* EncryptedVidTest::other_ = nullptr;
KmPair* EncryptedVidTest::signer_ = nullptr;

TEST_F(EncryptedVidTest, RoundTripWithOaep) {
  SecretBytes r = fresh_r();
  auto der = make_encrypted_vid(*km_->cert, SecretString(kIdn), r);
  ASSERT_TRUE(der.ok()) << der.error().message;

  OpenedVid opened = expectOpens(*der);
  EXPECT_EQ(opened.hash_alg, "sha256");
  auto vid = compute_vid(SecretString(kIdn), r, "sha256");
  ASSERT_TRUE(vid.ok());
  EXPECT_EQ(opened.vid, *vid);
  EXPECT_EQ(to_hex(Bytes(opened.random_num.view().begin(), opened.random_num.view().end())),
            to_hex(Bytes(r.view().begin(), r.view().end())));

  auto match = check_vid_against_idn(opened, SecretString(kIdn));
  ASSERT_TRUE(match.ok());
  EXPECT_TRUE(*match);
  auto other = check_vid_against_idn(opened, SecretString("8001011234568"));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(*other);
  auto bad = check_vid_against_idn(opened, SecretString("80010A1234567"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::usage);
}

TEST_F(EncryptedVidTest, EncodingUsesExplicitTagsAndOaepParameters) {
  auto der = make_encrypted_vid(*km_->cert, SecretString(kIdn), fresh_r());
  ASSERT_TRUE(der.ok());
  std::string parsed = asn1parse(*der);
  // version 0 is the DEFAULT and left out; [1]..[4] wrap complete elements.
  EXPECT_EQ(parsed.find("cont [ 0 ]"), std::string::npos) << parsed;
  for (const char* want : {"cont [ 1 ]", "cont [ 2 ]", "cont [ 3 ]", "cont [ 4 ]", ":sha256",
                           ":rsaesOaep", "OCTET STRING"})
    EXPECT_NE(parsed.find(want), std::string::npos) << want << "\n" << parsed;
  // RSAES-OAEP-params with every default: an empty SEQUENCE.
  EXPECT_NE(parsed.find("l=   0 cons: SEQUENCE"), std::string::npos) << parsed;
}

TEST_F(EncryptedVidTest, Sha1VidRoundTrip) {
  SecretBytes r = fresh_r();
  auto der = make_encrypted_vid(*km_->cert, SecretString(kIdn), r, "sha1");
  ASSERT_TRUE(der.ok()) << der.error().message;
  OpenedVid opened = expectOpens(*der);
  EXPECT_EQ(opened.hash_alg, "sha1");
  EXPECT_EQ(opened.vid.size(), 20u);
  EXPECT_TRUE(*check_vid_against_idn(opened, SecretString(kIdn)));
}

TEST_F(EncryptedVidTest, Pkcs1V15FromOldClientsOpens) {
  SecretBytes r = fresh_r();
  auto der = internal::make_encrypted_vid(*km_->cert, SecretString(kIdn), r, "sha256",
                                          VidEncryption::rsa_pkcs1_v15);
  ASSERT_TRUE(der.ok()) << der.error().message;
  EXPECT_NE(asn1parse(*der).find(":rsaEncryption"), std::string::npos);
  OpenedVid opened = expectOpens(*der);
  EXPECT_TRUE(*check_vid_against_idn(opened, SecretString(kIdn)));
}

TEST_F(EncryptedVidTest, OpensWhatOpensslEncrypted) {
  SecretBytes r = fresh_r();
  auto vid = compute_vid(SecretString(kIdn), r, "sha256");
  ASSERT_TRUE(vid.ok());
  auto plaintext = internal::encode_vid_plaintext("sha256", *vid, r);
  ASSERT_TRUE(plaintext.ok());

  for (auto [padding, enc] : {std::pair{"oaep", VidEncryption::rsa_oaep},
                              std::pair{"pkcs1", VidEncryption::rsa_pkcs1_v15}}) {
    SCOPED_TRACE(padding);
    Bytes ct = openssl_encrypt(plaintext->view(), padding);
    auto der = internal::wrap_encrypted_vid(*km_->cert, enc, "sha256", ct);
    ASSERT_TRUE(der.ok()) << der.error().message;
    OpenedVid opened = expectOpens(*der);
    EXPECT_EQ(opened.vid, *vid);
    EXPECT_TRUE(*check_vid_against_idn(opened, SecretString(kIdn)));
  }
}

// The whole structure as a deployed INISAFE-style client writes it (version 0
// present, NULL AlgorithmIdentifier parameters, rsaEncryption), built by
// `openssl asn1parse -genconf` around the known-answer VID of the
// yessign-general test credential and encrypted by `openssl pkeyutl`.
TEST_F(EncryptedVidTest, OpensTheDeployedClientFormatBuiltByOpenssl) {
  auto expected = expected_for("yessign-general");
  Bytes plaintext = genconf(
      "asn1 = SEQUENCE:content\n"
      "[content]\n"
      "vid = SEQUENCE:vid\n"
      "randomNum = FORMAT:HEX,BITSTRING:" +
      expected["randomnum"] +
      "\n"
      "[vid]\n"
      "hashAlg = SEQUENCE:sha256\n"
      "virtualID = EXP:0,FORMAT:HEX,OCTETSTRING:" +
      expected["vid"] +
      "\n"
      "[sha256]\n"
      "algorithm = OID:sha256\n"
      "parameters = NULL\n");
  Bytes ct = openssl_encrypt(plaintext, "pkcs1");

  auto serial = run_openssl(*dir_, {"x509", "-in", km_->pem_cert, "-noout", "-serial"});
  ASSERT_EQ(serial.exit_code, 0);
  std::string serial_hex = serial.out.substr(serial.out.find('=') + 1);
  serial_hex.erase(serial_hex.find_last_not_of("\r\n") + 1);

  Bytes der = genconf(
      "asn1 = SEQUENCE:ev\n"
      "[ev]\n"
      "version = EXP:0,INTEGER:0\n"
      "vidHashAlg = EXP:1,SEQUENCE:sha256\n"
      "vidEncAlg = EXP:2,SEQUENCE:rsa\n"
      "certID = EXP:3,SEQUENCE:certid\n"
      "encryptedVID = EXP:4,FORMAT:HEX,OCTETSTRING:" +
      to_hex(ct) +
      "\n"
      "[sha256]\n"
      "algorithm = OID:sha256\n"
      "parameters = NULL\n"
      "[rsa]\n"
      "algorithm = OID:rsaEncryption\n"
      "parameters = NULL\n"
      "[certid]\n"
      "issuer = SEQUENCE:name\n"
      "serial = INTEGER:0x" +
      serial_hex +
      "\n"
      "[name]\n"
      "rdn = SET:rdn\n"
      "[rdn]\n"
      "atv = SEQUENCE:cn\n"
      "[cn]\n"
      "type = OID:commonName\n"
      "value = UTF8:Dojang Test KM\n");

  OpenedVid opened = expectOpens(der);
  EXPECT_EQ(opened.hash_alg, "sha256");
  EXPECT_EQ(to_hex(opened.vid), expected["vid"]);
  EXPECT_EQ(to_hex(Bytes(opened.random_num.view().begin(), opened.random_num.view().end())),
            expected["randomnum"]);
  auto match = check_vid_against_idn(opened, SecretString(expected["idn"]));
  ASSERT_TRUE(match.ok());
  EXPECT_TRUE(*match);
}

TEST_F(EncryptedVidTest, EncryptedToAnotherCertificateIsRejected) {
  auto der = make_encrypted_vid(*other_->cert, SecretString(kIdn), fresh_r());
  ASSERT_TRUE(der.ok());
  auto opened = open_encrypted_vid(*der, *km_->key, *km_->cert);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_input);
  EXPECT_NE(opened.error().message.find("encrypted to another certificate"), std::string::npos)
      << opened.error().message;

  // The right certificate with a key that is not its own.
  auto mine = make_encrypted_vid(*km_->cert, SecretString(kIdn), fresh_r());
  ASSERT_TRUE(mine.ok());
  auto mismatch = open_encrypted_vid(*mine, *other_->key, *km_->cert);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, Errc::key_mismatch);
}

TEST_F(EncryptedVidTest, EveryTamperedByteIsRejected) {
  auto der = make_encrypted_vid(*km_->cert, SecretString(kIdn), fresh_r());
  ASSERT_TRUE(der.ok());
  for (size_t i = 0; i < der->size(); ++i) {
    Bytes bad = *der;
    bad[i] ^= 0x5a;
    auto opened = open_encrypted_vid(bad, *km_->key, *km_->cert);
    ASSERT_FALSE(opened.ok()) << "byte " << i << " flipped and still opened";
    EXPECT_TRUE(opened.error().code == Errc::invalid_input ||
                opened.error().code == Errc::foreign_format)
        << "byte " << i << ": " << errc_name(opened.error().code) << " " << opened.error().message;
  }
  // The ciphertext itself: invalid_input, one message whatever the padding says.
  Bytes bad = *der;
  bad[bad.size() - 10] ^= 0x01;
  expectRejected(bad, Errc::invalid_input);
}

TEST_F(EncryptedVidTest, TruncatedAndGarbageInputIsRejected) {
  auto der = make_encrypted_vid(*km_->cert, SecretString(kIdn), fresh_r());
  ASSERT_TRUE(der.ok());
  for (size_t n = 0; n < der->size(); ++n)
    expectRejected(Bytes(der->begin(), der->begin() + static_cast<long>(n)), Errc::invalid_input);
  Bytes longer = *der;
  longer.push_back(0);
  expectRejected(longer, Errc::invalid_input);

  expectRejected({}, Errc::invalid_input);
  expectRejected({0x30, 0x00}, Errc::invalid_input);
  expectRejected({0x04, 0x03, 0x01, 0x02, 0x03}, Errc::invalid_input);
  for (int i = 0; i < 50; ++i) {
    auto junk = random_bytes(static_cast<size_t>(1 + i * 13));
    ASSERT_TRUE(junk.ok());
    (*junk)[0] = 0x30;  // look like a SEQUENCE
    expectRejected(*junk, Errc::invalid_input);
  }
}

TEST_F(EncryptedVidTest, PlaintextThatIsNotEncryptContentIsRejected) {
  const char* kNotContent = "not an EncryptContent";
  Bytes junk(kNotContent, kNotContent + std::string(kNotContent).size());
  Bytes ct = openssl_encrypt(junk, "oaep");
  auto der = internal::wrap_encrypted_vid(*km_->cert, VidEncryption::rsa_oaep, "sha256", ct);
  ASSERT_TRUE(der.ok());
  expectRejected(*der, Errc::invalid_input);

  // A VID whose length does not fit its hash, and a vidHashAlg that disagrees.
  SecretBytes r = fresh_r();
  auto pt = internal::encode_vid_plaintext("sha256", Bytes(20, 0xab), r);
  ASSERT_TRUE(pt.ok());
  auto short_vid = internal::wrap_encrypted_vid(*km_->cert, VidEncryption::rsa_oaep, "sha256",
                                                openssl_encrypt(pt->view(), "oaep"));
  ASSERT_TRUE(short_vid.ok());
  expectRejected(*short_vid, Errc::invalid_input);

  auto vid = compute_vid(SecretString(kIdn), r, "sha256");
  auto good_pt = internal::encode_vid_plaintext("sha256", *vid, r);
  auto disagree = internal::wrap_encrypted_vid(*km_->cert, VidEncryption::rsa_oaep, "sha1",
                                               openssl_encrypt(good_pt->view(), "oaep"));
  ASSERT_TRUE(disagree.ok());
  expectRejected(*disagree, Errc::invalid_input);
}

TEST_F(EncryptedVidTest, MakeRefusesUnsuitableInput) {
  SecretBytes r = fresh_r();
  auto signing = make_encrypted_vid(*signer_->cert, SecretString(kIdn), r);
  ASSERT_FALSE(signing.ok());
  EXPECT_EQ(signing.error().code, Errc::policy);

  auto bad_idn = make_encrypted_vid(*km_->cert, SecretString("80010112345x7"), r);
  ASSERT_FALSE(bad_idn.ok());
  EXPECT_EQ(bad_idn.error().code, Errc::usage);

  auto no_r = make_encrypted_vid(*km_->cert, SecretString(kIdn), SecretBytes());
  ASSERT_FALSE(no_r.ok());
  EXPECT_EQ(no_r.error().code, Errc::invalid_input);

  auto md5 = make_encrypted_vid(*km_->cert, SecretString(kIdn), r, "md5");
  ASSERT_FALSE(md5.ok());
  EXPECT_EQ(md5.error().code, Errc::foreign_format);

  // An EC certificate cannot take RSA encryption.
  auto ec = run_openssl(*dir_, {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=EC", "-keyout",
                                (*dir_ / "ec.key").string(), "-out", (*dir_ / "ec.pem").string()});
  ASSERT_EQ(ec.exit_code, 0) << ec.err;
  auto ec_cert = Certificate::from_pem(read_bytes(*dir_ / "ec.pem"));
  ASSERT_TRUE(ec_cert.ok());
  auto ec_vid = make_encrypted_vid(*ec_cert, SecretString(kIdn), r);
  ASSERT_FALSE(ec_vid.ok());
  EXPECT_EQ(ec_vid.error().code, Errc::foreign_format);
}

}  // namespace
}  // namespace dojang::pki
