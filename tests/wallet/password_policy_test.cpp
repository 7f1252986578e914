#include "dojang/wallet/password_policy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dojang::wallet {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The holder every table row is checked against.
PasswordContext holder() {
  PasswordContext ctx;
  ctx.name = "홍길동";
  ctx.birth_date = birth_date_from_idn("9001151234567");  // 19900115
  ctx.phone = "010-2468-1357";
  ctx.extra = {"gdhong@example.com"};
  return ctx;
}

class PasswordPolicyTest : public ::testing::Test {
 protected:
  PasswordVerdict check(const std::string& pw, const PasswordContext& ctx = holder()) {
    PasswordVerdict v = check_password(SecretString(pw), ctx);
    for (const auto& r : v.reasons) {
      if (pw.size() > 2) {
        EXPECT_THAT(r, ::testing::Not(HasSubstr(pw))) << "a reason repeats the password";
      }
    }
    EXPECT_EQ(v.ok, v.reasons.empty());
    return v;
  }
  void expect_accepted(const std::string& pw, const PasswordContext& ctx = holder()) {
    auto v = check(pw, ctx);
    EXPECT_TRUE(v.ok) << pw << ": " << ::testing::PrintToString(v.reasons);
    EXPECT_GE(v.entropy_bits, kMinEntropyBits) << pw;
  }
  // The password breaks exactly one rule, with this reason.
  void expect_only_reason(const std::string& pw, const std::string& reason,
                          const PasswordContext& ctx = holder()) {
    auto v = check(pw, ctx);
    EXPECT_FALSE(v.ok) << pw;
    EXPECT_THAT(v.reasons, ElementsAre(reason)) << pw;
  }
  void expect_reason(const std::string& pw, const std::string& reason,
                     const PasswordContext& ctx = holder()) {
    auto v = check(pw, ctx);
    EXPECT_FALSE(v.ok) << pw;
    EXPECT_THAT(v.reasons, Contains(reason)) << pw << ": " << ::testing::PrintToString(v.reasons);
  }
};

TEST(BirthDateFromIdn, CenturyFromTheSeventhDigit) {
  EXPECT_EQ(birth_date_from_idn("9001151234567"), "19900115");
  EXPECT_EQ(birth_date_from_idn("9001152234567"), "19900115");
  EXPECT_EQ(birth_date_from_idn("9001155234567"), "19900115");  // foreigner, 1900s
  EXPECT_EQ(birth_date_from_idn("9001156234567"), "19900115");
  EXPECT_EQ(birth_date_from_idn("0503013234567"), "20050301");
  EXPECT_EQ(birth_date_from_idn("0503014234567"), "20050301");
  EXPECT_EQ(birth_date_from_idn("0503017234567"), "20050301");
  EXPECT_EQ(birth_date_from_idn("0503018234567"), "20050301");
  EXPECT_EQ(birth_date_from_idn("9912319234567"), "18991231");
  EXPECT_EQ(birth_date_from_idn("9912310234567"), "18991231");
}

TEST(BirthDateFromIdn, RejectsMalformedInput) {
  EXPECT_EQ(birth_date_from_idn(""), "");
  EXPECT_EQ(birth_date_from_idn("900115123456"), "");           // 12 digits
  EXPECT_EQ(birth_date_from_idn("900115-1234567"), "");         // not normalised
  EXPECT_EQ(birth_date_from_idn("9013151234567"), "");          // month 13
  EXPECT_EQ(birth_date_from_idn("9002301234567"), "");          // 30 February
  EXPECT_EQ(birth_date_from_idn("0002293234567"), "20000229");  // leap day
}

TEST_F(PasswordPolicyTest, AcceptsStrongPasswords) {
  for (const char* pw : {"gH7&kP2@xQ", "Seoul#River92", "Tr0ub4dor&3", "k8#Lm2qz!R",
                         "correct horse 9 battery", "xK9!mP2#qL1990"})
    expect_accepted(pw);
}

TEST_F(PasswordPolicyTest, KoreanCharactersCountAsLetters) {
  expect_accepted("나의푸른별!7392");
  expect_accepted("한글비밀번호!2580x");
  // Ten Hangul syllables are ten characters, not thirty bytes.
  expect_only_reason("나의푸른별!739", "must be at least 10 characters long");
}

TEST_F(PasswordPolicyTest, CharacterRules) {
  expect_only_reason("gH7&kP2@x", "must be at least 10 characters long");
  expect_only_reason("8#2@7!9%4^6", "must contain a letter");
  expect_only_reason("gH&kP@xQ!m", "must contain a digit");
  expect_only_reason("Xq7Lm9Pz2k", "must contain a symbol (such as ! # % & or a space)");
  expect_only_reason("gH7&kP2@xQ\t", "must not contain control characters");
  expect_accepted("gH7 kP2 xQz");  // a space is a symbol
}

TEST_F(PasswordPolicyTest, CollectsEveryReason) {
  auto v = check("abcd");
  EXPECT_THAT(v.reasons, Contains("must be at least 10 characters long"));
  EXPECT_THAT(v.reasons, Contains("must contain a digit"));
  EXPECT_THAT(v.reasons, Contains("must contain a symbol (such as ! # % & or a space)"));
  EXPECT_THAT(v.reasons, Contains("is a simple sequence of characters"));
  EXPECT_GE(v.reasons.size(), 5u);
}

TEST_F(PasswordPolicyTest, Sequences) {
  expect_only_reason("Xq!7Lm1234w", "contains the sequence '1234'");
  expect_only_reason("Xq!7Lm4321w", "contains the sequence '4321'");
  expect_only_reason("Xq!7abcdLmw", "contains the sequence 'abcd'");
  expect_only_reason("Wp!4dcba9Xz", "contains the sequence 'dcba'");
  expect_only_reason("Wp!4DcBa9Xz", "contains the sequence 'DcBa'");  // case-insensitive
  expect_accepted("Xq!7Lm123wP");                                     // three is not a sequence yet
}

TEST_F(PasswordPolicyTest, KeyboardRuns) {
  expect_only_reason("Zx!qwer7Lm9", "contains the keyboard pattern 'qwer'");
  expect_only_reason("Zx!rewq7Lm9", "contains the keyboard pattern 'rewq'");
  expect_only_reason("Zx!asdf7Lm9", "contains the keyboard pattern 'asdf'");
  expect_only_reason("Zx!zxcv7Lm9", "contains the keyboard pattern 'zxcv'");
  expect_only_reason("Lm9#1qaz7Xp", "contains the keyboard pattern '1qaz'");
  expect_only_reason("Zx!7Lm9!QAZ", "contains the keyboard pattern '!QAZ'");  // shifted column
  expect_only_reason("Lm9#Xp!@#$", "contains the keyboard pattern '!@#$'");   // shifted row
  // The same keys typed with the Korean 2-set layout.
  expect_only_reason("Lm9#ㅂㅈㄷㄱ7Xp", "contains the keyboard pattern 'ㅂㅈㄷㄱ'");
}

TEST_F(PasswordPolicyTest, Repeats) {
  expect_only_reason("Xq!aaa7Lmp9", "repeats the character 'a' 3 times");
  expect_only_reason("Xq!111a7Lmp", "repeats the character '1' 3 times");
  expect_only_reason("Wk#7x9Tz9Tz9T", "repeats the pattern '9Tz'");
  expect_accepted("Xq!aa7Lmp9z");  // two in a row is fine
}

TEST_F(PasswordPolicyTest, CommonPasswords) {
  expect_only_reason("xQ7!mKbutterfly", "contains the common password or word 'butterfly'");
  expect_only_reason("v9$Kq2dragon", "contains the common password or word 'dragon'");
  expect_only_reason("Xq!7Lm9#pAssW0rd", "contains the common password or word 'pAssW0rd'");
  expect_reason("iloveyou!23", "contains the common password or word 'iloveyou'");
}

TEST_F(PasswordPolicyTest, LowEntropy) {
  auto v = check("Monkey!Apple7");
  EXPECT_LT(v.entropy_bits, kMinEntropyBits);
  ASSERT_THAT(v.reasons, ::testing::SizeIs(1));
  EXPECT_THAT(v.reasons[0], HasSubstr("is too easy to guess"));
}

TEST_F(PasswordPolicyTest, BirthDateInEveryUsualForm) {
  for (const char* pw : {"Xq!7Lm#19900115kP",    // YYYYMMDD
                         "Xq!7Lm#900115kPz",     // YYMMDD
                         "Xq!7Lm#01151990kP",    // MMDDYYYY
                         "Xq!7Lm#15011990kP",    // DDMMYYYY
                         "Xq!7Lm#1990-01-15kP",  // with separators
                         "Xq!7Lm#90.01.15kPz",   //
                         "Xq!7Lm#0115kPz"})      // MMDD
    expect_only_reason(pw, "contains your birth date");
  // A six-digit birth date (century unknown) is checked for both centuries.
  PasswordContext six = holder();
  six.birth_date = "900115";
  expect_only_reason("Xq!7Lm#19900115kP", "contains your birth date", six);
  // Without a birth date these are fine.
  PasswordContext none = holder();
  none.birth_date.clear();
  expect_accepted("Xq!7Lm#0115kPz", none);
}

TEST_F(PasswordPolicyTest, PhoneNumberInEveryUsualForm) {
  for (const char* pw : {"Xq!7Lm#01024681357",    // whole number
                         "Xq!7Lm#010-2468-1357",  // with dashes
                         "Xq!7Lm#24681357kP",     // last eight
                         "Xq!7Lm#2468-1357kP",    //
                         "Xq!7Lm#1357kPz"})       // last four
    expect_only_reason(pw, "contains your phone number");
  PasswordContext intl = holder();
  intl.phone = "+82 10-2468-1357";
  expect_only_reason("Xq!7Lm#01024681357", "contains your phone number", intl);
}

TEST_F(PasswordPolicyTest, Name) {
  expect_only_reason("Zq!7홍길동Xp9", "contains your name");
  expect_only_reason("Zq!7길동Xp9a", "contains your name");  // the given name alone
  PasswordContext latin = holder();
  latin.name = "Hong Gildong";
  expect_only_reason("Zq!7GILDONG#p9X", "contains your name", latin);
  expect_only_reason("Zq!7hOnG gIlDoNg9#X", "contains your name", latin);
}

TEST_F(PasswordPolicyTest, ExtraPersonalDetails) {
  expect_only_reason("Zq!7GDHONGXp9", "contains one of your personal details");
}

TEST_F(PasswordPolicyTest, PersonalDataLowersTheEntropyEstimate) {
  PasswordContext ctx = holder();
  ctx.extra = {"moonlightriver"};
  PasswordContext empty;
  const double with = check_password(SecretString("Moonlightriver#7"), ctx).entropy_bits;
  const double without = check_password(SecretString("Moonlightriver#7"), empty).entropy_bits;
  EXPECT_LT(with, without);
}

TEST_F(PasswordPolicyTest, NeverQuotesTheWholePassword) {
  EXPECT_THAT(check("1234567890").reasons, Contains("is a keyboard pattern"));
  EXPECT_THAT(check("abcdefghijk").reasons, Contains("is a simple sequence of characters"));
  EXPECT_THAT(check("aaaaaaaaaa").reasons, Contains("is one character repeated"));
  // check() asserts no reason contains the password.
}

TEST_F(PasswordPolicyTest, RejectsInvalidUtf8) {
  auto v = check_password(SecretString(std::string("Xq!7Lm9#\xff\xfe")), holder());
  EXPECT_FALSE(v.ok);
  EXPECT_THAT(v.reasons, ElementsAre("is not valid UTF-8 text"));
}

TEST_F(PasswordPolicyTest, EmptyContextIsFine) {
  PasswordContext empty;
  expect_accepted("gH7&kP2@xQ", empty);
  EXPECT_FALSE(check("", empty).ok);
  EXPECT_THAT(check("", empty).reasons, ::testing::Not(IsEmpty()));
}

}  // namespace
}  // namespace dojang::wallet
