#include "dojang/pki/key.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>

#include "pki/internal/ossl.hpp"

namespace dojang::pki {
namespace {

// The DER of key with one bit of the byte at `at` flipped (at < 0: from the end).
Bytes flipped(const PrivateKey& key, long at) {
  auto der = key.to_pkcs8_der();
  EXPECT_TRUE(der.ok()) << der.error().message;
  if (!der.ok()) return {};
  Bytes out(der->view().begin(), der->view().end());
  out[at < 0 ? out.size() - static_cast<std::size_t>(-at) : static_cast<std::size_t>(at)] ^= 0x01;
  return out;
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
  auto bad = PrivateKey::from_pkcs8_der(flipped(*rsa, -1));
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_FALSE(bad->consistent());
}

// ECPrivateKey keeps its public key: a damaged scalar no longer fits it.
TEST(PrivateKeyTest, EcKeyWithADamagedScalarIsInconsistent) {
  PrivateKey key = ec_key();
  auto der = key.to_pkcs8_der();
  ASSERT_TRUE(der.ok()) << der.error().message;
  // ECPrivateKey ::= SEQUENCE { version INTEGER 1, privateKey OCTET STRING (32), ... }
  const std::uint8_t marker[] = {0x02, 0x01, 0x01, 0x04, 0x20};
  auto view = der->view();
  auto it = std::search(view.begin(), view.end(), std::begin(marker), std::end(marker));
  ASSERT_NE(it, view.end()) << "no ECPrivateKey scalar in the PKCS#8";
  const long at = static_cast<long>(it - view.begin()) + 5 + 10;
  auto bad = PrivateKey::from_pkcs8_der(flipped(key, at));
  ASSERT_TRUE(bad.ok()) << bad.error().message;
  EXPECT_FALSE(bad->consistent());
}

}  // namespace
}  // namespace dojang::pki
