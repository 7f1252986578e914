#include "dojang/ca/registry.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::ca {
namespace {

using dojang::testing::TempDir;
using namespace std::chrono_literals;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(dir_ / "dojang.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = *db;
    auto r = Registry::open(db_, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    reg_ = std::move(*r);
  }

  CertificateRecord record(std::string serial) {
    CertificateRecord r;
    r.serial_hex = std::move(serial);
    r.customer_id = "hong";
    r.application_ref = "12345678";
    r.subject = "cn=홍길동()0012345678901234,ou=WOORI,ou=personal4IB,o=Dojang CA,c=kr";
    r.not_before = clock_.now();
    r.not_after = clock_.now() + 24h * 365;
    r.der = {0x30, 0x03, 0x02, 0x01, 0x01};
    r.transaction_id = "00ff";
    return r;
  }

  void expectStatus(const std::string& serial, CertStatus status) {
    auto found = reg_->find(serial);
    ASSERT_TRUE(found.ok()) << found.error().message;
    EXPECT_EQ(found->status, status) << cert_status_name(found->status);
  }
  void expectError(const Status& s, Errc code) {
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, code) << s.error().message;
  }

  TempDir dir_;
  FakeClock clock_{TimePoint{} + std::chrono::seconds(1'700'000'000)};
  std::shared_ptr<store::Database> db_;
  std::unique_ptr<Registry> reg_;
};

TEST_F(RegistryTest, SerialToHex) {
  EXPECT_EQ(serial_to_hex(Bytes{0x00, 0x1f, 0xa0}), "001fa0");
}

TEST_F(RegistryTest, PendingThenConfirmed) {
  ASSERT_TRUE(reg_->record_pending(record("0a")).ok());
  auto found = reg_->find("0a");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->status, CertStatus::pending);
  EXPECT_EQ(found->customer_id, "hong");
  EXPECT_EQ(found->application_ref, "12345678");
  EXPECT_EQ(found->der, record("0a").der);
  EXPECT_EQ(found->transaction_id, "00ff");
  EXPECT_EQ(found->created_at, clock_.now());
  EXPECT_FALSE(found->confirmed_at.has_value());

  clock_.advance(5s);
  ASSERT_TRUE(reg_->confirm("0a").ok());
  found = reg_->find("0a");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->status, CertStatus::confirmed);
  EXPECT_EQ(found->confirmed_at, clock_.now());
  EXPECT_TRUE(reg_->confirm("0a").ok());  // a repeated certConf
  expectError(reg_->reject("0a"), Errc::policy);
}

TEST_F(RegistryTest, ConfirmSupersedingConfirmsTheNewAndRevokesTheOldTogether) {
  ASSERT_TRUE(reg_->record_pending(record("01")).ok());
  ASSERT_TRUE(reg_->confirm("01").ok());
  ASSERT_TRUE(reg_->record_pending(record("02")).ok());
  ASSERT_TRUE(reg_->record_pending(record("03")).ok());
  auto rev = reg_->revision().value();
  clock_.advance(5s);
  ASSERT_TRUE(reg_->confirm_superseding("02", "01", clock_.now()).ok());
  expectStatus("02", CertStatus::confirmed);
  auto old = reg_->find("01").value();
  EXPECT_EQ(old.revoked_at, clock_.now());
  EXPECT_EQ(old.revocation_reason, RevocationReason::superseded);
  EXPECT_EQ(reg_->revision().value(), rev + 1);  // one change for both
  EXPECT_TRUE(reg_->confirm_superseding("02", "01", clock_.now()).ok());  // a repeated certConf
  EXPECT_EQ(reg_->revision().value(), rev + 1);

  // A second renewal of the superseded certificate cannot be confirmed: nothing changes.
  Status second = reg_->confirm_superseding("03", "01", clock_.now());
  expectError(second, Errc::policy);
  EXPECT_NE(second.error().message.find("already revoked (superseded)"), std::string::npos)
      << second.error().message;
  expectStatus("03", CertStatus::pending);
  expectError(reg_->confirm_superseding("03", "ff", clock_.now()), Errc::not_found);
  expectStatus("03", CertStatus::pending);
}

// Re-issue (재발급): a good or suspended old certificate is superseded in the
// confirming transaction; one revoked before (a lost phone: keyCompromise)
// keeps its reason and time.
TEST_F(RegistryTest, ConfirmSupersedingForReissueKeepsAnEarlierRevocation) {
  using Replaced = Registry::Replaced;
  for (const char* s : {"11", "12", "13", "21", "22", "23"}) {
    ASSERT_TRUE(reg_->record_pending(record(s)).ok());
    if (s[0] == '1') {
      ASSERT_TRUE(reg_->confirm(s).ok());
    }
  }
  const TimePoint lost = clock_.now();
  ASSERT_TRUE(reg_->revoke("12", RevocationReason::key_compromise, lost).ok());
  ASSERT_TRUE(reg_->revoke("13", RevocationReason::certificate_hold, lost).ok());
  clock_.advance(1h);

  ASSERT_TRUE(reg_->confirm_superseding("21", "11", clock_.now(), Replaced::reissue).ok());
  EXPECT_EQ(reg_->find("11").value().revocation_reason, RevocationReason::superseded);

  ASSERT_TRUE(reg_->confirm_superseding("22", "12", clock_.now(), Replaced::reissue).ok());
  expectStatus("22", CertStatus::confirmed);
  auto kept = reg_->find("12").value();
  EXPECT_EQ(kept.revocation_reason, RevocationReason::key_compromise);
  EXPECT_EQ(kept.revoked_at, lost);

  ASSERT_TRUE(reg_->confirm_superseding("23", "13", clock_.now(), Replaced::reissue).ok());
  auto held = reg_->find("13").value();
  EXPECT_EQ(held.revocation_reason, RevocationReason::superseded);
  EXPECT_EQ(held.revoked_at, clock_.now());
  EXPECT_TRUE(reg_->confirm_superseding("23", "13", clock_.now(), Replaced::reissue).ok());

  // A renewal of a suspended certificate is still refused.
  ASSERT_TRUE(reg_->record_pending(record("24")).ok());
  ASSERT_TRUE(reg_->revoke("21", RevocationReason::certificate_hold, clock_.now()).ok());
  expectError(reg_->confirm_superseding("24", "21", clock_.now()), Errc::policy);
  expectStatus("24", CertStatus::pending);
}

TEST_F(RegistryTest, DuplicateSerialIsImpossible) {
  ASSERT_TRUE(reg_->record_pending(record("0b")).ok());
  expectError(reg_->record_pending(record("0b")), Errc::already_exists);
  auto counts = reg_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->total(), 1);
}

TEST_F(RegistryTest, RejectAndUnknown) {
  ASSERT_TRUE(reg_->record_pending(record("0c")).ok());
  ASSERT_TRUE(reg_->reject("0c").ok());
  expectStatus("0c", CertStatus::rejected);
  expectError(reg_->confirm("0c"), Errc::policy);
  expectError(reg_->confirm("ff"), Errc::not_found);
  expectError(reg_->reject("ff"), Errc::not_found);
  EXPECT_EQ(reg_->find("ff").error().code, Errc::not_found);
  expectError(reg_->record_pending(CertificateRecord{}), Errc::usage);
}

TEST_F(RegistryTest, ExpireUnconfirmed) {
  ASSERT_TRUE(reg_->record_pending(record("01")).ok());
  ASSERT_TRUE(reg_->record_pending(record("02")).ok());
  ASSERT_TRUE(reg_->confirm("02").ok());
  clock_.advance(5min);
  ASSERT_TRUE(reg_->record_pending(record("03")).ok());
  clock_.advance(6min);  // 01 is 11 minutes old, 03 only 6
  auto n = reg_->expire_unconfirmed(kConfirmTimeout);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  expectStatus("01", CertStatus::revoked_unconfirmed);
  expectStatus("02", CertStatus::confirmed);
  expectStatus("03", CertStatus::pending);
  expectError(reg_->confirm("01"), Errc::policy);  // too late
  auto counts = reg_->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->pending, 1);
  EXPECT_EQ(counts->confirmed, 1);
  EXPECT_EQ(counts->revoked_unconfirmed, 1);
  EXPECT_EQ(counts->rejected, 0);
}

TEST_F(RegistryTest, SurvivesReopenAndConcurrentWriters) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string serial =
            serial_to_hex(Bytes{static_cast<std::uint8_t>(t), static_cast<std::uint8_t>(i)});
        EXPECT_TRUE(reg_->record_pending(record(serial)).ok());
        EXPECT_TRUE(reg_->confirm(serial).ok());
      }
    });
  for (auto& th : threads) th.join();
  reg_.reset();
  db_.reset();
  auto db = store::Database::open(dir_ / "dojang.db");
  ASSERT_TRUE(db.ok());
  auto again = Registry::open(*db, clock_);
  ASSERT_TRUE(again.ok());
  auto counts = (*again)->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->confirmed, 80);
  EXPECT_EQ(counts->total(), 80);
}

}  // namespace
}  // namespace dojang::ca

namespace dojang::ca {
namespace {

TEST_F(RegistryTest, ListForCustomerGivesOnlyTheirCertificatesOldestFirstWithTheirState) {
  ASSERT_TRUE(reg_->record_pending(record("0a")).ok());
  clock_.advance(10s);
  auto other = record("0b");
  other.customer_id = "kim";
  ASSERT_TRUE(reg_->record_pending(other).ok());
  clock_.advance(10s);
  ASSERT_TRUE(reg_->record_pending(record("0c")).ok());
  ASSERT_TRUE(reg_->confirm("0c").ok());
  ASSERT_TRUE(reg_->revoke("0c", RevocationReason::certificate_hold, clock_.now()).ok());

  auto hong = reg_->list_for_customer("hong");
  ASSERT_TRUE(hong.ok()) << hong.error().message;
  ASSERT_EQ(hong->size(), 2u);
  EXPECT_EQ((*hong)[0].serial_hex, "0a");
  EXPECT_EQ((*hong)[0].status, CertStatus::pending);
  EXPECT_EQ((*hong)[1].serial_hex, "0c");
  EXPECT_EQ((*hong)[1].revocation_reason, RevocationReason::certificate_hold);
  EXPECT_EQ((*hong)[1].der, record("0c").der);
  auto nobody = reg_->list_for_customer("nobody");
  ASSERT_TRUE(nobody.ok());
  EXPECT_TRUE(nobody->empty());
}

}  // namespace
}  // namespace dojang::ca
