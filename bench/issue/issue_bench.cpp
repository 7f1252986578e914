// bench/issue: end-to-end CMP issuances per second against the real dojangd.
//
// For each issuing-key type it creates a data directory (`dojangd init
// --issuing-key T`), enrols a customer, starts `dojangd serve` on a free
// loopback port and runs N client threads for S seconds. Each client does what
// the bank and the phone do for one certificate: a teller application through
// the bank's admin REST API (reference number + authorization code), then the
// device's CMP exchange through the wallet library — ir (MAC-protected, popo
// signed with the device key), ip, certConf, pkiConf. An issuance counts once
// its pkiConf is in: the certificate is confirmed in the CA's registry.
//
// Device keys (RSA-2048, as on a phone) are made before the clock starts and
// used round-robin, so key generation is not measured; their popo signatures
// are (the load generator shares the two cores with the server, as wrk does
// for the peers). After the run the registry is checked: every issuance the
// clients counted is confirmed, no serial twice.
//
// Usage: bench_issue [--seconds S] [--clients N] [--key-types rsa3072,rsa2048,ec_p256]
//                    [--dojangd PATH]
// Prints one JSON line per key type: {"bench":"issue","metric":"issuances_per_s_<type>",...}
// without a peer; bench/issue/run.sh adds the peers and the ratios.
#include <curl/curl.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/wallet/cmp_client.hpp"

extern char** environ;

namespace {

using namespace dojang;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::cerr << "bench_issue: " << what << "\n";
  std::exit(5);
}

struct Args {
  double seconds = 10;
  int clients = 8;
  std::vector<std::string> key_types = {"rsa3072", "rsa2048", "ec_p256"};
  std::string dojangd;
};

// Runs argv to completion; returns (exit code, stdout).
std::pair<int, std::string> run(const std::vector<std::string>& argv) {
  int out[2];
  if (::pipe(out) != 0) die("pipe failed");
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  ::posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawn(&pid, a[0], &fa, nullptr, a.data(), environ) != 0) die("cannot run " + argv[0]);
  ::posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// dojangd serve in the background; its first stdout line names the port.
struct Server {
  pid_t pid = -1;
  int port = 0;
  Server(const std::string& dojangd, const fs::path& data, const fs::path& pass) {
    int out[2];
    if (::pipe(out) != 0) die("pipe failed");
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    // The CA's log (one line per issuance) goes to a file, off the terminal.
    const std::string log = (data.parent_path() / "dojangd.log").string();
    ::posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> argv = {dojangd, "serve", "--data", data.string(), "--passphrase-file",
                                     pass.string(), "--listen", "127.0.0.1:0", "--threads", "2"};
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    if (::posix_spawn(&pid, a[0], &fa, nullptr, a.data(), environ) != 0) die("cannot start dojangd");
    ::posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    auto colon = line.rfind(':');
    if (line.find("listening on") == std::string::npos || colon == std::string::npos)
      die("dojangd serve did not start: " + line);
    port = std::stoi(line.substr(colon + 1));
  }
  ~Server() {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
};

std::size_t collect(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

// One teller application through the admin REST API on a kept-alive connection.
class AdminClient {
 public:
  AdminClient(int port, const std::string& token)
      : curl_(::curl_easy_init()),
        url_("http://127.0.0.1:" + std::to_string(port) + "/api/v1/admin/applications") {
    if (curl_ == nullptr) die("curl_easy_init failed");
    headers_ = ::curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = ::curl_slist_append(headers_, ("Authorization: Bearer " + token).c_str());
  }
  ~AdminClient() {
    ::curl_slist_free_all(headers_);
    ::curl_easy_cleanup(curl_);
  }
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  bool application(std::string& ref, SecretString& code) {
    static const char kBody[] = R"({"customer":"bench","purpose":"general"})";
    std::string body;
    ::curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    ::curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    ::curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, kBody);
    ::curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
    ::curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    ::curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    if (::curl_easy_perform(curl_) != CURLE_OK) return false;
    ::curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status != 201) return false;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return false;
    ref = j.value("reference", "");
    code = SecretString(j.value("authorization_code", ""));
    return !ref.empty();
  }

 private:
  CURL* curl_;
  curl_slist* headers_ = nullptr;
  std::string url_;
};

struct RunResult {
  std::uint64_t issued = 0;
  std::uint64_t failed = 0;
  double seconds = 0;
  std::set<std::string> serials;
  std::string first_error;
};

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

RunResult bench_key_type(const Args& args, const std::string& key_type,
                         const std::vector<pki::PrivateKey>& device_keys) {
  fs::path dir = fs::temp_directory_path() / ("dojang-bench-issue-" + std::to_string(::getpid()) + "-" + key_type);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path pass = dir / "pass", idn = dir / "idn", lpw = dir / "lpw", data = dir / "data";
  write_file(pass, "bench operator passphrase\n");
  write_file(idn, "800101-1234567\n");
  write_file(lpw, "Bench!login-77\n");
  auto init = run({args.dojangd, "init", "--data", data.string(), "--passphrase-file", pass.string(),
                   "--issuing-key", key_type});
  if (init.first != 0) die("dojangd init --issuing-key " + key_type + " failed");
  std::smatch m;
  if (!std::regex_search(init.second, m, std::regex("admin API token: +([0-9a-f]{64})")))
    die("no admin token in dojangd init's output");
  const std::string token = m[1].str();
  auto enrol = run({args.dojangd, "bank", "enrol", "--data", data.string(), "--passphrase-file", pass.string(),
                    "--customer", "bench", "--name", "홍길동", "--idn-file", idn.string(), "--phone",
                    "010-1234-5678", "--password-file", lpw.string()});
  if (enrol.first != 0) die("dojangd bank enrol failed");

  std::ifstream root_in(data / "root.pem", std::ios::binary);
  Bytes root_pem((std::istreambuf_iterator<char>(root_in)), std::istreambuf_iterator<char>());
  auto root = pki::Certificate::from_pem(root_pem);
  if (!root.ok()) die("cannot read root.pem: " + root.error().message);

  RunResult result;
  {
    Server server(args.dojangd, data, pass);
    wallet::CmpEndpoint endpoint;
    endpoint.url = "http://127.0.0.1:" + std::to_string(server.port) + "/pkix/";
    endpoint.trusted.push_back(*root);

    std::mutex mu;
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> next_key{0};
    auto client = [&] {
      AdminClient admin(server.port, token);
      std::vector<std::string> serials;
      std::uint64_t issued = 0, failed = 0;
      std::string error;
      while (!stop.load(std::memory_order_relaxed)) {
        std::string ref;
        SecretString code;
        if (!admin.application(ref, code)) {
          ++failed;
          if (error.empty()) error = "admin application failed";
          continue;
        }
        const auto& key = device_keys[next_key.fetch_add(1) % device_keys.size()];
        auto cert = wallet::request_ir(endpoint, ref, code, key, std::nullopt);
        if (stop.load(std::memory_order_relaxed)) break;  // finished after the bell: not counted
        if (!cert.ok()) {
          ++failed;
          if (error.empty()) error = cert.error().message;
          continue;
        }
        auto info = cert->cert.info();
        if (!info.ok()) {
          ++failed;
          continue;
        }
        ++issued;
        serials.push_back(info->serial_hex);
      }
      std::lock_guard lock(mu);
      result.issued += issued;
      result.failed += failed;
      for (auto& s : serials) result.serials.insert(std::move(s));
      if (result.first_error.empty()) result.first_error = error;
    };
    auto t0 = Steady::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < args.clients; ++i) threads.emplace_back(client);
    std::this_thread::sleep_for(std::chrono::duration<double>(args.seconds));
    stop = true;
    result.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
    for (auto& t : threads) t.join();
  }
  // The registry agrees with the clients: every counted issuance is a distinct confirmed row.
  auto rows = run({"/usr/bin/sqlite3", (data / "dojang.db").string(),
                   "SELECT COUNT(*) FROM ca_certificates WHERE status = 'confirmed';"});
  std::uint64_t confirmed = rows.first == 0 ? std::stoull("0" + rows.second) : 0;
  if (result.serials.size() != result.issued) die("duplicate serials among the issued certificates");
  if (confirmed < result.issued)
    die("the registry holds " + std::to_string(confirmed) + " confirmed certificates, the clients counted " +
        std::to_string(result.issued));
  fs::remove_all(dir);
  return result;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.dojangd = (fs::canonical("/proc/self/exe").parent_path() / "dojangd").string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--seconds") args.seconds = std::stod(value());
    else if (a == "--clients") args.clients = std::stoi(value());
    else if (a == "--key-types") args.key_types = split(value());
    else if (a == "--dojangd") args.dojangd = value();
    else {
      std::cerr << "usage: bench_issue [--seconds S] [--clients N] [--key-types T,...] [--dojangd PATH]\n";
      return 2;
    }
  }
  ::curl_global_init(CURL_GLOBAL_DEFAULT);

  // Device keys, made before any clock starts.
  std::vector<pki::PrivateKey> keys;
  for (int i = 0; i < 64; ++i) {
    auto k = pki::PrivateKey::generate_rsa(2048);
    if (!k.ok()) die("RSA key generation failed: " + k.error().message);
    keys.push_back(std::move(*k));
  }

  for (const auto& kt : args.key_types) {
    RunResult r = bench_key_type(args, kt, keys);
    double rate = r.seconds > 0 ? static_cast<double>(r.issued) / r.seconds : 0;
    nlohmann::ordered_json line = {{"bench", "issue"},
                                   {"metric", "issuances_per_s_" + kt},
                                   {"unit", "issuances/s"},
                                   {"value", std::round(rate * 10) / 10},
                                   {"clients", args.clients},
                                   {"seconds", std::round(r.seconds * 10) / 10},
                                   {"issued", r.issued},
                                   {"failed", r.failed}};
    if (!r.first_error.empty()) line["first_error"] = r.first_error;
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  ::curl_global_cleanup();
  return 0;
}
