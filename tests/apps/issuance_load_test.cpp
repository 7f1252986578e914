// Issuance under load and under a crash: the real `dojangd serve` on a free
// loopback port, many stock `openssl cmp` clients at once (each an
// independent CMP implementation: ir, then certConf, exits 0 only after the
// CA's pkiConf), and `kill -9` in the middle of a burst.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "dojangd_helpers.hpp"

namespace dojang::testing {
namespace {

struct Ticket {
  std::string ref, code;
};

struct Outcome {
  int exit_code = -1;
  std::string serial;  // upper-case hex as `openssl x509 -serial` prints it; empty on failure
  std::string log;
};

class IssuanceLoadTest : public DojangdFixture {
 protected:
  void SetUp() override {
    write_text(tmp_ / "empty.cnf", "");
    admin_ = init("rsa2048");
    enrol_hong();
  }
  // n teller applications through the admin REST API.
  std::vector<Ticket> applications(int n) {
    std::vector<Ticket> out;
    for (int i = 0; i < n; ++i) {
      auto r = http_request(port_, "POST", "/api/v1/admin/applications",
                            R"({"customer":"hong","purpose":"general"})",
                            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + admin_}});
      EXPECT_EQ(r.status, 201) << r.body;
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_discarded()) return out;
      out.push_back({j.value("reference", ""), j.value("authorization_code", "")});
    }
    return out;
  }
  // One RSA-2048 key per client, made by openssl.
  std::vector<std::string> keys(int n) {
    std::vector<std::string> out(static_cast<std::size_t>(n));
    parallel(n, [&](int i) {
      out[static_cast<std::size_t>(i)] = (tmp_ / ("k" + std::to_string(i) + ".pem")).string();
      run({"/usr/bin/openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
           out[static_cast<std::size_t>(i)]});
    });
    return out;
  }
  // `openssl cmp -cmd ir` for ticket t with key k; on success the serial of the certificate.
  // A client that cannot connect keeps retrying for msg_timeout seconds.
  Outcome issue(const Ticket& t, const std::string& key, int i, int msg_timeout = 20) {
    auto cert = (tmp_ / ("c" + std::to_string(i) + ".pem")).string();
    auto r = run({"/usr/bin/openssl", "cmp", "-config", (tmp_ / "empty.cnf").string(), "-server",
                  "127.0.0.1:" + std::to_string(port_) + "/pkix/", "-cmd", "ir", "-ref", t.ref, "-secret",
                  "pass:" + t.code, "-newkey", key, "-subject", "/CN=x", "-trusted", data_ + "/root.pem",
                  "-certout", cert, "-msg_timeout", std::to_string(msg_timeout), "-total_timeout",
                  std::to_string(2 * msg_timeout)},
                 {}, {}, 60);
    Outcome o{r.exit_code, {}, r.out + r.err};
    if (r.exit_code == 0) {
      auto s = run({"/usr/bin/openssl", "x509", "-in", cert, "-noout", "-serial"});
      std::smatch m;
      if (std::regex_search(s.out, m, std::regex("serial=([0-9A-F]+)"))) o.serial = m[1].str();
    }
    return o;
  }
  // Runs f(0..n-1) on as many threads.
  template <class F>
  static void parallel(int n, F f) {
    std::vector<std::thread> ts;
    for (int i = 0; i < n; ++i) ts.emplace_back([&f, i] { f(i); });
    for (auto& t : ts) t.join();
  }
  // Rows of the CA's registry, read by the sqlite3 CLI (a second reader of the same file):
  // serial (lower-case hex) -> status.
  std::map<std::string, std::string> registry() {
    auto r = run({"/usr/bin/sqlite3", data_ + "/dojang.db", "SELECT serial || '|' || status FROM ca_certificates;"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::string> rows;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      auto bar = line.find('|');
      if (bar != std::string::npos) rows[line.substr(0, bar)] = line.substr(bar + 1);
    }
    return rows;
  }
  std::string sql(const std::string& query) {
    auto r = run({"/usr/bin/sqlite3", data_ + "/dojang.db", query});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  std::string admin_;
};

TEST_F(IssuanceLoadTest, FiftyConcurrentIssuancesAllConfirmedWithUniqueSerials) {
  constexpr int kClients = 50;
  auto server = serve();
  auto tickets = applications(kClients);
  ASSERT_EQ(tickets.size(), static_cast<std::size_t>(kClients));
  auto ks = keys(kClients);

  std::vector<Outcome> outcomes(kClients);
  parallel(kClients, [&](int i) {
    outcomes[static_cast<std::size_t>(i)] = issue(tickets[static_cast<std::size_t>(i)], ks[static_cast<std::size_t>(i)], i);
  });

  std::set<std::string> serials;
  for (const auto& o : outcomes) {
    EXPECT_EQ(o.exit_code, 0) << o.log;
    EXPECT_FALSE(o.serial.empty()) << o.log;
    serials.insert(lower(o.serial));
  }
  EXPECT_EQ(serials.size(), static_cast<std::size_t>(kClients)) << "duplicate serials";
  EXPECT_EQ(server->stop(SIGTERM), 0);

  // The database agrees: exactly these serials, all confirmed, and an intact file.
  auto rows = registry();
  EXPECT_EQ(rows.size(), static_cast<std::size_t>(kClients));
  for (const auto& s : serials) EXPECT_EQ(rows[s], "confirmed") << s;
  EXPECT_EQ(sql("PRAGMA integrity_check;"), "ok\n");
  // Every application was used exactly once.
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT application_ref) FROM ca_certificates;"), std::to_string(kClients) + "\n");
}

TEST_F(IssuanceLoadTest, KillDashNineDuringABurstLosesNoConfirmedCertificate) {
  constexpr int kClients = 40;
  auto server = serve();
  const std::uint16_t port = port_;
  auto tickets = applications(kClients);
  ASSERT_EQ(tickets.size(), static_cast<std::size_t>(kClients));
  auto ks = keys(kClients);

  std::vector<Outcome> outcomes(kClients);
  std::atomic<int> done{0};
  // The clients start 100 ms apart, a steady stream of about four seconds: when the kill comes
  // (three clients done) some are through, some are half-way and some have not started. Started all
  // at once, a fast build would finish the whole burst before the kill could land.
  std::thread burst([&] {
    parallel(kClients, [&](int i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100) * i);
      // Cut-off clients retry the dead port until their 10 s message timeout.
      outcomes[static_cast<std::size_t>(i)] =
          issue(tickets[static_cast<std::size_t>(i)], ks[static_cast<std::size_t>(i)], i, 10);
      done.fetch_add(1);
    });
  });
  // Kill the CA once some clients are through and others are still in flight.
  for (int waited = 0; done.load() < 3 && waited < 600; ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(server->stop(SIGKILL), -1);
  burst.join();

  int confirmed_by_clients = 0;
  for (const auto& o : outcomes) confirmed_by_clients += o.exit_code == 0 ? 1 : 0;
  EXPECT_GE(confirmed_by_clients, 3);
  // The kill landed in the middle of the burst: some clients were cut off.
  EXPECT_LT(confirmed_by_clients, kClients);

  // Restart on the same data: every certificate a client got confirmed (pkiConf) is confirmed.
  server = serve(port);
  auto rows = registry();
  std::set<std::string> seen;
  for (const auto& o : outcomes) {
    if (o.exit_code != 0) continue;
    ASSERT_FALSE(o.serial.empty()) << o.log;
    EXPECT_EQ(rows[lower(o.serial)], "confirmed") << o.serial;
    EXPECT_TRUE(seen.insert(lower(o.serial)).second) << "duplicate serial " << o.serial;
  }
  EXPECT_EQ(sql("PRAGMA integrity_check;"), "ok\n");
  // Serials are the primary key: no duplicate can exist, and none is shared by two applications.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM (SELECT application_ref FROM ca_certificates GROUP BY application_ref "
                "HAVING COUNT(*) > 1);"),
            "0\n");

  // The restarted CA goes on issuing: the clients cut off by the crash can use fresh applications.
  auto more = applications(2);
  ASSERT_EQ(more.size(), 2u);
  auto after = issue(more[0], ks[0], 100);
  EXPECT_EQ(after.exit_code, 0) << after.log;
  EXPECT_EQ(registry()[lower(after.serial)], "confirmed");
  EXPECT_EQ(server->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace dojang::testing
