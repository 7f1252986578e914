#include "dojang/wallet/status.hpp"

#include <gtest/gtest.h>

#include "testing/testing.hpp"

namespace dojang::wallet {
namespace {

using dojang::testing::data_path;
using dojang::testing::read_bytes;
using std::chrono::hours;
using std::chrono::seconds;

// tests/data/pki/cred/yessign-general: notAfter 1827287878 (expected.txt, from openssl).
const TimePoint kNotAfter = TimePoint{} + seconds(1'827'287'878);

pki::Certificate load(const std::string& name) {
  auto c = pki::Certificate::from_der(read_bytes(data_path("pki/cred/" + name + "/signCert.der")));
  EXPECT_TRUE(c.ok()) << c.error().message;
  return std::move(c).value();
}

TEST(ExpiryMarkTest, ValidExpiringAndExpiredWithTheCommandToRun) {
  const pki::Certificate cert = load("yessign-general");
  FakeClock clock(kNotAfter - hours(24 * 31));
  ExpiryMark m = expiry_mark(cert, clock);
  EXPECT_EQ(m.state, ExpiryState::valid);
  EXPECT_EQ(m.days_left, 31);
  EXPECT_TRUE(m.advice.empty()) << m.advice;

  clock.set(kNotAfter - hours(24 * 30));
  m = expiry_mark(cert, clock);
  EXPECT_EQ(m.state, ExpiryState::expiring);
  EXPECT_EQ(m.days_left, 30);
  EXPECT_NE(m.advice.find("expires in 30 days: renew with: dojang renew 0x"), std::string::npos) << m.advice;

  clock.set(kNotAfter);
  m = expiry_mark(cert, clock);
  EXPECT_EQ(m.state, ExpiryState::expiring);  // the last second is still valid
  EXPECT_EQ(m.days_left, 0);

  clock.advance(seconds(1));
  m = expiry_mark(cert, clock);
  EXPECT_EQ(m.state, ExpiryState::expired);
  EXPECT_LT(m.days_left, 0);
  EXPECT_NE(m.advice.find("re-issue with: dojang reissue --serial 0x"), std::string::npos) << m.advice;
  EXPECT_STREQ(expiry_state_name(m.state), "expired");
}

class FailingFetcher final : public pki::Fetcher {
 public:
  Result<Bytes> post(const std::string& url, std::string_view, ByteView) override {
    posts.push_back(url);
    return Error{Errc::io, "connection refused"};
  }
  Result<Bytes> get(const std::string& url) override {
    gets.push_back(url);
    if (serve_der) return *serve_der;
    return Error{Errc::io, "connection refused"};
  }
  std::vector<std::string> posts, gets;
  std::optional<Bytes> serve_der;
};

TEST(CheckOnlineTest, NoNetworkIsUnreachableWithTheReason) {
  const pki::Certificate cert = load("yessign-general");
  FailingFetcher f;
  FakeClock clock(kNotAfter - hours(24 * 100));
  OnlineStatus s = check_online(cert, {cert}, f, clock);
  EXPECT_EQ(s.state, OnlineState::unreachable);
  EXPECT_STREQ(online_state_name(s.state), "unreachable");
  EXPECT_FALSE(s.advice.empty());
  EXPECT_NE(s.detail.find("issuing CA certificate could not be fetched"), std::string::npos) << s.detail;
  EXPECT_TRUE(f.posts.empty());  // no OCSP without a checked issuer
}

}  // namespace
}  // namespace dojang::wallet
