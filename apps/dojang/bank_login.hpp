// The bank-login flags shared by the verbs that go through the bank (issue,
// revoke --via-bank, suspend, resume, reissue), and the one way to log in and
// verify the holder with them. Secrets come from files or no-echo prompts,
// never from argv.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "dojang/cli.hpp"
#include "dojang/pki/certificate.hpp"
#include "dojang/pki/keyfile.hpp"
#include "dojang/wallet/bank_client.hpp"

namespace dojang::cli {

// Runs the user's --otp-command through /bin/sh -c with DOJANG_SMS_PHONE set to
// the masked phone and takes the first six-digit group of its standard output.
// Errors: io (cannot start, failed, timed out), invalid_input (no code printed).
Result<SecretString> run_otp_command(const std::string& command, std::string_view masked_phone,
                                     int timeout_seconds);

// --format seed | pbes2-seed | pbes2-aria (validated by CLI11) as a key file format.
pki::KeyFileOptions::Format key_file_format(const std::string& name);

struct BankLoginFlags {
  std::string server, tls_ca;
  std::string customer, login_password_file, idn_file, otp_command, otp_file;
  int timeout = 30, otp_timeout = 180;

  // Registers --server (required), --tls-ca, --customer (required unless
  // !require_customer: the caller checks), --login-password-file, --idn-file,
  // --otp-command, --otp-file, --timeout, --otp-timeout.
  void add_to(CLI::App& sub, bool require_customer = true);
  // Usage errors a run would hit only after the network: both OTP sources, none without a terminal.
  Status check() const;
};

struct VerifiedBank {
  std::unique_ptr<wallet::BankClient> client;  // logged in, identity verified
  SecretString idn;                            // the holder's IDN digits
  std::string masked_phone;                    // where the SMS code went
};

// Reads the login password and the IDN (files or prompts), logs in, checks the
// IDN and the SMS code; progress lines go to log. Errors: those of
// wallet::BankClient, prefixed with the step ("bank login: ...", "identity
// verification: ...").
Result<VerifiedBank> log_in_and_verify(const BankLoginFlags& flags, std::ostream& log);

}  // namespace dojang::cli
