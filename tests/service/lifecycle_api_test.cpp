#include "dojang/service/lifecycle_api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "dojang/store/database.hpp"
#include "testing/testing.hpp"

namespace dojang::service {
namespace {

using dojang::testing::TempDir;
using nlohmann::json;
using namespace std::chrono_literals;

const TimePoint kT0 = store::from_unix(1'764'547'200);  // 2025-12-01T00:00:00Z
constexpr const char* kIdn = "800101-1234567";
constexpr const char* kPhone = "010-1234-5678";

// The bank and the CA registry in one SQLite file, the lifecycle routes on a
// Router, driven without a server.
class LifecycleApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(dir_ / "dojang.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto s = store::sqlite_bank_store(*db);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
    SecretBytes key(Bytes(ra::kDataKeySize, 0x42));
    auto g = ra::OutboxSmsGateway::create(*store_, key, clock_);
    ASSERT_TRUE(g.ok()) << g.error().message;
    sms_.emplace(std::move(*g));
    auto b = ra::Bank::create(*store_, SecretBytes(Bytes(ra::kDataKeySize, 0x42)), *sms_, clock_);
    ASSERT_TRUE(b.ok()) << b.error().message;
    bank_.emplace(std::move(*b));
    auto r = ca::Registry::open(*db, clock_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    registry_ = std::move(*r);
    register_lifecycle_api(router_, *bank_, *registry_, clock_);
    for (const char* id : {"hong", "kim"}) {
      Status st = bank_->enrol({id, "홍길동", SecretString(std::string(kIdn)), kPhone, "DJB",
                                SecretString(std::string("login pass 1!"))});
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
    issue("0a01", "hong");
    issue("0a02", "hong");
    issue("0b01", "kim");
  }

  void issue(const std::string& serial, const std::string& customer) {
    ca::CertificateRecord r;
    r.serial_hex = serial;
    r.customer_id = customer;
    r.application_ref = "12345678";
    r.subject = "cn=x,c=kr";
    r.not_before = clock_.now();
    r.not_after = clock_.now() + 24h * 365;
    r.der = {0x30, 0x00};
    r.transaction_id = "00";
    ASSERT_TRUE(registry_->record_pending(r).ok());
    ASSERT_TRUE(registry_->confirm(serial).ok());
  }

  // A logged-in, identity-verified session of customer.
  std::string verified(const std::string& customer = "hong") {
    auto s = bank_->login(customer, SecretString(std::string("login pass 1!")));
    EXPECT_TRUE(s.ok()) << s.error().message;
    std::string token(s->token.view());
    EXPECT_TRUE(bank_->start_identity_check(token, SecretString(std::string(kIdn))).ok());
    auto box = sms_->outbox(std::string_view(kPhone));
    std::smatch m;
    std::string text(box->back().text.view());
    EXPECT_TRUE(std::regex_search(text, m, std::regex("인증번호 ([0-9]{6})")));
    EXPECT_TRUE(bank_->verify_otp(token, m[1].str()).ok());
    return token;
  }

  struct Answer {
    int status;
    json body;
  };
  Answer call(const std::string& method, const std::string& path, const std::string& token,
              const std::string& body = {}) {
    std::string auth = "Bearer " + token;
    Header h[] = {{"Authorization", auth}};
    Request req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.body = body;
    if (!token.empty()) req.headers = h;
    RouteMatch m = router_.match(method, path);
    EXPECT_EQ(m.status, 200) << path;
    if (m.route == nullptr) return {0, {}};
    Response r = m.route->handler(req);
    return {r.status, json::parse(r.body, nullptr, false)};
  }
  Answer change(const std::string& what, const std::string& token, const std::string& serial,
                const std::string& extra = {}) {
    return call("POST", "/api/v1/bank/certificates/" + what, token,
                "{\"serial\": \"" + serial + "\"" + extra + "}");
  }
  void expectError(const Answer& a, int status, const std::string& text) {
    EXPECT_EQ(a.status, status) << a.body.dump();
    EXPECT_NE(a.body.value("message", std::string()).find(text), std::string::npos) << a.body.dump();
  }

  TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<store::BankStore> store_;
  std::optional<ra::OutboxSmsGateway> sms_;
  std::optional<ra::Bank> bank_;
  std::unique_ptr<ca::Registry> registry_;
  Router router_;
};

TEST_F(LifecycleApiTest, ListsOnlyTheCustomersOwnCertificates) {
  Answer a = call("GET", "/api/v1/bank/certificates", verified());
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["customer"], "hong");
  ASSERT_EQ(a.body["certificates"].size(), 2u);
  EXPECT_EQ(a.body["certificates"][0]["serial"], "0xa01");  // as the wallet shows it: no leading zeros
  EXPECT_EQ(a.body["certificates"][0]["status"], "valid");
  EXPECT_EQ(a.body["certificates"][1]["serial"], "0xa02");
  EXPECT_EQ(a.body["certificates"][0]["not_after"], store::to_unix(kT0 + 24h * 365));
}

TEST_F(LifecycleApiTest, NeedsAFreshVerificationAndEachChangeEndsTheSession) {
  expectError(call("GET", "/api/v1/bank/certificates", ""), 401, "missing bearer");
  expectError(call("GET", "/api/v1/bank/certificates", std::string(64, 'a')), 403, "not logged in");
  auto login = bank_->login("hong", SecretString(std::string("login pass 1!")));
  ASSERT_TRUE(login.ok());
  expectError(change("suspend", std::string(login->token.view()), "0x0a01"), 403, "identity not verified");

  std::string token = verified();
  clock_.advance(ra::kManagementWindow);
  expectError(change("suspend", token, "0x0a01"), 403, "more than 5 minutes ago");
  EXPECT_FALSE(registry_->find("0a01")->revoked_at);

  token = verified();
  Answer s = change("suspend", token, "0x0a01");
  ASSERT_EQ(s.status, 200) << s.body.dump();
  EXPECT_EQ(s.body["status"], "suspended");
  EXPECT_EQ(s.body["reason"], "certificateHold");
  expectError(change("resume", token, "0x0a01"), 403, "not logged in");  // one change per verification
}

TEST_F(LifecycleApiTest, SuspendResumeRevokeFollowTheRegistryRules) {
  Answer s = change("suspend", verified(), "0x0a01");
  ASSERT_EQ(s.status, 200) << s.body.dump();
  auto hold = registry_->find("0a01");
  EXPECT_EQ(hold->revocation_reason, ca::RevocationReason::certificate_hold);
  expectError(change("suspend", verified(), "0x0a01"), 403, "already suspended");
  Answer r = change("resume", verified(), "0x0a01");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["status"], "valid");
  EXPECT_FALSE(registry_->find("0a01")->revoked_at);
  expectError(change("resume", verified(), "0x0a01"), 403, "not suspended");

  Answer v = change("revoke", verified(), "2561");  // 0x0a01 in decimal; default reason
  ASSERT_EQ(v.status, 200) << v.body.dump();
  EXPECT_EQ(v.body["status"], "revoked");
  EXPECT_EQ(v.body["reason"], "keyCompromise");
  EXPECT_EQ(v.body["revoked_at"], store::to_unix(kT0));
  expectError(change("resume", verified(), "0x0a01"), 403, "revoked for good");
  expectError(change("revoke", verified(), "0x0a01"), 403, "already revoked");

  Answer a = change("revoke", verified(), "0x0a02", ", \"reason\": \"cessationOfOperation\"");
  EXPECT_EQ(a.body["reason"], "cessationOfOperation") << a.body.dump();
}

TEST_F(LifecycleApiTest, AnotherCustomersSerialLooksLikeAnUnknownOne) {
  std::string token = verified();
  Answer other = change("revoke", token, "0x0b01");
  Answer unknown = change("revoke", token, "0x0c01");
  expectError(other, 404, "no certificate with serial 0x0b01 among your certificates");
  expectError(unknown, 404, "among your certificates");
  EXPECT_EQ(other.body["error"], unknown.body["error"]);
  EXPECT_FALSE(registry_->find("0b01")->revoked_at);
  expectError(change("revoke", token, "xyz"), 400, "serial");
  expectError(change("revoke", token, "0x0a01", ", \"reason\": \"certificateHold\""), 400, "suspend");
  expectError(change("revoke", token, "0x0a01", ", \"reason\": \"cACompromise\""), 400, "not a reason");
  Answer ok = change("revoke", token, "0x0a01");  // the refusals did not use the session up
  EXPECT_EQ(ok.status, 200) << ok.body.dump();
}

TEST_F(LifecycleApiTest, ReissueOpensAnApplicationCarryingTheOldSerialAndNotAfter) {
  Answer a = change("reissue", verified(), "0x0a02");
  ASSERT_EQ(a.status, 201) << a.body.dump();
  EXPECT_EQ(a.body["replaces"], "0xa02");
  EXPECT_EQ(a.body["not_after"], store::to_unix(kT0 + 24h * 365));
  auto app = bank_->application_for_ca(a.body["reference"].get<std::string>());
  ASSERT_TRUE(app.ok()) << app.error().message;
  EXPECT_EQ(app->kind, ra::ApplicationKind::reissue);
  EXPECT_EQ(app->customer_id, "hong");
  EXPECT_EQ(app->replaces_serial, std::optional<std::string>("0a02"));
  EXPECT_EQ(app->not_after, std::optional<TimePoint>(kT0 + 24h * 365));

  // Superseded already: refused. Expired: a full new term (no notAfter carried over).
  ASSERT_TRUE(registry_->revoke("0a02", ca::RevocationReason::superseded, clock_.now()).ok());
  expectError(change("reissue", verified(), "0x0a02"), 403, "superseded");
  clock_.advance(24h * 366);
  Answer expired = change("reissue", verified(), "0x0a01");
  ASSERT_EQ(expired.status, 201) << expired.body.dump();
  EXPECT_FALSE(expired.body.contains("not_after"));
  auto fresh = bank_->application_for_ca(expired.body["reference"].get<std::string>());
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->not_after);
  expectError(change("revoke", verified(), "0x0a01"), 403, "expired");
}

}  // namespace
}  // namespace dojang::service
