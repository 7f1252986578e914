#include "dojang/bank_login.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "dojang/pki/vid.hpp"

extern char** environ;

namespace dojang::cli {

namespace {

// The first group of exactly six digits in text.
std::optional<std::string> first_six_digits(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j - i == 6) return std::string(text.substr(i, 6));
    i = j;
  }
  return std::nullopt;
}

}  // namespace

// Runs the user's --otp-command through /bin/sh -c (their own command line;
// no secret is ever put in its argv), with DOJANG_SMS_PHONE set to the masked
// phone number, and takes the first six-digit group of its standard output.
Result<SecretString> run_otp_command(const std::string& command, std::string_view masked_phone,
                                     int timeout_seconds) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error{Errc::io, "--otp-command: cannot create a pipe"};
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).starts_with("DOJANG_SMS_PHONE=")) continue;
    env_strings.emplace_back(*e);
  }
  env_strings.push_back("DOJANG_SMS_PHONE=" + std::string(masked_phone));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return Error{Errc::io, "--otp-command: cannot start /bin/sh"};
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[4096];
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (out.size() < 64 * 1024) out.append(buf, static_cast<std::size_t>(got));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);  // the child this function started, by its id
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  SecretString text(std::move(out));
  if (timed_out)
    return Error{Errc::io, "--otp-command did not finish within " + std::to_string(timeout_seconds) + " seconds"};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error{Errc::io, "--otp-command failed" + (WIFEXITED(status) ? " (exit code " +
                                                         std::to_string(WEXITSTATUS(status)) + ")"
                                                   : std::string(" (killed by a signal)"))};
  auto code = first_six_digits(text.view());
  if (!code) return Error{Errc::invalid_input, "--otp-command printed no six-digit code"};
  return SecretString(std::move(*code));
}


pki::KeyFileOptions::Format key_file_format(const std::string& name) {
  if (name == "pbes2-seed") return pki::KeyFileOptions::Format::pbes2_seed;
  if (name == "pbes2-aria") return pki::KeyFileOptions::Format::pbes2_aria;
  return pki::KeyFileOptions::Format::seed_cbc_with_sha1;
}

void BankLoginFlags::add_to(CLI::App& sub, bool require_customer) {
  sub.add_option("--server", server, "the bank/CA server, e.g. http://127.0.0.1:8080")->required();
  sub.add_option("--tls-ca", tls_ca, "CA bundle (PEM) for an https:// server");
  auto* c = sub.add_option("--customer", customer, "internet-banking customer id");
  if (require_customer) c->required();
  sub.add_option("--login-password-file", login_password_file,
                 "file holding the internet-banking password");
  sub.add_option("--idn-file", idn_file, "file holding your resident registration number");
  sub.add_option("--otp-command", otp_command,
                 "command printing the SMS code (run with /bin/sh -c; $DOJANG_SMS_PHONE names the phone)");
  sub.add_option("--otp-file", otp_file, "file holding the SMS code");
  sub.add_option("--timeout", timeout, "seconds per network exchange")->check(CLI::Range(1, 600));
  sub.add_option("--otp-timeout", otp_timeout, "seconds --otp-command may take")
      ->check(CLI::Range(1, 3600));
}

Status BankLoginFlags::check() const {
  if (!otp_command.empty() && !otp_file.empty())
    return Error{Errc::usage, "give --otp-command or --otp-file, not both"};
  if (otp_command.empty() && otp_file.empty() && !have_terminal())
    return Error{Errc::usage, "no terminal to ask for the SMS code: give --otp-command CMD or --otp-file FILE"};
  return {};
}

Result<VerifiedBank> log_in_and_verify(const BankLoginFlags& f, std::ostream& log) {
  auto at = [](const char* step, Error e) {
    e.message = std::string(step) + ": " + e.message;
    return e;
  };
  DOJANG_ASSIGN(SecretString password,
                read_secret({f.login_password_file, "Internet-banking password for " + f.customer,
                             "--login-password-file", false}));
  DOJANG_ASSIGN(SecretString idn, read_idn(f.idn_file));
  VerifiedBank out;
  auto client = wallet::BankClient::create({f.server, f.tls_ca, f.timeout});
  if (!client.ok()) return at("bank login", client.error());
  out.client = std::move(client).value();
  log << "Logging in to the bank…" << std::endl;
  if (Status s = out.client->login(f.customer, password); !s.ok()) return at("bank login", s.error());
  log << "Verifying your identity: checking your resident registration number…" << std::endl;
  auto masked = out.client->verify_identity(idn, [&](std::string_view phone) -> Result<SecretString> {
    log << "Verifying your identity: SMS code sent to " << phone << std::endl;
    if (!f.otp_command.empty()) return run_otp_command(f.otp_command, phone, f.otp_timeout);
    return read_secret({f.otp_file, "SMS code sent to " + std::string(phone), "--otp-file", false});
  });
  if (!masked.ok()) return at("identity verification", masked.error());
  out.masked_phone = std::move(masked).value();
  out.idn = std::move(idn);
  return out;
}

}  // namespace dojang::cli
