#include <gtest/gtest.h>

#include <string>

#include "dojang/pki/certificate.hpp"

namespace dojang::pki {
namespace {

class PolicyLookupTest : public ::testing::Test {
 protected:
  void expectPolicy(const std::string& oid, Purpose purpose, const std::string& ca,
                    HolderKind holder) {
    PolicyInfo p = lookup_policy(oid);
    EXPECT_EQ(p.oid, oid);
    EXPECT_EQ(p.purpose, purpose) << oid << " is " << purpose_name(p.purpose);
    EXPECT_EQ(p.ca, ca) << oid;
    EXPECT_EQ(p.holder, holder) << oid;
    EXPECT_NE(p.label.find(ca), std::string::npos) << p.label;
  }
};

TEST_F(PolicyLookupTest, Yessign) {
  expectPolicy("1.2.410.200005.1.1.1", Purpose::general, "yessign", HolderKind::personal);
  expectPolicy("1.2.410.200005.1.1.5", Purpose::general, "yessign", HolderKind::corporate);
  expectPolicy("1.2.410.200005.1.1.4", Purpose::bank_insurance, "yessign", HolderKind::personal);
  expectPolicy("1.2.410.200005.1.1.2", Purpose::bank_insurance, "yessign", HolderKind::corporate);
  expectPolicy("1.2.410.200005.1.1.6.2", Purpose::credit_card, "yessign", HolderKind::personal);
}

TEST_F(PolicyLookupTest, KicaSignGate) {
  expectPolicy("1.2.410.200004.5.2.1.2", Purpose::general, "KICA signGATE", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.2.1.1", Purpose::general, "KICA signGATE", HolderKind::corporate);
  expectPolicy("1.2.410.200004.5.2.1.7.1", Purpose::bank_insurance, "KICA signGATE",
               HolderKind::personal);
  expectPolicy("1.2.410.200004.5.2.1.7.2", Purpose::securities, "KICA signGATE",
               HolderKind::personal);
  expectPolicy("1.2.410.200004.5.2.1.7.3", Purpose::credit_card, "KICA signGATE",
               HolderKind::personal);
}

TEST_F(PolicyLookupTest, SignKorea) {
  expectPolicy("1.2.410.200004.5.1.1.5", Purpose::general, "SignKorea", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.1.1.7", Purpose::general, "SignKorea", HolderKind::corporate);
  expectPolicy("1.2.410.200004.5.1.1.9", Purpose::securities, "SignKorea", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.1.1.9.2", Purpose::credit_card, "SignKorea", HolderKind::personal);
}

TEST_F(PolicyLookupTest, CrossCert) {
  expectPolicy("1.2.410.200004.5.4.1.1", Purpose::general, "CrossCert", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.4.1.2", Purpose::general, "CrossCert", HolderKind::corporate);
  expectPolicy("1.2.410.200004.5.4.1.101", Purpose::bank_insurance, "CrossCert",
               HolderKind::personal);
  expectPolicy("1.2.410.200004.5.4.1.102", Purpose::securities, "CrossCert", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.4.1.103", Purpose::credit_card, "CrossCert", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.4.1.104", Purpose::other_limited, "CrossCert",
               HolderKind::personal);
}

TEST_F(PolicyLookupTest, TradeSign) {
  expectPolicy("1.2.410.200012.1.1.1", Purpose::general, "TradeSign", HolderKind::personal);
  expectPolicy("1.2.410.200012.1.1.3", Purpose::general, "TradeSign", HolderKind::corporate);
  expectPolicy("1.2.410.200012.1.1.101", Purpose::bank_insurance, "TradeSign",
               HolderKind::personal);
  expectPolicy("1.2.410.200012.1.1.103", Purpose::securities, "TradeSign", HolderKind::personal);
  expectPolicy("1.2.410.200012.1.1.105", Purpose::credit_card, "TradeSign", HolderKind::personal);
}

TEST_F(PolicyLookupTest, NcaSign) {
  expectPolicy("1.2.410.200004.5.3.1.9", Purpose::general, "NCASign", HolderKind::personal);
  expectPolicy("1.2.410.200004.5.3.1.2", Purpose::general, "NCASign", HolderKind::corporate);
}

TEST_F(PolicyLookupTest, LabelsCarryTheKoreanTerm) {
  EXPECT_EQ(lookup_policy("1.2.410.200005.1.1.1").label, "yessign personal general-purpose (범용)");
  EXPECT_EQ(lookup_policy("1.2.410.200005.1.1.4").label,
            "yessign personal banking/insurance (용도제한: 은행/보험용)");
  EXPECT_EQ(lookup_policy("1.2.410.200004.5.2.1.7.3").label,
            "KICA signGATE personal credit card (용도제한: 신용카드용)");
}

TEST_F(PolicyLookupTest, UnknownOidsAreNeverGuessed) {
  for (const char* oid : {"1.2.3.4.5.6", "1.2.410.200005.1.1", "1.2.410.200005.1.1.99",
                          "1.2.410.200005.1.1.1.1", "1.2.410.200004.5.2.1", "2.5.29.32.0", ""}) {
    PolicyInfo p = lookup_policy(oid);
    EXPECT_EQ(p.oid, oid);
    EXPECT_EQ(p.purpose, Purpose::unknown) << oid;
    EXPECT_EQ(p.ca, "") << oid;
    EXPECT_EQ(p.holder, HolderKind::unknown) << oid;
    EXPECT_EQ(p.label, std::string("unknown policy ") + oid);
  }
}

TEST(PurposeName, StableNames) {
  EXPECT_STREQ(purpose_name(Purpose::general), "general");
  EXPECT_STREQ(purpose_name(Purpose::bank_insurance), "bank_insurance");
  EXPECT_STREQ(purpose_name(Purpose::credit_card), "credit_card");
  EXPECT_STREQ(purpose_name(Purpose::securities), "securities");
  EXPECT_STREQ(purpose_name(Purpose::other_limited), "other_limited");
  EXPECT_STREQ(purpose_name(Purpose::unknown), "unknown");
}

}  // namespace
}  // namespace dojang::pki
