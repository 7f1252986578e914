#include "dojang/store/bank_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "dojang/store/database.hpp"
#include "testing/testing.hpp"

namespace dojang::store {
namespace {

using dojang::testing::TempDir;
using std::chrono::seconds;

const TimePoint kT0 = from_unix(1'735'689'600);  // 2025-01-01T00:00:00Z

class BankStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open_sqlite_bank_store(path_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }

  static CustomerRecord customer(const std::string& id) {
    CustomerRecord c;
    c.customer_id = id;
    c.real_name = "홍길동";
    c.idn_sealed = Bytes{1, 2, 3};
    c.idn_mac = Bytes(32, 7);
    c.phone = "01012345678";
    c.bank_code = "DJB";
    c.password_hash = "$argon2id$...";
    c.created_at = kT0;
    return c;
  }

  Bytes addSession(const std::string& customer_id, std::uint8_t tag) {
    SessionRecord s;
    s.token_hash = Bytes(32, tag);
    s.customer_id = customer_id;
    s.created_at = kT0;
    s.expires_at = kT0 + seconds(600);
    EXPECT_TRUE(store_->insert_session(s).ok());
    return s.token_hash;
  }

  static ApplicationRecord application(const std::string& ref, TimePoint expires) {
    ApplicationRecord a;
    a.ref = ref;
    a.customer_id = "alice";
    a.purpose = Purpose::bank_insurance;
    a.kind = ApplicationKind::reissue;
    a.channel = Channel::teller;
    a.auth_code_sealed = Bytes{9, 9, 9};
    a.created_at = kT0;
    a.expires_at = expires;
    return a;
  }

  void expectAttempt(const Result<Attempt>& a, bool allowed, int failures) {
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_EQ(a->allowed, allowed);
    EXPECT_EQ(a->failures, failures);
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "bank.db";
  std::unique_ptr<BankStore> store_;
};

TEST_F(BankStoreTest, CustomersRoundTripAndAreUnique) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  auto c = store_->find_customer("alice");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->real_name, "홍길동");
  EXPECT_EQ(c->idn_sealed, (Bytes{1, 2, 3}));
  EXPECT_EQ(c->idn_mac, Bytes(32, 7));
  EXPECT_EQ(c->phone, "01012345678");
  EXPECT_EQ(c->bank_code, "DJB");
  EXPECT_EQ(c->failed_logins, 0);
  EXPECT_EQ(c->created_at, kT0);

  Status dup = store_->insert_customer(customer("alice"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::already_exists);
  EXPECT_EQ(store_->find_customer("bob").error().code, Errc::not_found);
}

TEST_F(BankStoreTest, LoginAttemptsStopAtTheLimit) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  for (int i = 1; i <= 3; ++i) expectAttempt(store_->reserve_login_attempt("alice", 3), true, i);
  expectAttempt(store_->reserve_login_attempt("alice", 3), false, 3);
  ASSERT_TRUE(store_->reset_login_failures("alice").ok());
  expectAttempt(store_->reserve_login_attempt("alice", 3), true, 1);
  EXPECT_EQ(store_->reserve_login_attempt("bob", 3).error().code, Errc::not_found);
  EXPECT_EQ(store_->reset_login_failures("bob").error().code, Errc::not_found);
}

TEST_F(BankStoreTest, ParallelAttemptsNeverOvershootTheLimit) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::latch start(kThreads);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kEach; ++i) {
        auto a = store_->reserve_login_attempt("alice", 5);
        if (a.ok() && a->allowed) ++allowed;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 5);
  EXPECT_EQ(store_->find_customer("alice")->failed_logins, 5);
}

TEST_F(BankStoreTest, SessionsCodesAndPurge) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  Bytes s1 = addSession("alice", 1);
  auto found = store_->find_session(s1);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->customer_id, "alice");
  EXPECT_EQ(found->expires_at, kT0 + seconds(600));
  EXPECT_FALSE(found->verified_at.has_value());

  expectAttempt(store_->reserve_idn_attempt(s1, 2), true, 1);
  expectAttempt(store_->reserve_idn_attempt(s1, 2), true, 2);
  expectAttempt(store_->reserve_idn_attempt(s1, 2), false, 2);
  ASSERT_TRUE(store_->reset_idn_failures(s1).ok());
  EXPECT_EQ(store_->find_session(s1)->idn_failures, 0);

  EXPECT_EQ(store_->find_otp(s1).error().code, Errc::not_found);
  auto put = store_->put_otp(s1, OtpRecord{Bytes(32, 0xaa), kT0 + seconds(180), 0}, 2);
  ASSERT_TRUE(put.ok() && *put);
  expectAttempt(store_->reserve_otp_attempt(s1, 5), true, 1);
  // A new code replaces the old one and starts with no failures.
  put = store_->put_otp(s1, OtpRecord{Bytes(32, 0xbb), kT0 + seconds(200), 0}, 2);
  ASSERT_TRUE(put.ok() && *put);
  auto otp = store_->find_otp(s1);
  ASSERT_TRUE(otp.ok());
  EXPECT_EQ(otp->code_mac, Bytes(32, 0xbb));
  EXPECT_EQ(otp->expires_at, kT0 + seconds(200));
  EXPECT_EQ(otp->failures, 0);
  // Only max_sends codes per session.
  put = store_->put_otp(s1, OtpRecord{Bytes(32, 0xcc), kT0 + seconds(300), 0}, 2);
  ASSERT_TRUE(put.ok());
  EXPECT_FALSE(*put);
  EXPECT_EQ(store_->find_otp(s1)->code_mac, Bytes(32, 0xbb));
  EXPECT_EQ(store_->put_otp(Bytes(32, 0x55), OtpRecord{}, 2).error().code, Errc::not_found);

  ASSERT_TRUE(store_->mark_session_verified(s1, kT0 + seconds(60)).ok());
  EXPECT_EQ(store_->find_session(s1)->verified_at, kT0 + seconds(60));
  EXPECT_EQ(store_->find_otp(s1).error().code, Errc::not_found);  // used up

  Bytes s2 = addSession("alice", 2);
  ASSERT_TRUE(store_->put_otp(s2, OtpRecord{Bytes(32, 1), kT0 + seconds(180), 0}, 5).ok());
  ASSERT_TRUE(store_->purge_sessions(kT0 + seconds(600)).ok());  // expires_at == cutoff: kept
  EXPECT_TRUE(store_->find_session(s2).ok());
  ASSERT_TRUE(store_->purge_sessions(kT0 + seconds(601)).ok());
  EXPECT_EQ(store_->find_session(s2).error().code, Errc::not_found);
  EXPECT_EQ(store_->find_otp(s2).error().code, Errc::not_found);  // cascaded

  Bytes s3 = addSession("alice", 3);
  ASSERT_TRUE(store_->delete_session(s3).ok());
  EXPECT_EQ(store_->find_session(s3).error().code, Errc::not_found);
}

TEST_F(BankStoreTest, ApplicationsRoundTrip) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  auto id = store_->insert_application(application("12345678", kT0 + seconds(600)), kT0);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto a = store_->find_application("12345678");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->id, *id);
  EXPECT_EQ(a->customer_id, "alice");
  EXPECT_EQ(a->purpose, Purpose::bank_insurance);
  EXPECT_EQ(a->kind, ApplicationKind::reissue);
  EXPECT_EQ(a->channel, Channel::teller);
  EXPECT_EQ(a->auth_code_sealed, (Bytes{9, 9, 9}));
  EXPECT_EQ(a->state, ApplicationState::open);
  EXPECT_EQ(a->mac_failures, 0);
  EXPECT_EQ(a->expires_at, kT0 + seconds(600));
  EXPECT_FALSE(a->used_at.has_value());
  EXPECT_EQ(store_->find_application("87654321").error().code, Errc::not_found);
}

TEST_F(BankStoreTest, AReferenceNumberIsReusedOnlyAfterQuarantine) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  ASSERT_TRUE(store_->insert_application(application("12345678", kT0 + seconds(600)), kT0).ok());
  // Still live (or expired after the cutoff): refused.
  auto again = store_->insert_application(application("12345678", kT0 + seconds(1200)), kT0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  again =
      store_->insert_application(application("12345678", kT0 + seconds(1200)), kT0 + seconds(599));
  ASSERT_FALSE(again.ok());
  // Expired before the cutoff: a new application may take the number, and
  // lookups see the newest one.
  auto fresh = application("12345678", kT0 + seconds(5000));
  fresh.channel = Channel::app;
  auto id = store_->insert_application(fresh, kT0 + seconds(600));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(store_->find_application("12345678")->id, *id);
  EXPECT_EQ(store_->find_application("12345678")->channel, Channel::app);
}

TEST_F(BankStoreTest, MacFailuresLockAtTheLimit) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  ASSERT_TRUE(store_->insert_application(application("12345678", kT0 + seconds(600)), kT0).ok());
  for (int i = 1; i <= 2; ++i) {
    auto a = store_->record_mac_failure("12345678", 3);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->mac_failures, i);
    EXPECT_EQ(a->state, ApplicationState::open);
  }
  auto a = store_->record_mac_failure("12345678", 3);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->mac_failures, 3);
  EXPECT_EQ(a->state, ApplicationState::locked);
  a = store_->record_mac_failure("12345678", 3);  // no longer open: unchanged
  EXPECT_EQ(a->mac_failures, 3);
  EXPECT_EQ(store_->record_mac_failure("87654321", 3).error().code, Errc::not_found);
  auto used = store_->mark_application_used("12345678", kT0);
  ASSERT_TRUE(used.ok());
  EXPECT_FALSE(*used);
}

TEST_F(BankStoreTest, MarkUsedSucceedsOnceAndNotAfterExpiry) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  ASSERT_TRUE(store_->insert_application(application("11111111", kT0 + seconds(600)), kT0).ok());
  ASSERT_TRUE(store_->insert_application(application("22222222", kT0 + seconds(600)), kT0).ok());

  auto first = store_->mark_application_used("11111111", kT0 + seconds(10));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  auto second = store_->mark_application_used("11111111", kT0 + seconds(11));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(*second);
  auto a = store_->find_application("11111111");
  EXPECT_EQ(a->state, ApplicationState::used);
  EXPECT_EQ(a->used_at, kT0 + seconds(10));

  auto late = store_->mark_application_used("22222222", kT0 + seconds(600));
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(*late);
  EXPECT_EQ(store_->find_application("22222222")->state, ApplicationState::open);
  EXPECT_EQ(store_->mark_application_used("33333333", kT0).error().code, Errc::not_found);
}

TEST_F(BankStoreTest, SmsOutboxKeepsOrderAndFilters) {
  ASSERT_TRUE(store_->append_sms({0, "01011112222", Bytes{1}, kT0}).ok());
  ASSERT_TRUE(store_->append_sms({0, "01033334444", Bytes{2}, kT0 + seconds(1)}).ok());
  ASSERT_TRUE(store_->append_sms({0, "01011112222", Bytes{3}, kT0 + seconds(2)}).ok());
  auto all = store_->list_sms(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].body, Bytes{1});
  EXPECT_EQ((*all)[2].sent_at, kT0 + seconds(2));
  EXPECT_LT((*all)[0].id, (*all)[1].id);
  auto one = store_->list_sms(std::string_view("01011112222"));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 2u);
  EXPECT_EQ((*one)[1].body, Bytes{3});
  EXPECT_TRUE(store_->list_sms(std::string_view("01099999999"))->empty());
}

TEST_F(BankStoreTest, EverythingSurvivesReopen) {
  ASSERT_TRUE(store_->insert_customer(customer("alice")).ok());
  ASSERT_TRUE(store_->insert_application(application("12345678", kT0 + seconds(600)), kT0).ok());
  store_.reset();
  auto reopened = open_sqlite_bank_store(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_TRUE((*reopened)->find_customer("alice").ok());
  EXPECT_TRUE((*reopened)->find_application("12345678").ok());
}

TEST_F(BankStoreTest, SharesADatabaseWithOtherModules) {
  store_.reset();
  auto db = Database::open(path_);
  ASSERT_TRUE(db.ok());
  auto version = (*db)->schema_version("bank");
  ASSERT_TRUE(version.ok());
  EXPECT_GE(*version, 1);
  constexpr Migration kCa[] = {{1, "certificates", "CREATE TABLE ca_things (x INTEGER) STRICT;"}};
  ASSERT_TRUE((*db)->migrate("ca", kCa).ok());
  auto store = sqlite_bank_store(*db);
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_TRUE((*store)->insert_customer(customer("carol")).ok());
}

TEST_F(BankStoreTest, RefusesABankSchemaFromTheFuture) {
  store_.reset();
  {
    auto db = Database::open(path_);
    ASSERT_TRUE(db.ok());
    auto c = (*db)->lease();
    ASSERT_TRUE(c->exec("UPDATE schema_version SET version = 999 WHERE module = 'bank'").ok());
  }
  auto s = open_sqlite_bank_store(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::foreign_format);
  EXPECT_NE(s.error().message.find("999"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace dojang::store
