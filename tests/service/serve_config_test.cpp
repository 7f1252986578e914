#include "dojang/service/serve_config.hpp"

#include <gtest/gtest.h>

#include "testing/testing.hpp"

namespace dojang::service {
namespace {

using namespace std::chrono_literals;

class ServeConfigTest : public ::testing::Test {
 protected:
  Status apply(std::string_view text) { return apply_serve_toml(text, "dojangd.toml", settings_); }
  void expectInvalid(std::string_view text, std::string_view message_part) {
    ServeSettings before = settings_;
    auto st = apply(text);
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_EQ(st.error().code, Errc::invalid_input);
    EXPECT_NE(st.error().message.find(message_part), std::string::npos) << st.error().message;
    // Nothing of a bad file is applied.
    EXPECT_EQ(settings_.http.listen, before.http.listen);
    EXPECT_EQ(settings_.http.threads, before.http.threads);
  }
  ServeSettings settings_;
};

TEST_F(ServeConfigTest, EmptyFileKeepsTheDefaults) {
  ASSERT_TRUE(apply("").ok());
  EXPECT_EQ(settings_.http.listen, "127.0.0.1:8080");
  EXPECT_EQ(settings_.http.threads, 0);
  EXPECT_FALSE(settings_.http.tls);
  EXPECT_EQ(settings_.confirm_timeout, 600s);
}

TEST_F(ServeConfigTest, EverySettingIsRead) {
  auto st = apply(R"(
listen = "0.0.0.0:8443"
threads = 3
handler_threads = 48
[tls]
cert = "/etc/dojang/tls.pem"
key = "/etc/dojang/tls.key"
[limits]
max_header_bytes = 8192
max_body_bytes = 65536
max_connections = 500
[timeouts]
header = 5
body = 15
idle = 20
write = 25
confirm = 120
[revocation]
crl_interval = 30
crl_validity = 7200
ocsp_validity = 600
)");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(settings_.http.listen, "0.0.0.0:8443");
  EXPECT_EQ(settings_.http.threads, 3);
  EXPECT_EQ(settings_.http.handler_threads, 48);
  ASSERT_TRUE(settings_.http.tls);
  EXPECT_EQ(settings_.http.tls->cert_file, "/etc/dojang/tls.pem");
  EXPECT_EQ(settings_.http.tls->key_file, "/etc/dojang/tls.key");
  EXPECT_EQ(settings_.http.max_header_bytes, 8192u);
  EXPECT_EQ(settings_.http.max_body_bytes, 65536u);
  EXPECT_EQ(settings_.http.max_connections, 500u);
  EXPECT_EQ(settings_.http.header_timeout, 5s);
  EXPECT_EQ(settings_.http.body_timeout, 15s);
  EXPECT_EQ(settings_.http.idle_timeout, 20s);
  EXPECT_EQ(settings_.http.write_timeout, 25s);
  EXPECT_EQ(settings_.confirm_timeout, 120s);
  EXPECT_EQ(settings_.crl_interval, 30s);
  EXPECT_EQ(settings_.crl_validity, 7200s);
  EXPECT_EQ(settings_.ocsp_validity, 600s);
}

TEST_F(ServeConfigTest, BadFilesSayWhereAndWhy) {
  expectInvalid("listen = ", "dojangd.toml:1:");
  expectInvalid("listen = 8080", "listen must be a string");
  expectInvalid("threads = \"two\"", "threads must be an integer");
  expectInvalid("threads = -1", "threads must be between 0 and 256");
  expectInvalid("handler_threads = 0", "handler_threads must be between 1 and 1024");
  expectInvalid("lisen = \"127.0.0.1:1\"", "dojangd.toml:1:1: unknown setting 'lisen'");
  expectInvalid("[timeouts]\nidel = 3", "unknown setting 'timeouts.idel'");
  expectInvalid("[timeouts]\nidle = 0", "timeouts.idle must be between");
  expectInvalid("[tls]\ncert = \"a.pem\"", "[tls] needs both cert and key");
  expectInvalid("tls = 3", "[tls] must be a table");
  expectInvalid("[revocation]\nocsp_validity = 10", "revocation.ocsp_validity must be between 60 and 604800");
  expectInvalid("[revocation]\ncrl_every = 10", "unknown setting 'revocation.crl_every'");
  expectInvalid("listen = \"127.0.0.1:1\"\nthreads = 99999", "dojangd.toml:2:");
}

TEST_F(ServeConfigTest, FileErrors) {
  testing::TempDir tmp;
  auto missing = apply_serve_config_file(tmp / "none.toml", settings_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  testing::write_text(tmp / "d.toml", "threads = 1\n");
  ASSERT_TRUE(apply_serve_config_file(tmp / "d.toml", settings_).ok());
  EXPECT_EQ(settings_.http.threads, 1);
}

TEST_F(ServeConfigTest, RenewalWindow) {
  EXPECT_EQ(settings_.renewal_window, std::chrono::days(30));
  ASSERT_TRUE(apply("[profile]\nrenewal_window_days = 400\n").ok());
  EXPECT_EQ(settings_.renewal_window, std::chrono::days(400));
  expectInvalid("[profile]\nrenewal_window_days = 0", "profile.renewal_window_days must be between 1 and 3650");
  expectInvalid("[profile]\nwindow = 3", "unknown setting 'profile.window'");
  EXPECT_EQ(settings_.renewal_window, std::chrono::days(400));
}

TEST(LoopbackListenTest, OnlyLoopbackAddresses) {
  EXPECT_TRUE(is_loopback_listen("127.0.0.1:8080"));
  EXPECT_TRUE(is_loopback_listen("127.1.2.3:0"));
  EXPECT_TRUE(is_loopback_listen("[::1]:8080"));
  EXPECT_TRUE(is_loopback_listen("localhost:8080"));
  EXPECT_FALSE(is_loopback_listen("0.0.0.0:8080"));
  EXPECT_FALSE(is_loopback_listen("10.0.0.1:8080"));
  EXPECT_FALSE(is_loopback_listen("[::]:8080"));
  EXPECT_FALSE(is_loopback_listen("localhost.example.com:80"));
}

}  // namespace
}  // namespace dojang::service
