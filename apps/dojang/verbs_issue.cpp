// issue: a new certificate from the CA onto this device (bank login path or teller path).
#include <iostream>

#include "dojang/bank_login.hpp"
#include "dojang/present.hpp"
#include "dojang/pki/vid.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/issuance.hpp"

namespace dojang::cli {

Runner setup_issue(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    std::string server, trust, trust_fingerprint, tls_ca;
    std::string customer, login_password_file, idn_file, otp_command, otp_file, purpose = "general";
    std::string ref, auth_code_file, password_file, phone, format = "seed";
    int timeout = 30, otp_timeout = 180;
    bool replace = false;
  };
  auto o = std::make_shared<Opts>();
  sub.add_option("--server", o->server, "the CA/bank server, e.g. http://127.0.0.1:8080")->required();
  sub.add_option("--trust", o->trust, "the root CA certificate (PEM or DER) to trust");
  sub.add_option("--trust-fingerprint", o->trust_fingerprint,
                 "SHA-256 fingerprint of the root CA certificate the server sends (instead of --trust)");
  sub.add_option("--tls-ca", o->tls_ca, "CA bundle (PEM) for an https:// server");
  sub.add_option("--customer", o->customer, "internet-banking customer id (bank login path)");
  sub.add_option("--login-password-file", o->login_password_file, "file holding the internet-banking password");
  sub.add_option("--idn-file", o->idn_file, "file holding your resident registration number");
  sub.add_option("--otp-command", o->otp_command,
                 "command printing the SMS code (run with /bin/sh -c; $DOJANG_SMS_PHONE names the phone)");
  sub.add_option("--otp-file", o->otp_file, "file holding the SMS code");
  sub.add_option("--purpose", o->purpose, "general (범용) or bank (은행/보험용)")
      ->check(CLI::IsMember({"general", "bank"}));
  sub.add_option("--ref", o->ref, "reference number from the bank branch (teller path)");
  sub.add_option("--auth-code-file", o->auth_code_file, "file holding the authorization code (teller path)");
  sub.add_option("--password-file", o->password_file, "file holding the new certificate password");
  sub.add_flag("--replace", o->replace,
               "replace a certificate of the same holder already in the wallet (same subject)");
  sub.add_option("--phone", o->phone, "your phone number (so the password policy can refuse it)");
  sub.add_option("--format", o->format, "key file format: seed (default), pbes2-seed, pbes2-aria")
      ->check(CLI::IsMember({"seed", "pbes2-seed", "pbes2-aria"}));
  sub.add_option("--timeout", o->timeout, "seconds per network exchange")->check(CLI::Range(1, 600));
  sub.add_option("--otp-timeout", o->otp_timeout, "seconds --otp-command may take")->check(CLI::Range(1, 3600));

  return [&g, o] {
    std::ostream& log = g.json ? std::cerr : std::cout;
    std::string current_step = "issuance";
    auto failed = [&](Error e) {
      if (g.json) {
        print_json({{"ok", false}, {"step", current_step}, {"error", errc_name(e.code)}, {"message", e.message}});
        return exit_code_for(e.code);
      }
      return fail(g, e);
    };
    auto usage = [&](std::string m) { return failed({Errc::usage, std::move(m)}); };

    const bool teller = !o->ref.empty();
    if (teller && (!o->customer.empty() || !o->login_password_file.empty() || !o->otp_command.empty() ||
                   !o->otp_file.empty()))
      return usage("--ref (teller path) cannot be combined with the bank login flags");
    if (!teller && o->customer.empty())
      return usage("give --customer ID (bank login path) or --ref N --auth-code-file F (teller path)");
    if (!o->otp_command.empty() && !o->otp_file.empty()) return usage("give --otp-command or --otp-file, not both");
    if (o->trust.empty() == o->trust_fingerprint.empty())
      return usage("give --trust ROOT.pem or --trust-fingerprint SHA256 (one of them)");
    if (o->password_file.empty() && !have_terminal())
      return usage("no terminal to ask for the new certificate password: give --password-file FILE");
    if (!teller && o->otp_command.empty() && o->otp_file.empty() && !have_terminal())
      return usage("no terminal to ask for the SMS code: give --otp-command CMD or --otp-file FILE");

    wallet::NpkiStore store({npki_root(g)});
    wallet::IssueParams p;
    p.replace_existing = o->replace;
    p.server = o->server;
    p.tls_ca_file = o->tls_ca;
    p.timeout_seconds = o->timeout;
    p.phone = o->phone;
    p.store = &store;
    p.key_format.format = key_file_format(o->format);
    if (!o->trust.empty()) {
      auto root = read_certificate_file(o->trust);
      if (!root.ok()) return failed(root.error());
      p.trusted_root = std::move(root).value();
    }
    p.root_fingerprint = o->trust_fingerprint;

    // Secrets the flow needs before it starts: files, else the terminal.
    if (teller) {
      auto code = read_secret({o->auth_code_file, "Authorization code (인가코드)", "--auth-code-file", false});
      if (!code.ok()) return failed(code.error());
      p.teller = wallet::TellerTicket{o->ref, std::move(code).value()};
    } else {
      auto pw = read_secret({o->login_password_file, "Internet-banking password for " + o->customer,
                             "--login-password-file", false});
      if (!pw.ok()) return failed(pw.error());
      wallet::BankLogin bank;
      bank.customer = o->customer;
      bank.password = std::move(pw).value();
      bank.purpose = o->purpose == "bank" ? wallet::BankPurpose::bank : wallet::BankPurpose::general;
      bank.sms_code = [o](std::string_view masked) -> Result<SecretString> {
        if (!o->otp_command.empty()) return run_otp_command(o->otp_command, masked, o->otp_timeout);
        return read_secret({o->otp_file, "SMS code sent to " + std::string(masked), "--otp-file", false});
      };
      p.bank = std::move(bank);
    }
    if (!o->idn_file.empty() || !teller) {
      auto digits = read_idn(o->idn_file);
      if (!digits.ok()) return failed(digits.error());
      p.idn = std::move(digits).value();
    }
    if (!o->password_file.empty()) {
      auto pw = read_secret({o->password_file, "", "--password-file", false});
      if (!pw.ok()) return failed(pw.error());
      p.password = std::move(pw).value();
    } else {
      p.ask_password = [&log](const wallet::PasswordContext&,
                              const std::vector<std::string>& refused) -> Result<SecretString> {
        if (!refused.empty()) {
          log << "That password is refused:\n";
          for (const auto& r : refused) log << "  - " << r << "\n";
        }
        return read_secret({"", "New certificate password (10+ characters with letters, digits and symbols)",
                            "--password-file", true});
      };
    }
    p.progress = [&](wallet::IssueStep step, std::string_view message) {
      current_step = wallet::issue_step_name(step);
      log << message << std::endl;
    };

    auto outcome = wallet::issue_certificate(p);
    if (!outcome.ok()) return failed(outcome.error());
    const auto& info = outcome->info;
    if (g.json) {
      print_json({{"ok", true},
                  {"folder", outcome->stored.folder.string()},
                  {"subject", info.subject},
                  {"cn", info.cn},
                  {"serial", "0x" + info.serial_hex},
                  {"not_after", format_time(info.not_after)},
                  {"purpose", purpose_text(info)},
                  {"reference", outcome->reference},
                  {"vid_sent", outcome->vid_sent},
                  {"vid_verified", outcome->vid_verified}});
    } else {
      std::cout << "Issued: " << info.cn << ", serial 0x" << info.serial_hex << ", " << purpose_text(info)
                << ", valid until " << format_time(info.not_after) << "\n";
      if (outcome->vid_verified) std::cout << "The certificate's VID matches your resident registration number.\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
