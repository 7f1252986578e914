#include "dojang/ra/sms.hpp"

#include <gtest/gtest.h>

#include "dojang/store/database.hpp"
#include "testing/testing.hpp"

namespace dojang::ra {
namespace {

using dojang::testing::TempDir;

TEST(PhoneTest, NormalisesToDigits) {
  for (const char* in : {"010-1234-5678", "010 1234 5678", "01012345678", " 010-1234-5678 "}) {
    auto p = normalize_phone(in);
    ASSERT_TRUE(p.ok()) << in << ": " << p.error().message;
    EXPECT_EQ(*p, "01012345678");
  }
  auto intl = normalize_phone("+82 10-1234-5678");
  ASSERT_TRUE(intl.ok());
  EXPECT_EQ(*intl, "+821012345678");
  for (const char* bad :
       {"", "12345678", "0101234567890123", "010-1234-567x", "010+1234", "++821012345678"}) {
    auto p = normalize_phone(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().code, Errc::usage);
  }
}

TEST(PhoneTest, MasksTheMiddle) {
  EXPECT_EQ(mask_phone("01012345678"), "010-****-5678");
  EXPECT_EQ(mask_phone("0212345678"), "021-***-5678");
  EXPECT_EQ(mask_phone("1234567"), "*******");
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::open_sqlite_bank_store(dir_ / "dojang.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    auto g = OutboxSmsGateway::create(*store_, SecretBytes(Bytes(32, 7)), clock_);
    ASSERT_TRUE(g.ok()) << g.error().message;
    sms_.emplace(std::move(*g));
  }

  TempDir dir_;
  FakeClock clock_{store::from_unix(1'735'689'600)};
  std::unique_ptr<store::BankStore> store_;
  std::optional<OutboxSmsGateway> sms_;
};

TEST_F(OutboxTest, KeepsEveryMessageSealedAndFiltersByPhone) {
  ASSERT_TRUE(sms_->send("01011112222", SecretString("first 111111")).ok());
  clock_.advance(std::chrono::seconds(5));
  ASSERT_TRUE(sms_->send("01033334444", SecretString("second")).ok());
  ASSERT_TRUE(sms_->send("01011112222", SecretString("third 333333")).ok());

  auto all = sms_->outbox();
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].text.view(), "first 111111");
  EXPECT_EQ((*all)[0].sent_at, store::from_unix(1'735'689'600));
  EXPECT_EQ((*all)[1].phone, "01033334444");
  EXPECT_EQ((*all)[2].sent_at, store::from_unix(1'735'689'605));

  auto mine = sms_->outbox(std::string_view("010-1111-2222"));  // any spelling of the number
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[1].text.view(), "third 333333");

  auto bad = sms_->outbox(std::string_view("not a phone"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::usage);

  // The store holds ciphertext only.
  auto raw = store_->list_sms(std::nullopt);
  ASSERT_TRUE(raw.ok());
  for (const auto& m : *raw) {
    std::string body(m.body.begin(), m.body.end());
    EXPECT_EQ(body.find("111111"), std::string::npos);
    EXPECT_EQ(body.find("333333"), std::string::npos);
  }
}

}  // namespace
}  // namespace dojang::ra
