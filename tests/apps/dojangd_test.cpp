// Integration tests of dojangd: the real binary on a free loopback port with a
// temp data directory, driven over HTTP and through its CLI.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "dojangd_helpers.hpp"

namespace dojang::testing {
namespace {

class DojangdTest : public DojangdFixture {
 protected:
  // init + enrol hong; returns the admin token printed by init.
  std::string init_and_enrol(bool cached = true) {
    std::string token = init("rsa2048", cached);
    enrol_hong();
    return token;
  }
  HttpResult post(const std::string& path, const nlohmann::json& body, const std::string& bearer = {}) {
    std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"}};
    if (!bearer.empty()) h.emplace_back("Authorization", "Bearer " + bearer);
    return http_request(port_, "POST", path, body.dump(), h);
  }
  static nlohmann::json json_of(const HttpResult& r) { return nlohmann::json::parse(r.body, nullptr, false); }
  // The newest SMS code sent to the phone, read through `dojangd bank outbox`.
  std::string latest_code() {
    auto r = dojangd({"bank", "outbox", "--data", data_, "--passphrase-file", pass_, "--phone", "01012345678"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    std::string code;
    std::regex re("([0-9]{6})");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), re); it != std::sregex_iterator(); ++it)
      code = (*it)[1].str();
    return code;
  }
};

TEST_F(DojangdTest, InitCreatesAHierarchyOpensslAcceptsAndRefusesASecondInit) {
  init_and_enrol(/*cached=*/false);
  auto issuing = tmp_ / "issuing.pem";
  auto v = run({"/usr/bin/openssl", "verify", "-CAfile", data_ + "/root.pem", data_ + "/chain.pem"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  auto again = dojangd({"init", "--data", data_, "--passphrase-file", pass_});
  EXPECT_EQ(again.exit_code, 4) << again.err;
  auto wrong = dojangd({"bank", "application", "--data", data_, "--passphrase-file",
                        secret("wrong", "not the passphrase"), "--customer", "hong"});
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_NE(wrong.err.find("passphrase"), std::string::npos) << wrong.err;
  auto missing = dojangd({"bank", "outbox", "--data", (tmp_ / "nothing").string(), "--passphrase-file", pass_});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("dojangd init"), std::string::npos) << missing.err;
}

TEST_F(DojangdTest, TellerApplicationPrintsReferenceAndAuthorizationCode) {
  init_and_enrol();
  auto r = dojangd({"bank", "application", "--data", data_, "--passphrase-file", pass_, "--customer", "hong",
                    "--purpose", "bank"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Reference number: +[1-9][0-9]{7}\n"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Authorization code: +[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\n")))
      << r.out;
  auto unknown = dojangd({"bank", "application", "--data", data_, "--passphrase-file", pass_, "--customer", "nobody"});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.err;
}

TEST_F(DojangdTest, PhoneFlowOverRestGivesAReferenceAndAuthorizationCode) {
  std::string admin = init_and_enrol();
  auto server = serve();

  auto bad_login = post("/api/v1/bank/login", {{"customer", "hong"}, {"password", "wrong"}});
  EXPECT_EQ(bad_login.status, 401) << bad_login.body;
  auto login = post("/api/v1/bank/login", {{"customer", "hong"}, {"password", "Bank!login-77"}});
  ASSERT_EQ(login.status, 200) << login.body;
  std::string token = json_of(login)["token"];

  auto early = post("/api/v1/bank/applications", {{"purpose", "general"}}, token);
  EXPECT_EQ(early.status, 403) << "application before identity verification: " << early.body;

  auto wrong_idn = post("/api/v1/bank/identity", {{"idn", "9001011234568"}}, token);
  EXPECT_EQ(wrong_idn.status, 400) << wrong_idn.body;
  auto idn = post("/api/v1/bank/identity", {{"idn", "8001011234567"}}, token);
  ASSERT_EQ(idn.status, 200) << idn.body;
  EXPECT_EQ(json_of(idn)["phone"], "010-****-5678");

  auto wrong_code = post("/api/v1/bank/otp", {{"code", "000000"}}, token);
  std::string code = latest_code();
  ASSERT_EQ(code.size(), 6u);
  if (code != "000000") {
    EXPECT_EQ(wrong_code.status, 400) << wrong_code.body;
  }
  auto otp = post("/api/v1/bank/otp", {{"code", code}}, token);
  ASSERT_EQ(otp.status, 200) << otp.body;

  auto app = post("/api/v1/bank/applications", {{"purpose", "general"}}, token);
  ASSERT_EQ(app.status, 201) << app.body;
  auto ticket = json_of(app);
  EXPECT_TRUE(std::regex_match(ticket["reference"].get<std::string>(), std::regex("[1-9][0-9]{7}")));
  EXPECT_TRUE(std::regex_match(ticket["authorization_code"].get<std::string>(),
                               std::regex("[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")));

  // Admin enrolment needs the token printed at init.
  nlohmann::json kim = {{"customer", "kim"},   {"name", "김철수"},      {"idn", "9002022345678"},
                        {"phone", "01098765432"}, {"bank_code", "WOORI"}, {"password", "Kim!login-88"}};
  EXPECT_EQ(post("/api/v1/admin/customers", kim).status, 401);
  EXPECT_EQ(post("/api/v1/admin/customers", kim, "0000").status, 401);
  EXPECT_EQ(post("/api/v1/admin/customers", kim, admin).status, 201);
  EXPECT_EQ(post("/api/v1/admin/customers", kim, admin).status, 409);
  EXPECT_EQ(post("/api/v1/bank/login", {{"customer", "kim"}, {"password", "Kim!login-88"}}).status, 200);

  // The database never holds the IDN or the code in clear.
  auto db = read_text(fs::path(data_) / "dojang.db");
  std::string wal;
  if (fs::exists(fs::path(data_) / "dojang.db-wal")) wal = read_text(fs::path(data_) / "dojang.db-wal");
  for (const std::string& s : {std::string("8001011234567"), std::string("9002022345678"), code,
                               ticket["authorization_code"].get<std::string>()}) {
    EXPECT_EQ(db.find(s), std::string::npos) << s;
    EXPECT_EQ(wal.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(server->stop(SIGTERM), 0);
}

TEST_F(DojangdTest, BadRequestsGetHttpErrorsAndTheServerKeepsServing) {
  init_and_enrol();
  auto server = serve();
  auto garbage = http_request(port_, "POST", "/api/v1/bank/login", "\x01\x02not json",
                              {{"Content-Type", "application/json"}});
  EXPECT_EQ(garbage.status, 400);
  auto missing = post("/api/v1/bank/login", {{"customer", "hong"}});
  EXPECT_EQ(missing.status, 400);
  auto huge = http_request(port_, "POST", "/api/v1/bank/login", std::string(200000, 'a'));
  EXPECT_EQ(huge.status, 413);
  EXPECT_EQ(http_request(port_, "GET", "/nowhere").status, 404);
  auto ca = http_request(port_, "GET", "/ca.crt");
  ASSERT_EQ(ca.status, 200);
  auto der = tmp_ / "ca.der";
  write_text(der, ca.body);
  EXPECT_EQ(run({"/usr/bin/openssl", "x509", "-inform", "DER", "-in", der.string(), "-noout"}).exit_code, 0);
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200);
}

TEST_F(DojangdTest, ServeRefusesPlainHttpOffLoopback) {
  init_and_enrol();
  auto r = dojangd({"serve", "--data", data_, "--passphrase-file", pass_, "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--tls-cert"), std::string::npos) << r.err;
}

TEST_F(DojangdTest, ServeReadsItsTomlConfigAndFlagsOverrideIt) {
  init_and_enrol();
  // DIR/dojangd.toml is read by default: here it moves the server to a free port.
  write_text(fs::path(data_) / "dojangd.toml", "listen = \"127.0.0.1:0\"\nthreads = 1\n[timeouts]\nconfirm = 60\n");
  {
    Background bg({bin_path("dojangd").string(), "serve", "--data", data_, "--passphrase-file", pass_});
    std::string line = bg.wait_for_line("listening on");
    ASSERT_FALSE(line.empty()) << bg.out();
    EXPECT_EQ(line.find(":8080"), std::string::npos) << line;
    auto port = static_cast<std::uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
    EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200);
    EXPECT_EQ(bg.stop(SIGTERM), 0);
  }
  // A non-loopback listen from the file is refused without TLS, like the flag.
  auto other = tmp_ / "other.toml";
  write_text(other, "listen = \"0.0.0.0:0\"\n");
  auto r = dojangd({"serve", "--data", data_, "--passphrase-file", pass_, "--config", other.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // ... but a --listen flag overrides the file.
  Background bg({bin_path("dojangd").string(), "serve", "--data", data_, "--passphrase-file", pass_, "--config",
                 other.string(), "--listen", "127.0.0.1:0"});
  EXPECT_FALSE(bg.wait_for_line("listening on").empty()) << bg.out();
  EXPECT_EQ(bg.stop(SIGTERM), 0);
}

TEST_F(DojangdTest, ServeRefusesABadConfigWithWhereAndWhy) {
  init_and_enrol();
  auto bad = tmp_ / "bad.toml";
  write_text(bad, "listen = \"127.0.0.1:0\"\ntreads = 2\n");
  auto r = dojangd({"serve", "--data", data_, "--passphrase-file", pass_, "--config", bad.string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("bad.toml:2:1: unknown setting 'treads'"), std::string::npos) << r.err;
  auto missing = dojangd({"serve", "--data", data_, "--passphrase-file", pass_, "--config", (tmp_ / "no.toml").string()});
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("no such configuration file"), std::string::npos) << missing.err;
}

TEST_F(DojangdTest, ServeStopsCleanlyOnASignalSentAsSoonAsItListens) {
  init_and_enrol();
  // The signal may arrive while serve is still starting its threads: it must
  // still stop gracefully (exit 0), never die of the signal's default action.
  for (int i = 0; i < 3; ++i) {
    auto server = serve();
    EXPECT_EQ(server->stop(SIGTERM), 0) << server->out();
  }
}

}  // namespace
}  // namespace dojang::testing
