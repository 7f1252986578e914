#include "dojang/pki/key.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>

#include "pki/internal/ossl.hpp"

namespace dojang::pki {
namespace {

// The key's PKCS#8 DER, as plain bytes to damage.
Bytes der_of(const PrivateKey& key) {
  auto der = key.to_pkcs8_der();
  EXPECT_TRUE(der.ok()) << der.error().message;
  if (!der.ok()) return {};
  return Bytes(der->view().begin(), der->view().end());
}

PrivateKey ec_key() {
  EVP_PKEY* k = ::EVP_PKEY_Q_keygen(internal::libctx(), nullptr, "EC", "P-256");
  EXPECT_NE(k, nullptr);
  PrivateKey key = PrivateKey::adopt(k);
  ::EVP_PKEY_free(k);
  return key;
}

TEST(PrivateKeyTest, FreshKeysAreConsistent) {
  auto rsa = PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  EXPECT_TRUE(rsa->consistent());
  EXPECT_TRUE(ec_key().consistent());
}

// A damaged CRT value still decodes: the DER keeps its lengths.
TEST(PrivateKeyTest, RsaKeyWithADamagedCoefficientIsInconsistent) {
  auto rsa = PrivateKey::generate_rsa(2048);
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  // PrivateKeyInfo without attributes ends with RSAPrivateKey's coefficient (qInv).
  Bytes der = der_of(*rsa);
  ASSERT_FALSE(der.empty());
  der.back() ^= 0x01;
  auto bad = PrivateKey::from_pkcs8_der(der);
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_FALSE(bad->consistent());
}

// ECPrivateKey keeps its public key: a damaged scalar no longer fits it.
TEST(PrivateKeyTest, EcKeyWithADamagedScalarIsInconsistent) {
  Bytes der = der_of(ec_key());
  // ECPrivateKey ::= SEQUENCE { version INTEGER 1, privateKey OCTET STRING (32), ... }
  const std::uint8_t marker[] = {0x02, 0x01, 0x01, 0x04, 0x20};
  auto it = std::search(der.begin(), der.end(), std::begin(marker), std::end(marker));
  ASSERT_NE(it, der.end()) << "no ECPrivateKey scalar in the PKCS#8";
  it[sizeof marker + 10] ^= 0x01;  // a byte inside the 32-byte scalar
  auto bad = PrivateKey::from_pkcs8_der(der);
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_FALSE(bad->consistent());
}

}  // namespace
}  // namespace dojang::pki
