#include "testing/testing.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pty.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace dojang::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/dojang-test.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

fs::path data_path(const std::string& rel) { return fs::path(DOJANG_TEST_DATA) / rel; }
fs::path bin_path(const std::string& name) { return fs::path(DOJANG_BIN_DIR) / name; }

fs::path build_cache(const std::string& key, const std::function<bool(const fs::path&)>& make) {
  const fs::path cache = fs::path(DOJANG_BIN_DIR).parent_path() / "test-cache";
  const fs::path dir = cache / key;
  if (fs::exists(dir)) return dir;
  const fs::path aside = cache / (key + ".tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove_all(aside, ec);
  fs::create_directories(aside);
  if (!make(aside)) {
    fs::remove_all(aside, ec);
    return {};
  }
  fs::rename(aside, dir, ec);
  if (ec) fs::remove_all(aside, ec);  // another process was first: use its folder
  return dir;
}

std::string init_dojangd(const fs::path& data, const fs::path& pass_file, const std::string& issuing_key) {
  const fs::path dojangd = bin_path("dojangd");
  const auto stamp = fs::last_write_time(dojangd).time_since_epoch().count();
  const std::string passphrase = read_text(pass_file);
  const std::string key = "dojangd-init-" + issuing_key + "-" + std::to_string(stamp) + "-" +
                          std::to_string(std::hash<std::string>{}(passphrase));
  const fs::path dir = build_cache(key, [&](const fs::path& aside) {
    auto r = run({dojangd.string(), "init", "--data", (aside / "data").string(), "--passphrase-file",
                  pass_file.string(), "--issuing-key", issuing_key});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    bool found = std::regex_search(r.out, m, std::regex("admin API token: +([0-9a-f]{64})"));
    EXPECT_TRUE(found) << r.out;
    if (r.exit_code != 0 || !found) return false;
    write_text(aside / "admin-token", m[1].str());
    return true;
  });
  if (dir.empty()) return {};
  std::error_code ec;
  fs::copy(dir / "data", data, fs::copy_options::recursive, ec);
  EXPECT_FALSE(ec) << "copying the cached data directory: " << ec.message();
  return ec ? std::string() : read_text(dir / "admin-token");
}

std::vector<std::uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_text(const fs::path& p) {
  auto b = read_bytes(p);
  return {b.begin(), b.end()};
}

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& data) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

void write_text(const fs::path& p, const std::string& text) {
  write_bytes(p, std::vector<std::uint8_t>(text.begin(), text.end()));
}

std::map<std::string, std::string> read_expected(const fs::path& p) {
  std::map<std::string, std::string> m;
  std::istringstream in(read_text(p));
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos || line.starts_with('#')) continue;
    m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

std::string to_hex(const std::vector<std::uint8_t>& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (auto c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data,
              const std::vector<std::string>& env, int timeout_seconds) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe(in_pipe) != 0 || ::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0)
    throw std::runtime_error("pipe failed");
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  for (const auto& kv : env) {
    auto name = kv.substr(0, kv.find('=') + 1);
    std::erase_if(envs, [&](const std::string& s) { return s.starts_with(name); });
    envs.push_back(kv);
  }
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setsid();  // no controlling terminal: prompts must not hang the test
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      ::close(fd);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  if (stdin_data.empty()) {
    ::close(in_pipe[1]);
    in_pipe[1] = -1;
  }
  ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  RunResult r;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
    if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
    if (in_pipe[1] >= 0) fds.push_back({in_pipe[1], POLLOUT, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    for (auto& f : fds) {
      if (f.revents == 0) continue;
      if (f.fd == in_pipe[1]) {
        ssize_t n = ::write(in_pipe[1], stdin_data.data() + written, stdin_data.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 || written == stdin_data.size()) {
          ::close(in_pipe[1]);
          in_pipe[1] = -1;
        }
        continue;
      }
      char buf[4096];
      ssize_t n = ::read(f.fd, buf, sizeof buf);
      std::string& dst = f.fd == out_pipe[0] ? r.out : r.err;
      if (n > 0) {
        dst.append(buf, static_cast<size_t>(n));
      } else {
        (f.fd == out_pipe[0] ? out_open : err_open) = false;
      }
    }
  }
  if (in_pipe[1] >= 0) ::close(in_pipe[1]);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

RunResult run_in_pty(const std::vector<std::string>& argv, const std::vector<std::string>& answers,
                     int timeout_seconds) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) throw std::runtime_error("forkpty failed");
  if (pid == 0) {
    ::execv(cargv[0], cargv.data());
    ::_exit(127);
  }
  RunResult r;
  size_t next = 0;
  size_t answered_at = 0;  // transcript length when the last answer was typed
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{master, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(std::min<long>(left.count(), 200))) > 0) {
      char buf[4096];
      ssize_t n = ::read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO once the child has closed the terminal
      r.out.append(buf, static_cast<size_t>(n));
    }
    if (next < answers.size() && r.out.size() > answered_at && r.out.ends_with(": ")) {
      std::string line = answers[next++] + "\n";
      if (::write(master, line.data(), line.size()) < 0) break;
      answered_at = r.out.size();
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Background::Background(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  for (const auto& kv : env) envs.push_back(kv);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::setsid();
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  out_fd_ = pipefd[0];
}

Background::~Background() {
  if (!exited_) stop(SIGTERM, 5);
  if (out_fd_ >= 0) ::close(out_fd_);
}

void Background::pump(int timeout_ms) {
  if (out_fd_ < 0) return;
  pollfd p{out_fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return;
  char buf[4096];
  ssize_t n = ::read(out_fd_, buf, sizeof buf);
  if (n > 0) {
    out_.append(buf, static_cast<size_t>(n));
  } else {
    ::close(out_fd_);
    out_fd_ = -1;
  }
}

std::string Background::wait_for_line(const std::string& needle, int timeout_seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto pos = out_.find(needle);
    if (pos != std::string::npos) {
      auto begin = out_.rfind('\n', pos);
      begin = begin == std::string::npos ? 0 : begin + 1;
      auto end = out_.find('\n', pos);
      if (end != std::string::npos) return out_.substr(begin, end - begin);
    }
    if (out_fd_ < 0) return {};
    pump(100);
  }
  return {};
}

int Background::stop(int signal_number, int timeout_seconds) {
  if (exited_) return exit_code_;
  ::kill(pid_, signal_number);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    pump(50);
  }
  while (out_fd_ >= 0) pump(50);
  exited_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return exit_code_;
}

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        int timeout_seconds) {
  HttpResult r;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return r;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[8192];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  auto head_end = resp.find("\r\n\r\n");
  if (head_end == std::string::npos || resp.size() < 12) return r;
  r.status = std::atoi(resp.substr(9, 3).c_str());
  std::istringstream head(resp.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
  }
  r.body = resp.substr(head_end + 4);
  return r;
}

fs::path install_credential(const fs::path& npki_root, const std::string& name,
                            const std::string& ca_folder) {
  fs::path dst = npki_root / ca_folder / "USER" / ("cn=" + name + ",ou=test,o=" + ca_folder + ",c=kr");
  fs::create_directories(dst);
  for (const char* f : {"signCert.der", "signPri.key"})
    fs::copy_file(data_path("pki/cred/" + name + "/" + f), dst / f,
                  fs::copy_options::overwrite_existing);
  return dst;
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}


}  // namespace dojang::testing
