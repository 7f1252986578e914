#include "dojang/pki/certificate.hpp"

#include <gtest/gtest.h>

#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

using dojang::testing::data_path;
using dojang::testing::read_bytes;

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
