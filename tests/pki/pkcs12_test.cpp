// PKCS#12 backups: round trips (R intact, also with a trailing zero byte), the
// km pair, the openssl CLI reading ours and ours reading openssl's (modern and
// -legacy), and damaged or foreign input.
#include "dojang/pki/pkcs12.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "dojang/pki/keyfile.hpp"
#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

namespace fs = std::filesystem;
using dojang::testing::data_path;
using dojang::testing::from_hex;
using dojang::testing::read_bytes;
using dojang::testing::read_expected;
using dojang::testing::read_text;
using dojang::testing::run;
using dojang::testing::TempDir;
using dojang::testing::to_hex;
using dojang::testing::write_bytes;
using dojang::testing::write_text;

constexpr char kOpenssl[] = "/usr/bin/openssl";

struct Cred {
  Certificate cert;
  DecryptedKey key;
  std::map<std::string, std::string> expected;
};

Cred load(const std::string& name) {
  fs::path dir = data_path("pki/cred/" + name);
  auto expected = read_expected(dir / "expected.txt");
  auto cert = Certificate::from_der(read_bytes(dir / "signCert.der"));
  EXPECT_TRUE(cert.ok());
  auto key = decrypt_key_file(read_bytes(dir / "signPri.key"), SecretString(expected["password"]));
  EXPECT_TRUE(key.ok()) << key.error().message;
  return Cred{std::move(cert).value(), std::move(key).value(), expected};
}

std::optional<SecretBytes> clone(const std::optional<SecretBytes>& r) {
  if (!r) return std::nullopt;
  return r->clone();
}

Pkcs12Contents contents_of(const Cred& c) {
  return Pkcs12Contents{Pkcs12Pair{c.cert, c.key.key, clone(c.key.random_num)}, std::nullopt, {}};
}

std::string hex_of(const SecretBytes& b) { return to_hex(std::vector<std::uint8_t>(b.data(), b.data() + b.size())); }

bool contains(const Bytes& hay, const SecretBytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.data(), needle.data() + needle.size()) != hay.end();
}

class Pkcs12Test : public ::testing::Test {
 protected:
  // The openssl CLI's RSA modulus of a PEM key file or a DER certificate.
  std::string modulus_of_key(const fs::path& pem) {
    auto r = run({kOpenssl, "rsa", "-in", pem.string(), "-noout", "-modulus"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string modulus_of_cert(const fs::path& der) {
    auto r = run({kOpenssl, "x509", "-inform", "DER", "-in", der.string(), "-noout", "-modulus"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  // Writes our .pfx and has `openssl pkcs12 -info` read it; returns its stderr (the -info lines).
  std::string expectOpensslReads(const Bytes& pfx, const std::string& password, bool legacy,
                                 const fs::path& cert_der) {
    write_bytes(tmp_ / "ours.pfx", pfx);
    write_text(tmp_ / "pw", password + "\n");
    std::vector<std::string> args = {kOpenssl, "pkcs12", "-in", (tmp_ / "ours.pfx").string(), "-info",
                                     "-nodes", "-passin", "file:" + (tmp_ / "pw").string(), "-out",
                                     (tmp_ / "out.pem").string()};
    if (legacy) args.push_back("-legacy");
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    std::vector<std::string> key_args = {kOpenssl, "pkcs12", "-in", (tmp_ / "ours.pfx").string(), "-nocerts",
                                         "-nodes", "-passin", "file:" + (tmp_ / "pw").string(), "-out",
                                         (tmp_ / "key.pem").string()};
    if (legacy) key_args.push_back("-legacy");
    auto key = run(key_args);
    EXPECT_EQ(key.exit_code, 0) << key.err;
    EXPECT_EQ(modulus_of_key(tmp_ / "key.pem"), modulus_of_cert(cert_der));
    return r.err + r.out + read_text(tmp_ / "out.pem");
  }
  TempDir tmp_;
};

TEST_F(Pkcs12Test, ModernRoundTripKeepsKeyAndRandomNum) {
  Cred c = load("yessign-general");
  auto pfx = write_pkcs12(contents_of(c), SecretString(c.expected["password"]));
  ASSERT_TRUE(pfx.ok()) << pfx.error().message;
  auto back = read_pkcs12(*pfx, SecretString(c.expected["password"]));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->sign.cert.matches(c.key.key));
  ASSERT_TRUE(back->sign.random_num.has_value());
  EXPECT_EQ(hex_of(*back->sign.random_num), c.expected["randomnum"]);
  EXPECT_FALSE(back->km.has_value());
  // R is never in the file in clear.
  EXPECT_FALSE(contains(*pfx, *c.key.random_num));
}

TEST_F(Pkcs12Test, LegacyRoundTripKeepsRandomNumEndingInZero) {
  Cred c = load("yessign-bank");  // R ends in 0x00
  ASSERT_EQ(c.expected["randomnum"].substr(38), "00");
  Pkcs12Options o;
  o.profile = Pkcs12Profile::legacy;
  auto pfx = write_pkcs12(contents_of(c), SecretString(c.expected["password"]), o);
  ASSERT_TRUE(pfx.ok()) << pfx.error().message;
  EXPECT_FALSE(contains(*pfx, *c.key.random_num));
  auto back = read_pkcs12(*pfx, SecretString(c.expected["password"]));
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_TRUE(back->sign.random_num.has_value());
  EXPECT_EQ(back->sign.random_num->size(), 20u);
  EXPECT_EQ(hex_of(*back->sign.random_num), c.expected["randomnum"]);
}

TEST_F(Pkcs12Test, OpensslReadsOurModernFileWithAes256Pbkdf2Sha256AndTheKeyMatches) {
  Cred c = load("yessign-general");
  auto pfx = write_pkcs12(contents_of(c), SecretString(c.expected["password"]));
  ASSERT_TRUE(pfx.ok()) << pfx.error().message;
  std::string info = expectOpensslReads(*pfx, c.expected["password"], false,
                                        data_path("pki/cred/yessign-general/signCert.der"));
  EXPECT_NE(info.find("MAC: sha256"), std::string::npos) << info;
  EXPECT_NE(info.find("PBES2, PBKDF2, AES-256-CBC"), std::string::npos) << info;
  EXPECT_NE(info.find("hmacWithSHA256"), std::string::npos) << info;
  EXPECT_EQ(info.find("RC2"), std::string::npos) << info;
  EXPECT_EQ(info.find("3DES"), std::string::npos) << info;
  // R as a bag attribute of the key bag, under our private OID.
  EXPECT_NE(info.find("1.2.410.200004.10.1.1.3"), std::string::npos) << info;
}

TEST_F(Pkcs12Test, OpensslLegacyReadsOurLegacyFile) {
  Cred c = load("yessign-general");
  Pkcs12Options o;
  o.profile = Pkcs12Profile::legacy;
  auto pfx = write_pkcs12(contents_of(c), SecretString(c.expected["password"]), o);
  ASSERT_TRUE(pfx.ok()) << pfx.error().message;
  std::string info = expectOpensslReads(*pfx, c.expected["password"], true,
                                        data_path("pki/cred/yessign-general/signCert.der"));
  EXPECT_NE(info.find("MAC: sha1"), std::string::npos) << info;
  EXPECT_NE(info.find("pbeWithSHA1And40BitRC2-CBC"), std::string::npos) << info;
  EXPECT_NE(info.find("pbeWithSHA1And3-KeyTripleDES-CBC"), std::string::npos) << info;
}

// A .pfx made by `openssl pkcs12 -export` (modern, then -legacy) from a key the
// openssl CLI decrypted itself, with the CA certificate added.
class OpensslExportTest : public Pkcs12Test, public ::testing::WithParamInterface<bool> {};

TEST_P(OpensslExportTest, OursReadsOpensslExport) {
  const bool legacy = GetParam();
  fs::path dir = data_path("pki/cred/aes-openssl");
  auto expected = read_expected(dir / "expected.txt");
  write_text(tmp_ / "pw", expected["password"] + "\n");
  const std::string pw = "file:" + (tmp_ / "pw").string();
  ASSERT_EQ(run({kOpenssl, "pkcs8", "-inform", "DER", "-in", (dir / "signPri.key").string(), "-passin", pw,
                 "-out", (tmp_ / "key.pem").string()})
                .exit_code,
            0);
  ASSERT_EQ(run({kOpenssl, "x509", "-inform", "DER", "-in", (dir / "signCert.der").string(), "-out",
                 (tmp_ / "cert.pem").string()})
                .exit_code,
            0);
  std::vector<std::string> args = {kOpenssl, "pkcs12", "-export", "-inkey", (tmp_ / "key.pem").string(),
                                   "-in", (tmp_ / "cert.pem").string(), "-certfile",
                                   data_path("pki/ca.pem").string(), "-name", "openssl made",
                                   "-passout", pw, "-out", (tmp_ / "theirs.pfx").string()};
  if (legacy) args.push_back("-legacy");
  auto made = run(args);
  ASSERT_EQ(made.exit_code, 0) << made.err;

  auto got = read_pkcs12(read_bytes(tmp_ / "theirs.pfx"), SecretString(expected["password"]));
  ASSERT_TRUE(got.ok()) << got.error().message;
  auto cert = Certificate::from_der(read_bytes(dir / "signCert.der"));
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(cert->matches(got->sign.key));
  EXPECT_EQ(*got->sign.cert.der(), *cert->der());
  EXPECT_FALSE(got->sign.random_num.has_value());  // openssl knows nothing of R
  EXPECT_EQ(got->other_certs.size(), 1u);          // the CA certificate

  auto wrong = read_pkcs12(read_bytes(tmp_ / "theirs.pfx"), SecretString("not the password"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::wrong_password);
}

INSTANTIATE_TEST_SUITE_P(ModernAndLegacy, OpensslExportTest, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "legacy" : "modern"; });

TEST_F(Pkcs12Test, KmPairTravelsAndIsToldApartByKeyUsage) {
  Cred c = load("yessign-general");
  // A km key and certificate made by the openssl CLI (keyUsage keyEncipherment).
  ASSERT_EQ(run({kOpenssl, "genrsa", "-out", (tmp_ / "km.pem").string(), "2048"}).exit_code, 0);
  auto req = run({kOpenssl, "req", "-x509", "-new", "-key", (tmp_ / "km.pem").string(), "-subj",
                  "/CN=km/O=yessign/C=kr", "-addext", "keyUsage=critical,keyEncipherment", "-days", "30",
                  "-outform", "DER", "-out", (tmp_ / "km.der").string()});
  ASSERT_EQ(req.exit_code, 0) << req.err;
  auto km_key = PrivateKey::from_pem(read_bytes(tmp_ / "km.pem"));
  auto km_cert = Certificate::from_der(read_bytes(tmp_ / "km.der"));
  ASSERT_TRUE(km_key.ok() && km_cert.ok());
  auto contents = contents_of(c);
  contents.km.emplace(Pkcs12Pair{*km_cert, *km_key, std::nullopt});
  for (auto profile : {Pkcs12Profile::modern, Pkcs12Profile::legacy}) {
    Pkcs12Options o;
    o.profile = profile;
    auto pfx = write_pkcs12(contents, SecretString(c.expected["password"]), o);
    ASSERT_TRUE(pfx.ok()) << pfx.error().message;
    auto back = read_pkcs12(*pfx, SecretString(c.expected["password"]));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(back->sign.cert.matches(c.key.key));
    ASSERT_TRUE(back->km.has_value());
    EXPECT_TRUE(back->km->cert.matches(*km_key));
    EXPECT_TRUE(back->sign.random_num.has_value());
  }
}

TEST_F(Pkcs12Test, DamagedInputIsRefusedWithTheRightError) {
  Cred c = load("yessign-general");
  const SecretString pw(c.expected["password"]);
  auto pfx = write_pkcs12(contents_of(c), pw);
  ASSERT_TRUE(pfx.ok());

  auto empty = read_pkcs12({}, pw);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, Errc::invalid_input);

  Bytes truncated(pfx->begin(), pfx->begin() + static_cast<long>(pfx->size() / 2));
  auto t = read_pkcs12(truncated, pw);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, Errc::invalid_input);
  EXPECT_NE(t.error().message.find("not a PKCS#12"), std::string::npos) << t.error().message;

  auto garbage = read_pkcs12(read_bytes(data_path("pki/cred/yessign-general/signPri.key")), pw);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, Errc::invalid_input);

  auto wrong = read_pkcs12(*pfx, SecretString("Wrong!password1"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::wrong_password);

  // Damage inside the encrypted contents: the MAC catches it.
  Bytes flipped = *pfx;
  flipped[flipped.size() / 2] ^= 0x01;
  auto f = read_pkcs12(flipped, pw);
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(f.error().code == Errc::wrong_password || f.error().code == Errc::invalid_input)
      << f.error().message;

  Bytes trailing = *pfx;
  trailing.push_back(0);
  auto tr = read_pkcs12(trailing, pw);
  ASSERT_FALSE(tr.ok());
  EXPECT_EQ(tr.error().code, Errc::invalid_input);

  auto refused = write_pkcs12(contents_of(c), SecretString());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::usage);
}

}  // namespace
}  // namespace dojang::pki
