// bench/issue: end-to-end CMP issuances per second against the real dojangd.
//
// For each issuing-key type it creates a data directory (`dojangd init
// --issuing-key T`), enrols a customer, starts `dojangd serve` on a free
// loopback port and runs N client threads for S seconds. An issuance counts
// once its pkiConf is in: the certificate is confirmed in the CA's registry.
// Device keys (RSA-2048, as on a phone) are made before any clock starts and
// used round-robin. After the run the registry is checked: every issuance the
// clients counted is confirmed, no serial twice.
//
// --client light (the default) measures the server: the CMP exchange
// ir -> ip -> certConf -> pkiConf, from pre-built irs, as wrk does for the
// peers with a pre-made CSR. Before the clock ("prepare"), a pool of teller
// applications is made through the admin REST API, and for each one the
// complete ir (MAC-protected, popo signed by a device key) is built by
// OpenSSL as the wallet builds it. On the clock each client POSTs the next
// ir on a kept-alive connection, reads the ip with small ASN.1 templates
// (status, certReqId, the certificate's DER, transactionID, senderNonce;
// no OpenSSL CMP or certificate decoding), and POSTs a certConf it writes
// itself (certHash; PBM MAC with the ir's parameters, OpenSSL 3.0's defaults)
// until the pkiConf. Outside the clock: the application, the popo signature
// and the ir's MAC; never done: the client's verification of the ip (its
// MAC, the certificate's chain and key). The pool holds ceil(S * 1200) irs
// for an RSA-3072 CA and ceil(S * 2500) for the others unless --pool says
// otherwise; if it runs out first the run ends early and the rate is issued /
// elapsed ("pool_exhausted": true).
//
// --client wallet measures everything one issuance costs the bank and the
// phone together: on the clock, each client makes a teller application
// through the admin REST API, then runs the wallet library's full CMP client
// (wallet::request_ir: OpenSSL's OSSL_CMP_exec_certreq, popo signature, MAC,
// verification of the ip and of the certificate's chain). That client costs
// about as much CPU as the server and shares its cores.
//
// Both modes report client_cpu_ms_per_issuance: this process's CPU time (all
// client threads) over the timed phase, per counted issuance; and
// server_cpu_ms_per_issuance: dojangd's user + system time (from /proc) over
// the same phase, per counted issuance, a steadier figure than the rate on a
// box whose speed varies from run to run.
//
// Usage: bench_issue [--seconds S] [--clients N] [--key-types rsa3072,rsa2048,ec_p256]
//                    [--client light|wallet] [--pool N] [--handler-threads N]
//                    [--dojangd PATH]
// Prints one JSON line per key type: {"bench":"issue","metric":"issuances_per_s_<type>",
// ..., "client": "light"|"wallet", ...} without a peer; bench/issue/run.sh adds
// the peers and the ratios.
#include <curl/curl.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/wallet/cmp_client.hpp"
#include "light_cmp.hpp"

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
  std::string client = "light";     // or "wallet"
  std::optional<std::size_t> pool;  // light: prepared irs per key type
  std::string dojangd;
  int handler_threads = 0;  // 0: dojangd's default
  pid_t server_pid = -1;    // set once dojangd runs, for its CPU time
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
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

// dojangd serve in the background; its first stdout line names the port.
struct Server {
  pid_t pid = -1;
  int port = 0;
  Server(const std::string& dojangd, const fs::path& data, const fs::path& pass,
         int handler_threads) {
    int out[2];
    if (::pipe(out) != 0) die("pipe failed");
    posix_spawn_file_actions_t fa;
    ::posix_spawn_file_actions_init(&fa);
    ::posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    // The CA's log (one line per issuance) goes to a file, off the terminal.
    const std::string log = (data.parent_path() / "dojangd.log").string();
    ::posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::posix_spawn_file_actions_addclose(&fa, out[0]);
    std::vector<std::string> argv = {
        dojangd,       "serve",    "--data",      data.string(), "--passphrase-file",
        pass.string(), "--listen", "127.0.0.1:0", "--threads",   "2"};
    if (handler_threads > 0) {
      argv.push_back("--handler-threads");
      argv.push_back(std::to_string(handler_threads));
    }
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    if (::posix_spawn(&pid, a[0], &fa, nullptr, a.data(), environ) != 0)
      die("cannot start dojangd");
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

// libcurl handles, each with its deleter.
struct CurlFree {
  void operator()(CURL* c) const noexcept { ::curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const noexcept { ::curl_slist_free_all(l); }
};
using CurlPtr = std::unique_ptr<CURL, CurlFree>;
using CurlList = std::unique_ptr<curl_slist, CurlFree>;

CurlList header_list(const std::vector<std::string>& lines) {
  curl_slist* list = nullptr;
  for (const auto& line : lines) {
    curl_slist* longer = ::curl_slist_append(list, line.c_str());
    if (longer == nullptr) {
      ::curl_slist_free_all(list);
      die("curl_slist_append failed");
    }
    list = longer;
  }
  return CurlList(list);
}

std::size_t collect(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

// One teller application through the admin REST API on a kept-alive connection.
class AdminClient {
 public:
  AdminClient(int port, const std::string& token)
      : curl_(::curl_easy_init()),
        headers_(header_list({"Content-Type: application/json", "Authorization: Bearer " + token})),
        url_("http://127.0.0.1:" + std::to_string(port) + "/api/v1/admin/applications") {
    if (!curl_) die("curl_easy_init failed");
  }

  bool application(std::string& ref, SecretString& code) {
    static const char kBody[] = R"({"customer":"bench","purpose":"general"})";
    std::string body;
    CURL* c = curl_.get();
    ::curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
    ::curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_.get());
    ::curl_easy_setopt(c, CURLOPT_POSTFIELDS, kBody);
    ::curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    ::curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    ::curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    if (::curl_easy_perform(c) != CURLE_OK) return false;
    ::curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 201) return false;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return false;
    ref = j.value("reference", "");
    code = SecretString(j.value("authorization_code", ""));
    return !ref.empty();
  }

 private:
  CurlPtr curl_;
  CurlList headers_;
  std::string url_;
};

// RFC 6712: DER PKIMessages POSTed as application/pkixcmp on one kept-alive connection.
class CmpHttp {
 public:
  explicit CmpHttp(const std::string& url)
      : curl_(::curl_easy_init()),
        // "Expect:" off: no 100-continue round trip before a body.
        headers_(header_list({"Content-Type: application/pkixcmp", "Expect:"})) {
    if (!curl_) die("curl_easy_init failed");
    CURL* c = curl_.get();
    ::curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    ::curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers_.get());
    ::curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    ::curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer_);
    ::curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    ::curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  }

  // The answer's body; io for a transport failure or an HTTP status other than 200.
  Result<Bytes> post(ByteView der) {
    CURL* c = curl_.get();
    answer_.clear();
    ::curl_easy_setopt(c, CURLOPT_POSTFIELDS, der.data());
    ::curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(der.size()));
    CURLcode rc = ::curl_easy_perform(c);
    if (rc != CURLE_OK) return Error{Errc::io, std::string("HTTP: ") + ::curl_easy_strerror(rc)};
    long status = 0;
    ::curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
      return Error{Errc::io,
                   "HTTP " + std::to_string(status) + ": " + answer_.substr(0, answer_.find('\n'))};
    return Bytes(answer_.begin(), answer_.end());
  }

 private:
  CurlPtr curl_;
  CurlList headers_;
  std::string answer_;
};

struct RunResult {
  std::uint64_t issued = 0;
  std::uint64_t failed = 0;
  double seconds = 0;
  std::set<std::string> serials;
  std::string first_error;
  // light
  std::size_t prepared = 0;
  double prepare_seconds = 0;
  bool pool_exhausted = false;
  // CPU time of this process (the clients) and of dojangd from the start to the bell.
  double client_cpu_seconds = 0;
  double server_cpu_seconds = 0;
};

double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// utime + stime of another process, from /proc/PID/stat; 0 if unreadable.
double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(f);
    if (i == 15) {
      stime = std::stod(f);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// What a client thread hands back when it stops.
struct ClientTally {
  std::uint64_t issued = 0, failed = 0;
  std::vector<std::string> serials;
  std::string error;

  void fail(std::string text) {
    ++failed;
    if (error.empty()) error = std::move(text);
  }
};

// Runs `clients` threads of body(stop, tally) until they all return or
// `seconds` have passed, whichever comes first; sets result.seconds and
// result.client_cpu_seconds to the wall and process CPU time until then and
// merges the tallies into result.
template <class Body>
void run_clients(const Args& args, RunResult& result, Body body) {
  std::mutex mu;
  std::condition_variable all_done;
  int running = args.clients;
  std::atomic<bool> stop{false};
  auto client = [&] {
    ClientTally tally;
    body(stop, tally);
    std::lock_guard lock(mu);
    result.issued += tally.issued;
    result.failed += tally.failed;
    for (auto& s : tally.serials) result.serials.insert(std::move(s));
    if (result.first_error.empty()) result.first_error = tally.error;
    if (--running == 0) all_done.notify_all();
  };
  const double cpu0 = process_cpu_seconds();
  const double server_cpu0 = process_cpu_seconds(args.server_pid);
  auto t0 = Steady::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < args.clients; ++i) threads.emplace_back(client);
  {
    std::unique_lock lock(mu);
    all_done.wait_for(lock, std::chrono::duration<double>(args.seconds),
                      [&] { return running == 0; });
  }
  stop = true;
  result.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  result.client_cpu_seconds = process_cpu_seconds() - cpu0;
  result.server_cpu_seconds = process_cpu_seconds(args.server_pid) - server_cpu0;
  for (auto& t : threads) t.join();
}

// --client wallet: on the clock, a teller application and the wallet's whole CMP client.
RunResult run_wallet(const Args& args, int port, const std::string& token,
                     const pki::Certificate& root,
                     const std::vector<pki::PrivateKey>& device_keys) {
  wallet::CmpEndpoint endpoint;
  endpoint.url = "http://127.0.0.1:" + std::to_string(port) + "/pkix/";
  endpoint.trusted.push_back(root);
  std::atomic<std::uint64_t> next_key{0};
  RunResult result;
  run_clients(args, result, [&](const std::atomic<bool>& stop, ClientTally& tally) {
    AdminClient admin(port, token);
    while (!stop.load(std::memory_order_relaxed)) {
      std::string ref;
      SecretString code;
      if (!admin.application(ref, code)) {
        tally.fail("admin application failed");
        continue;
      }
      const auto& key = device_keys[next_key.fetch_add(1) % device_keys.size()];
      auto cert = wallet::request_ir(endpoint, ref, code, key, std::nullopt);
      if (stop.load(std::memory_order_relaxed)) break;  // finished after the bell: not counted
      if (!cert.ok()) {
        tally.fail(cert.error().message);
        continue;
      }
      auto info = cert->cert.info();
      if (!info.ok()) {
        tally.fail(info.error().message);
        continue;
      }
      ++tally.issued;
      tally.serials.push_back(info->serial_hex);
    }
  });
  return result;
}

// --client light, before the clock: `count` applications and their irs, on a few threads.
std::vector<bench::PreparedIr> prepare(std::size_t count, int port, const std::string& token,
                                       const std::string& url,
                                       const std::vector<pki::PrivateKey>& device_keys) {
  std::vector<bench::PreparedIr> items(count);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::string error;
  auto worker = [&] {
    AdminClient admin(port, token);
    for (std::size_t i; !failed && (i = next.fetch_add(1)) < count;) {
      std::string ref;
      SecretString code;
      if (!admin.application(ref, code)) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) error = "admin application failed";
        return;
      }
      auto ir = bench::prepare_ir(url, std::move(ref), std::move(code),
                                  device_keys[i % device_keys.size()]);
      if (!ir.ok()) {
        std::lock_guard lock(mu);
        if (!failed.exchange(true)) error = ir.error().message;
        return;
      }
      items[i] = std::move(ir).value();
    }
  };
  const unsigned n = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failed) die("preparing the irs: " + error);
  return items;
}

// One light issuance: ir -> ip -> certConf -> pkiConf; the certificate's serial.
Result<std::string> issue_light(CmpHttp& http, const bench::PreparedIr& item) {
  DOJANG_ASSIGN(Bytes ip_der, http.post(item.ir));
  DOJANG_ASSIGN(bench::IpFields ip, bench::read_ip(ip_der));
  if (ip.transaction_id != item.transaction_id)
    return Error{Errc::invalid_input, "ip for another transactionID"};
  DOJANG_ASSIGN(bench::CertFacts cert, bench::read_certificate(ip.cert));
  DOJANG_ASSIGN(Bytes cert_conf, bench::make_cert_conf(item, ip, cert.cert_hash));
  DOJANG_ASSIGN(Bytes conf_der, http.post(cert_conf));
  DOJANG_TRY(bench::read_pki_conf(conf_der));
  return cert.serial_hex;
}

// --client light: prepare the pool, then on the clock only the CMP exchange.
RunResult run_light(const Args& args, const std::string& key_type, int port,
                    const std::string& token, const std::vector<pki::PrivateKey>& device_keys) {
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/pkix/";
  // More irs than the key type can issue on two cores: an RSA-3072 CA signs
  // about 1,000 times a second there; the others are not bound by signing.
  const double per_second = key_type == "rsa3072" ? 1200 : 2500;
  const std::size_t count =
      args.pool ? *args.pool : static_cast<std::size_t>(std::ceil(args.seconds * per_second));
  auto p0 = Steady::now();
  const std::vector<bench::PreparedIr> items = prepare(count, port, token, url, device_keys);
  RunResult result;
  result.prepared = items.size();
  result.prepare_seconds = std::chrono::duration<double>(Steady::now() - p0).count();
  std::fprintf(stderr, "bench_issue: %s: prepared %zu applications and irs in %.1f s\n",
               key_type.c_str(), items.size(), result.prepare_seconds);

  std::atomic<std::size_t> next{0};
  std::atomic<bool> exhausted{false};
  run_clients(args, result, [&](const std::atomic<bool>& stop, ClientTally& tally) {
    CmpHttp http(url);
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1);
      if (i >= items.size()) {
        exhausted = true;
        break;
      }
      auto serial = issue_light(http, items[i]);
      if (stop.load(std::memory_order_relaxed)) break;  // finished after the bell: not counted
      if (!serial.ok()) {
        tally.fail(serial.error().message);
        continue;
      }
      ++tally.issued;
      tally.serials.push_back(std::move(serial).value());
    }
  });
  result.pool_exhausted = exhausted;
  return result;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

RunResult bench_key_type(const Args& args, const std::string& key_type,
                         const std::vector<pki::PrivateKey>& device_keys) {
  fs::path dir = fs::temp_directory_path() /
                 ("dojang-bench-issue-" + std::to_string(::getpid()) + "-" + key_type);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path pass = dir / "pass", idn = dir / "idn", lpw = dir / "lpw", data = dir / "data";
  write_file(pass, "bench operator passphrase\n");
  write_file(idn, "800101-1234567\n");
  write_file(lpw, "Bench!login-77\n");
  auto init = run({args.dojangd, "init", "--data", data.string(), "--passphrase-file",
                   pass.string(), "--issuing-key", key_type});
  if (init.first != 0) die("dojangd init --issuing-key " + key_type + " failed");
  std::smatch m;
  if (!std::regex_search(init.second, m, std::regex("admin API token: +([0-9a-f]{64})")))
    die("no admin token in dojangd init's output");
  const std::string token = m[1].str();
  auto enrol = run({args.dojangd, "bank", "enrol", "--data", data.string(), "--passphrase-file",
                    pass.string(), "--customer", "bench", "--name", "홍길동", "--idn-file",
                    idn.string(), "--phone", "010-1234-5678", "--password-file", lpw.string()});
  if (enrol.first != 0) die("dojangd bank enrol failed");

  std::ifstream root_in(data / "root.pem", std::ios::binary);
  Bytes root_pem((std::istreambuf_iterator<char>(root_in)), std::istreambuf_iterator<char>());
  auto root = pki::Certificate::from_pem(root_pem);
  if (!root.ok()) die("cannot read root.pem: " + root.error().message);

  RunResult result;
  {
    Server server(args.dojangd, data, pass, args.handler_threads);
    Args with_pid = args;
    with_pid.server_pid = server.pid;
    result = args.client == "light"
                 ? run_light(with_pid, key_type, server.port, token, device_keys)
                 : run_wallet(with_pid, server.port, token, *root, device_keys);
  }
  // The registry agrees with the clients: every counted issuance is a distinct confirmed row.
  auto rows = run({"/usr/bin/sqlite3", (data / "dojang.db").string(),
                   "SELECT COUNT(*) FROM ca_certificates WHERE status = 'confirmed';"});
  std::uint64_t confirmed = rows.first == 0 ? std::stoull("0" + rows.second) : 0;
  if (result.serials.size() != result.issued)
    die("duplicate serials among the issued certificates");
  if (confirmed < result.issued)
    die("the registry holds " + std::to_string(confirmed) +
        " confirmed certificates, the clients counted " + std::to_string(result.issued));
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
  static const char kUsage[] =
      "usage: bench_issue [--seconds S] [--clients N] [--key-types T,...] [--client light|wallet]\n"
      "                   [--pool N] [--handler-threads N] [--dojangd PATH]\n";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--seconds")
      args.seconds = std::stod(value());
    else if (a == "--clients")
      args.clients = std::stoi(value());
    else if (a == "--key-types")
      args.key_types = split(value());
    else if (a == "--client")
      args.client = value();
    else if (a == "--pool")
      args.pool = std::stoull(value());
    else if (a == "--handler-threads")
      args.handler_threads = std::stoi(value());
    else if (a == "--dojangd")
      args.dojangd = value();
    else {
      std::cerr << kUsage;
      return 2;
    }
  }
  if ((args.client != "light" && args.client != "wallet") || args.clients < 1 ||
      args.seconds <= 0 || args.handler_threads < 0 || (args.pool && *args.pool == 0)) {
    std::cerr << kUsage;
    return 2;
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
    nlohmann::ordered_json line = {
        {"bench", "issue"},
        {"metric", "issuances_per_s_" + kt},
        {"unit", "issuances/s"},
        {"value", std::round(rate * 10) / 10},
        {"client", args.client},
        {"clients", args.clients},
        {"seconds", std::round(r.seconds * 10) / 10},
        {"issued", r.issued},
        {"failed", r.failed},
        {"client_cpu_ms_per_issuance",
         r.issued > 0 ? std::round(r.client_cpu_seconds * 1e5 / r.issued) / 100 : 0.0},
        {"server_cpu_ms_per_issuance",
         r.issued > 0 ? std::round(r.server_cpu_seconds * 1e5 / r.issued) / 100 : 0.0}};
    if (args.client == "light") {
      line["prepared"] = r.prepared;
      line["prepare_seconds"] = std::round(r.prepare_seconds * 10) / 10;
      line["pool_exhausted"] = r.pool_exhausted;
    }
    if (!r.first_error.empty()) line["first_error"] = r.first_error;
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  ::curl_global_cleanup();
  return 0;
}
