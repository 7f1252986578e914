#include "dojang/cli.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

#include "dojang/pki/vid.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::cli {

int exit_code_for(Errc code) noexcept {
  switch (code) {
    case Errc::usage: return kUsage;
    case Errc::invalid_input:
    case Errc::foreign_format:
    case Errc::wrong_password:
    case Errc::key_mismatch:
    case Errc::bad_signature:
    case Errc::not_found:
    case Errc::ambiguous: return kInvalid;
    case Errc::already_exists:
    case Errc::policy: return kRefused;
    case Errc::io:
    case Errc::crypto: return kIoFailure;
  }
  return kIoFailure;
}

namespace {

// Strips one trailing "\n" or "\r\n".
void chomp(std::string& s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
}

class Tty {
 public:
  Tty() : fd_(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) {}
  ~Tty() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0 && ::isatty(fd_) == 1; }
  void write(const std::string& s) const {
    if (::write(fd_, s.data(), s.size()) < 0) { /* nothing useful to do */ }
  }
  // Shows prompt and reads one line; echo is off (before the prompt appears,
  // so nothing typed ahead is echoed) when secret.
  std::optional<SecretString> read_line(const std::string& prompt, bool secret) const {
    termios old{};
    bool restore = false;
    if (secret && ::tcgetattr(fd_, &old) == 0) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      restore = ::tcsetattr(fd_, TCSANOW, &quiet) == 0;
    }
    write(prompt);
    std::string line;
    char c;
    bool got = false;
    for (;;) {
      ssize_t n = ::read(fd_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got = true;
      if (c == '\n') break;
      line.push_back(c);
    }
    if (restore) ::tcsetattr(fd_, TCSANOW, &old);
    chomp(line);
    SecretString s(std::move(line));
    if (!got) return std::nullopt;
    return s;
  }

 private:
  int fd_;
};

}  // namespace

bool have_terminal() { return Tty().ok(); }

Result<SecretString> read_secret(const SecretSource& source) {
  if (!source.file.empty()) {
    DOJANG_ASSIGN(Bytes raw, read_file(source.file, 64 * 1024));
    std::string s(raw.begin(), raw.end());
    secure_wipe(raw.data(), raw.size());
    chomp(s);
    SecretString secret(std::move(s));
    if (secret.empty()) return Error{Errc::usage, source.flag + " file " + source.file + " is empty"};
    return secret;
  }
  Tty tty;
  if (!tty.ok())
    return Error{Errc::usage, "no terminal to ask for the secret: give " + source.flag + " FILE"};
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto first = tty.read_line(source.prompt + ": ", true);
    if (!first) return Error{Errc::usage, "no input for " + source.flag};
    if (first->empty()) {
      tty.write("Nothing entered.\n");
      continue;
    }
    if (!source.confirm) return std::move(*first);
    auto second = tty.read_line("Again, to confirm: ", true);
    if (!second) return Error{Errc::usage, "no input for " + source.flag};
    if (first->view() == second->view()) return std::move(*first);
    tty.write("The two entries differ. Try again.\n");
  }
  return Error{Errc::usage, "gave up asking for " + source.flag};
}

std::optional<std::string> ask_on_terminal(const std::string& prompt) {
  Tty tty;
  if (!tty.ok()) return std::nullopt;
  auto answer = tty.read_line(prompt + " ", false);
  if (!answer) return std::nullopt;
  return std::string(answer->view());
}

bool confirm_on_terminal(const std::string& question) {
  Tty tty;
  if (!tty.ok()) return false;
  auto answer = tty.read_line(question + " [y/N] ", false);
  return answer && (answer->view() == "y" || answer->view() == "Y" || answer->view() == "yes");
}

fs::path npki_root(const GlobalOptions& g) {
  if (!g.npki_dir.empty()) return g.npki_dir;
  return wallet::NpkiStore::default_root();
}

Result<Bytes> read_file(const fs::path& p, std::size_t max_size) {
  std::error_code ec;
  auto status = fs::status(p, ec);
  if (ec || !fs::exists(status)) return Error{Errc::not_found, p.string() + ": no such file"};
  if (fs::is_directory(status)) return Error{Errc::usage, p.string() + " is a directory, not a file"};
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error{Errc::io, p.string() + ": cannot open: " + std::strerror(errno)};
  Bytes data;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    auto n = static_cast<std::size_t>(in.gcount());
    if (data.size() + n > max_size)
      return Error{Errc::invalid_input, p.string() + " is larger than " + std::to_string(max_size) + " bytes"};
    data.insert(data.end(), buf, buf + n);
  }
  if (in.bad()) return Error{Errc::io, p.string() + ": read error"};
  return data;
}

Result<SecretString> read_idn(const std::string& file, const std::string& prompt) {
  DOJANG_ASSIGN(SecretString raw, read_secret({file, prompt, "--idn-file", false}));
  return pki::normalize_idn(raw.view());
}

Result<pki::Certificate> read_certificate_file(const fs::path& p) {
  DOJANG_ASSIGN(Bytes raw, read_file(p, 1 << 20));
  auto cert = pki::Certificate::from_pem(raw);
  if (!cert.ok()) cert = pki::Certificate::from_der(raw);
  if (!cert.ok()) return Error{Errc::invalid_input, p.string() + ": not a certificate (PEM or DER)"};
  return cert;
}

Status write_file(const fs::path& p, ByteView data) {
  return wallet::atomic_write_file(p, data, fs::perms::owner_read | fs::perms::owner_write |
                                                fs::perms::group_read | fs::perms::others_read);
}

int fail(const GlobalOptions& g, const Error& e) {
  if (g.json) {
    print_json({{"ok", false}, {"error", errc_name(e.code)}, {"message", e.message}});
  } else {
    std::cerr << "dojang: " << e.message << "\n";
  }
  return exit_code_for(e.code);
}

void print_json(const nlohmann::json& j) {
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace dojang::cli
