// The device-copy relay's REST handlers over a real SQLite file, driven
// through the router with a fake clock: expiry, single use, lockout after five
// failed confirmations, receiver-only operations, deletion after pickup.
#include "dojang/service/relay_api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "dojang/store/database.hpp"
#include "dojang/store/relay_store.hpp"
#include "testing/testing.hpp"

namespace dojang::service {
namespace {

using nlohmann::json;
using testing::read_text;
using testing::TempDir;

const std::string kMessage(64, 'a');  // 32 bytes of hex
const std::string kConfirm(64, 'b');

class RelayApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::open(tmp_ / "relay.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = *db;
    auto s = store::RelayStore::open(db_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
    register_relay_api(router_, *store_, clock_);
  }

  struct Reply {
    int status;
    json body;
  };
  Reply call(const std::string& method, const std::string& path, const std::string& body = {},
             const std::string& token = {}) {
    auto m = router_.match(method, path);
    if (m.status != 200) return {m.status, {}};
    std::string auth = "Bearer " + token;
    std::vector<Header> headers;
    if (!token.empty()) headers.push_back({"Authorization", auth});
    Request req;
    req.method = method;
    req.target = path;
    req.path = path;
    req.body = body;
    req.headers = headers;
    req.remote_address = "127.0.0.1";
    Response r = m.route->handler(req);
    return {r.status, r.body.empty() ? json() : json::parse(r.body, nullptr, false)};
  }
  // Opens session `id`; returns the receiver's token.
  std::string open(const std::string& id) {
    auto r = call("POST", "/api/v1/relay/sessions", json{{"session", id}, {"message", kMessage}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.body.value("token", "");
  }
  Reply offer(const std::string& id, const std::string& bundle = "c0ffee") {
    return call("POST", "/api/v1/relay/sessions/" + id + "/offer",
                json{{"message", kMessage}, {"confirm", kConfirm}, {"bundle", bundle}}.dump());
  }

  TempDir tmp_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1'900'000'000))};
  std::shared_ptr<store::Database> db_;
  std::unique_ptr<store::RelayStore> store_;
  Router router_;
};

TEST_F(RelayApiTest, OneUploadIsHandedToTheReceiverAndDeletedAfterPickup) {
  std::string token = open("123456");
  ASSERT_EQ(token.size(), 64u);
  auto st = call("GET", "/api/v1/relay/sessions/123456");
  ASSERT_EQ(st.status, 200);
  EXPECT_EQ(st.body["state"], "waiting");
  EXPECT_EQ(st.body["message"], kMessage);
  EXPECT_EQ(st.body["expires_at"], 1'900'000'000 + 300);

  EXPECT_EQ(offer("123456", "0badc0de").status, 201);
  EXPECT_EQ(offer("123456").status, 409);  // one upload at a time

  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/123456/offer").status, 401);  // receiver only
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/123456/offer", {}, std::string(64, '0')).status, 401);
  auto got = call("GET", "/api/v1/relay/sessions/123456/offer", {}, token);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["state"], "offered");
  EXPECT_EQ(got.body["bundle"], "0badc0de");
  EXPECT_EQ(got.body["confirm"], kConfirm);

  EXPECT_EQ(call("DELETE", "/api/v1/relay/sessions/123456").status, 401);
  EXPECT_EQ(call("DELETE", "/api/v1/relay/sessions/123456", {}, token).status, 204);
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/123456").status, 404);
  EXPECT_EQ(offer("123456").status, 404);  // single use

  // The database never held the session id in clear.
  EXPECT_EQ(read_text(tmp_ / "relay.db").find("123456"), std::string::npos);
}

TEST_F(RelayApiTest, SessionsExpireAfterFiveMinutes) {
  std::string token = open("222222");
  clock_.advance(std::chrono::seconds(299));
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/222222").status, 200);
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/222222").status, 404);
  EXPECT_EQ(offer("222222").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/222222/offer", {}, token).status, 404);
  // An expired id may be opened again.
  open("222222");
}

TEST_F(RelayApiTest, FiveFailedConfirmationsLockTheSession) {
  std::string token = open("333333");
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(offer("333333").status, 201) << i;
    EXPECT_EQ(call("POST", "/api/v1/relay/sessions/333333/failure").status, 401);
    auto f = call("POST", "/api/v1/relay/sessions/333333/failure", {}, token);
    ASSERT_EQ(f.status, 200) << f.body;
    EXPECT_EQ(f.body["failures"], i);
    EXPECT_EQ(f.body["state"], i < 5 ? "waiting" : "locked");
    if (i < 5) {
      // The rejected upload is gone; the session waits for the next one.
      auto w = call("GET", "/api/v1/relay/sessions/333333/offer", {}, token);
      EXPECT_EQ(w.body["state"], "waiting");
    }
  }
  auto locked = call("GET", "/api/v1/relay/sessions/333333");
  EXPECT_EQ(locked.status, 403);
  EXPECT_EQ(locked.body["state"], "locked");
  EXPECT_EQ(offer("333333").status, 403);
  // Failing without an upload is refused.
  std::string t2 = open("444444");
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions/444444/failure", {}, t2).status, 403);
}

// One address cannot take the session ids other people's copies need.
TEST_F(RelayApiTest, OpeningSessionsIsRateLimitedPerAddress) {
  clock_.set(TimePoint(std::chrono::seconds(1'900'000'020)));  // 20 s into a minute window
  for (int i = 0; i < 30; ++i) open(std::to_string(500000 + i));
  auto body = json{{"session", "600000"}, {"message", kMessage}}.dump();
  auto refused = call("POST", "/api/v1/relay/sessions", body);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.body.value("error", ""), "rate_limited");
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/600000").status, 404);  // nothing was opened
  // Another address is not affected.
  auto m = router_.match("POST", "/api/v1/relay/sessions");
  Request other;
  other.method = "POST";
  other.target = other.path = "/api/v1/relay/sessions";
  other.body = body;
  other.remote_address = "127.0.0.2";
  Response r = m.route->handler(other);
  EXPECT_EQ(r.status, 201) << r.body;
  // The next minute the first address may open sessions again.
  clock_.advance(std::chrono::seconds(60));
  open("600001");
}

TEST_F(RelayApiTest, MalformedRequestsAreRefused) {
  open("555555");
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions", json{{"session", "555555"}, {"message", kMessage}}.dump()).status,
            409);  // id taken
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions", json{{"session", "12ab56"}, {"message", kMessage}}.dump()).status,
            400);
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions", json{{"session", "1234567"}, {"message", kMessage}}.dump()).status,
            400);
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions", json{{"session", "666666"}, {"message", "abcd"}}.dump()).status,
            400);
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions", "not json").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/relay/sessions/555555/offer",
                 json{{"message", kMessage}, {"confirm", kConfirm}, {"bundle", "xyz"}}.dump())
                .status,
            400);
  EXPECT_EQ(offer("555555", std::string(2 * 32 * 1024 + 2, 'a')).status, 400);  // over the size limit
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/55555").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/relay/sessions/555555/nonsense").status, 404);
}

}  // namespace
}  // namespace dojang::service
