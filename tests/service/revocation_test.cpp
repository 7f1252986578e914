// GET /ocsp/<base64> decoding (RFC 6960 appendix A.1) and the OCSP/CRL HTTP edge.
#include "dojang/service/revocation.hpp"

#include <gtest/gtest.h>

namespace dojang::service {
namespace {

Bytes decoded(std::string_view path) {
  auto r = decode_ocsp_get_path(path);
  EXPECT_TRUE(r.ok()) << path << ": " << r.error().message;
  return r.ok() ? *r : Bytes{};
}

// Base64 of {0xfb, 0xef, 0xff} is "++//": the characters URL encoding trips over.
TEST(OcspGetPathTest, PlusIsAPlusAndPercentEscapesAreDecoded) {
  const Bytes want = {0xfb, 0xef, 0xff};
  EXPECT_EQ(decoded("++//"), want);
  EXPECT_EQ(decoded("%2B%2B%2F%2F"), want);
  EXPECT_EQ(decoded("%2b+%2f/"), want);
  EXPECT_EQ(decoded("--__"), want);  // base64url
}

TEST(OcspGetPathTest, PaddingOptional) {
  const Bytes want = {0x30, 0x03};
  EXPECT_EQ(decoded("MAM="), want);
  EXPECT_EQ(decoded("MAM%3D"), want);
  EXPECT_EQ(decoded("MAM"), want);
}

TEST(OcspGetPathTest, Malformed) {
  for (std::string_view bad : {"", "%", "%2", "%zz", "!!!!", "MA=M", "%00%00"}) {
    auto r = decode_ocsp_get_path(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) { EXPECT_EQ(r.error().code, Errc::invalid_input) << bad; }
  }
}

}  // namespace
}  // namespace dojang::service
