// Helpers shared by Dojang's tests: temp dirs, test data, running binaries.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace dojang::testing {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

// Absolute path of a file under tests/data.
fs::path data_path(const std::string& rel);
// Absolute path of a built binary (build/bin/<name>).
fs::path bin_path(const std::string& name);

// A folder of test fixtures made once per build and shared by the test
// processes (CTest runs each test in its own): build/test-cache/<key>/. The
// first process that needs it calls make(dir) on a folder aside and renames it
// into place; a process that loses that race uses the winner's. make() returns
// false when it failed (after reporting why); its folder is then not kept, and
// build_cache returns an empty path.
fs::path build_cache(const std::string& key, const std::function<bool(const fs::path&)>& make);

// `dojangd init --data <data> --passphrase-file <pass_file> --issuing-key <issuing_key>`,
// made once per dojangd build, key type and passphrase (build_cache) and copied
// to data: init's RSA-3072 root key takes seconds to make, more under ASan.
// Every caller of one build gets the same CA and admin token. Returns the admin
// API token init printed; "" on failure (reported as a test failure).
std::string init_dojangd(const fs::path& data, const fs::path& pass_file,
                         const std::string& issuing_key = "rsa2048");

std::vector<std::uint8_t> read_bytes(const fs::path& p);
std::string read_text(const fs::path& p);
void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& data);
void write_text(const fs::path& p, const std::string& text);

// key=value lines of a credential's expected.txt.
std::map<std::string, std::string> read_expected(const fs::path& p);

std::string to_hex(const std::vector<std::uint8_t>& b);
std::vector<std::uint8_t> from_hex(const std::string& hex);

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] with argv (no shell), feeding stdin_data, with extra environment
// variables set ("NAME=value"), and a timeout after which it is killed.
RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data = {},
              const std::vector<std::string>& env = {}, int timeout_seconds = 120);

// Runs argv on a pseudo-terminal (its controlling terminal), answering each
// prompt in turn: whenever the output seen so far ends with ": " the next
// answer is typed followed by Enter. out holds the whole terminal transcript.
RunResult run_in_pty(const std::vector<std::string>& argv, const std::vector<std::string>& answers,
                     int timeout_seconds = 60);

// A program running in the background (e.g. dojangd serve) with its stdout
// and stderr captured; killed (SIGTERM, then SIGKILL) on destruction.
class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Waits until stdout holds a line containing needle; returns that line ("" on timeout or exit).
  std::string wait_for_line(const std::string& needle, int timeout_seconds = 30);
  // Sends a signal and waits for the exit code (-1 when killed by a signal).
  int stop(int signal_number, int timeout_seconds = 10);
  int pid() const { return pid_; }
  const std::string& out() const { return out_; }

 private:
  void pump(int timeout_ms);
  int pid_ = -1;
  int out_fd_ = -1;
  std::string out_;
  bool exited_ = false;
  int exit_code_ = -1;
};

struct HttpResult {
  int status = 0;  // 0: no response (connection failed or closed)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A loopback port nothing listens on right now (bound to 127.0.0.1:0, then
// released); 0 when none could be had.
std::uint16_t free_port();

// One HTTP/1.1 request to 127.0.0.1:port over a fresh connection (Connection: close).
HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& path,
                        const std::string& body = {},
                        const std::vector<std::pair<std::string, std::string>>& headers = {},
                        int timeout_seconds = 30);

// Copies a credential folder from tests/data/pki/cred/<name> into an NPKI tree
// root/<ca>/USER/<folder>; returns the folder.
fs::path install_credential(const fs::path& npki_root, const std::string& name,
                            const std::string& ca_folder = "yessign");

}  // namespace dojang::testing
