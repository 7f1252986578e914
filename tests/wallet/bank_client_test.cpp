// The bank REST client against the real dojangd on a free loopback port.
#include "dojang/wallet/bank_client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "testing/testing.hpp"

namespace dojang::wallet {
namespace {

using dojang::testing::bin_path;
using dojang::testing::TempDir;

constexpr const char* kIdn = "8001011234567";
constexpr const char* kLoginPassword = "Bank!login-77";

// A loopback port nobody listens on (bound, then closed).
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// One dojangd for the suite: init, enrol hong, serve on port 0.
class BankClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    data_ = (*tmp_ / "data").string();
    pass_ = secret("pass", "operator passphrase 1");
    ASSERT_FALSE(dojang::testing::init_dojangd(data_, pass_).empty());
    auto enrol = dojangd({"bank", "enrol", "--data", data_, "--passphrase-file", pass_, "--customer", "hong",
                          "--name", "홍길동", "--idn-file", secret("idn", "800101-1234567"), "--phone",
                          "010-1234-5678", "--password-file", secret("lpw", kLoginPassword)});
    ASSERT_EQ(enrol.exit_code, 0) << enrol.err;
    server_ = new dojang::testing::Background({bin_path("dojangd").string(), "serve", "--data", data_,
                                               "--passphrase-file", pass_, "--listen", "127.0.0.1:0",
                                               "--threads", "2"});
    std::string line = server_->wait_for_line("listening on");
    ASSERT_FALSE(line.empty()) << server_->out();
    port_ = std::stoi(line.substr(line.rfind(':') + 1));
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete tmp_;
    tmp_ = nullptr;
  }

  static std::string secret(const std::string& name, const std::string& value) {
    auto p = *tmp_ / name;
    dojang::testing::write_text(p, value + "\n");
    return p.string();
  }
  static dojang::testing::RunResult dojangd(std::vector<std::string> args) {
    args.insert(args.begin(), bin_path("dojangd").string());
    return dojang::testing::run(args);
  }
  // The newest SMS code sent to hong's phone.
  static std::string latest_code() {
    auto r = dojangd({"bank", "outbox", "--data", data_, "--passphrase-file", pass_, "--phone", "01012345678"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string code;
    std::regex re("([0-9]{6})");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), re); it != std::sregex_iterator(); ++it)
      code = (*it)[1].str();
    return code;
  }

  std::unique_ptr<BankClient> client(std::string url = {}) {
    if (url.empty()) url = "http://127.0.0.1:" + std::to_string(port_);
    auto c = BankClient::create({url, "", 10});
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(c).value() : nullptr;
  }

  template <class T>
  void expectError(const Result<T>& r, Errc code, const std::string& mentions = {}) {
    ASSERT_FALSE(r.ok()) << "unexpected success";
    EXPECT_EQ(r.error().code, code) << r.error().message;
    if (!mentions.empty()) {
      EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
    }
    for (const char* s : {kIdn, kLoginPassword}) EXPECT_EQ(r.error().message.find(s), std::string::npos);
  }

  static TempDir* tmp_;
  static std::string data_, pass_;
  static dojang::testing::Background* server_;
  static int port_;
};

TempDir* BankClientTest::tmp_ = nullptr;
std::string BankClientTest::data_, BankClientTest::pass_;
dojang::testing::Background* BankClientTest::server_ = nullptr;
int BankClientTest::port_ = 0;

TEST_F(BankClientTest, WrongLoginPasswordIsWrongPassword) {
  auto c = client();
  ASSERT_TRUE(c);
  expectError(c->login("hong", SecretString("Wrong!pass-1")), Errc::wrong_password);
  EXPECT_FALSE(c->logged_in());
  expectError(c->login("nobody", SecretString(kLoginPassword)), Errc::wrong_password);
}

TEST_F(BankClientTest, StepsOutOfOrderAreRefused) {
  auto c = client();
  ASSERT_TRUE(c);
  expectError(c->identity(SecretString(kIdn)), Errc::usage, "not logged in");
  ASSERT_TRUE(c->login("hong", SecretString(kLoginPassword)).ok());
  expectError(c->open_application(BankPurpose::general), Errc::policy, "identity not verified");
}

TEST_F(BankClientTest, LoginIdentitySmsCodeAndApplication) {
  auto c = client();
  ASSERT_TRUE(c);
  auto login = c->login("hong", SecretString(kLoginPassword));
  ASSERT_TRUE(login.ok()) << login.error().message;
  EXPECT_TRUE(c->logged_in());

  expectError(c->identity(SecretString("9001011234568")), Errc::invalid_input, "does not match");
  auto phone = c->identity(SecretString(kIdn));
  ASSERT_TRUE(phone.ok()) << phone.error().message;
  EXPECT_EQ(*phone, "010-****-5678");

  std::string code = latest_code();
  ASSERT_EQ(code.size(), 6u);
  std::string wrong = code == "000000" ? "000001" : "000000";
  expectError(c->otp(SecretString(wrong)), Errc::invalid_input, "wrong code");
  auto otp = c->otp(SecretString(code));
  ASSERT_TRUE(otp.ok()) << otp.error().message;

  auto ticket = c->open_application(BankPurpose::bank);
  ASSERT_TRUE(ticket.ok()) << ticket.error().message;
  EXPECT_TRUE(std::regex_match(ticket->reference, std::regex("[1-9][0-9]{7}"))) << ticket->reference;
  EXPECT_TRUE(std::regex_match(std::string(ticket->auth_code.view()),
                               std::regex("[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")));
  EXPECT_GT(ticket->expires_at, std::chrono::system_clock::now());
  EXPECT_LT(ticket->expires_at, std::chrono::system_clock::now() + std::chrono::minutes(11));
}

TEST_F(BankClientTest, CertificateManagementInAVerifiedSession) {
  auto c = client();
  ASSERT_TRUE(c);
  expectError(c->certificates(), Errc::usage, "not logged in");
  ASSERT_TRUE(c->login("hong", SecretString(kLoginPassword)).ok());
  expectError(c->certificates(), Errc::policy, "identity not verified");
  std::string seen_phone;
  auto masked = c->verify_identity(SecretString(kIdn), [&](std::string_view phone) -> Result<SecretString> {
    seen_phone = phone;
    return SecretString(latest_code());
  });
  ASSERT_TRUE(masked.ok()) << masked.error().message;
  EXPECT_EQ(*masked, "010-****-5678");
  EXPECT_EQ(seen_phone, *masked);
  auto list = c->certificates();
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_TRUE(list->empty());  // hong has no certificate in this suite
  expectError(c->change(CertificateAction::suspend, "0x1234"), Errc::not_found, "among your certificates");
  // Ownership is checked first: a stranger learns nothing from the reason check either.
  expectError(c->change(CertificateAction::revoke, "0x1234", "cACompromise"), Errc::not_found, "among your");
  expectError(c->open_reissue("0x1234"), Errc::not_found, "among your certificates");
  expectError(c->change(CertificateAction::resume, ""), Errc::usage, "no certificate serial");
  EXPECT_STREQ(certificate_action_name(CertificateAction::resume), "resume");
}

TEST_F(BankClientTest, UnknownPathIsNotFound) {
  // A base URL with a path prefix the server does not serve: 404 from the router.
  auto c = client("http://127.0.0.1:" + std::to_string(port_) + "/nowhere");
  ASSERT_TRUE(c);
  auto r = c->login("hong", SecretString(kLoginPassword));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found) << r.error().message;
}

TEST_F(BankClientTest, ServerDownIsIo) {
  auto c = client("http://127.0.0.1:" + std::to_string(closed_port()));
  ASSERT_TRUE(c);
  auto start = std::chrono::steady_clock::now();
  expectError(c->login("hong", SecretString(kLoginPassword)), Errc::io, "cannot reach the bank");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(BankClientTest, SilentServerTimesOutAsIo) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto c = BankClient::create({"http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)), "", 1});
  ASSERT_TRUE(c.ok());
  auto start = std::chrono::steady_clock::now();
  expectError((*c)->login("hong", SecretString(kLoginPassword)), Errc::io);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ::close(fd);
}

TEST(BankClientUrlTest, OnlyLoopbackHttpOrHttps) {
  for (const char* bad : {"http://example.com", "http://10.0.0.1:8080", "ftp://127.0.0.1",
                          "http://user:pw@127.0.0.1", "http://127.0.0.1/?q=1", "not a url", ""}) {
    auto c = BankClient::create({bad, "", 5});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.error().code, Errc::usage) << bad << ": " << c.error().message;
  }
  for (const char* good : {"http://127.0.0.1:8080", "http://localhost", "http://[::1]:80/",
                           "https://bank.example", "http://127.1.2.3/prefix"}) {
    auto c = BankClient::create({good, "", 5});
    EXPECT_TRUE(c.ok()) << good << ": " << c.error().message;
  }
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("[::1]"));
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("localhost.example"));
}

}  // namespace
}  // namespace dojang::wallet
