#include "dojang/pki/aead.hpp"

#include <gtest/gtest.h>

#include <string>

#include "testing/testing.hpp"

namespace dojang::pki {
namespace {

using dojang::testing::from_hex;
using dojang::testing::to_hex;

ByteView view(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class AeadTest : public ::testing::Test {
 protected:
  Bytes key_ = Bytes(32, 0x42);

  void expectRejected(const Bytes& sealed, const std::string& aad, ByteView key) {
    auto r = open(key, sealed, view(aad));
    ASSERT_FALSE(r.ok()) << "tampered data opened";
    EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  }
};

TEST_F(AeadTest, SealThenOpenRoundTrips) {
  auto sealed = seal(key_, view("8001011234567"), view("alice"));
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->size(), 13 + kAeadOverhead);
  auto opened = open(key_, *sealed, view("alice"));
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(std::string(opened->view().begin(), opened->view().end()), "8001011234567");
}

TEST_F(AeadTest, EmptyPlaintextAndEmptyAad) {
  auto sealed = seal(key_, {}, {});
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_EQ(sealed->size(), kAeadOverhead);
  auto opened = open(key_, *sealed, {});
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE(opened->empty());
}

TEST_F(AeadTest, EveryCallUsesAFreshNonce) {
  auto a = seal(key_, view("same"), view("aad"));
  auto b = seal(key_, view("same"), view("aad"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(Bytes(a->begin(), a->begin() + kAeadNonceSize),
            Bytes(b->begin(), b->begin() + kAeadNonceSize));
  EXPECT_NE(*a, *b);
}

TEST_F(AeadTest, AnyFlippedBitIsRejected) {
  auto sealed = seal(key_, view("authorization code"), view("12345678"));
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {  // nonce, body and tag alike
    Bytes t = *sealed;
    t[i] ^= 0x01;
    expectRejected(t, "12345678", key_);
  }
}

TEST_F(AeadTest, WrongAadWrongKeyAndTruncationAreRejected) {
  auto sealed = seal(key_, view("secret"), view("alice"));
  ASSERT_TRUE(sealed.ok());
  expectRejected(*sealed, "mallory", key_);
  expectRejected(*sealed, "", key_);
  Bytes other(32, 0x43);
  expectRejected(*sealed, "alice", other);
  expectRejected(Bytes(sealed->begin(), sealed->end() - 1), "alice", key_);
  expectRejected(Bytes(sealed->begin(), sealed->begin() + kAeadOverhead - 1), "alice", key_);
  expectRejected(Bytes{}, "alice", key_);
}

TEST_F(AeadTest, KeyMustHave32Bytes) {
  Bytes short_key(16, 1);
  auto s = seal(short_key, view("x"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::usage);
  auto o = open(short_key, Bytes(40, 0), {});
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.error().code, Errc::usage);
}

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 13 and 14
// (256-bit zero key, 96-bit zero IV); sealed = IV || C || T.
TEST_F(AeadTest, OpensKnownAnswerVectors) {
  Bytes zero_key(32, 0);
  Bytes tc13 = from_hex(
      "000000000000000000000000"
      "530f8afbc74536b9a963b4f1c4cb738b");
  auto p13 = open(zero_key, tc13, {});
  ASSERT_TRUE(p13.ok()) << p13.error().message;
  EXPECT_TRUE(p13->empty());

  Bytes tc14 = from_hex(
      "000000000000000000000000"
      "cea7403d4d606b6e074ec5d3baf39d18"
      "d0d1c8a799996bf0265b98b5d48ab919");
  auto p14 = open(zero_key, tc14, {});
  ASSERT_TRUE(p14.ok()) << p14.error().message;
  EXPECT_EQ(to_hex(Bytes(p14->view().begin(), p14->view().end())), std::string(32, '0'));
}

// RFC 4231 test cases 1 and 2.
TEST(HmacSha256Test, KnownAnswers) {
  auto t1 = hmac_sha256(Bytes(20, 0x0b), view("Hi There"));
  ASSERT_TRUE(t1.ok()) << t1.error().message;
  EXPECT_EQ(to_hex(*t1), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  auto t2 = hmac_sha256(view("Jefe"), view("what do ya want for nothing?"));
  ASSERT_TRUE(t2.ok()) << t2.error().message;
  EXPECT_EQ(to_hex(*t2), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, EmptyKeyAndData) {
  // HMAC-SHA256("", ""), as computed by Python's hmac module.
  auto t = hmac_sha256({}, {});
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(to_hex(*t), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// FIPS 180-2 appendix B.1 and the empty message.
TEST(Sha256Test, KnownAnswers) {
  auto abc = sha256(view("abc"));
  ASSERT_TRUE(abc.ok()) << abc.error().message;
  EXPECT_EQ(to_hex(*abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto empty = sha256({});
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(to_hex(*empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace dojang::pki
