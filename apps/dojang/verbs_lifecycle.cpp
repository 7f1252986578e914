// Certificate management through the bank, without the key (after the phone
// is lost): revoke --via-bank, suspend, resume, reissue. `revoke SEL` without
// --via-bank signs a CMP rr with the key (verbs_renew.cpp).
#include <iostream>

#include "dojang/bank_login.hpp"
#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/issuance.hpp"

namespace dojang::cli {

namespace {

// The bank answers a serial that is not the customer's with not_found; for the
// holder that is a refusal by the server (exit 4), not bad input.
Error refused_if_not_found(Error e) {
  if (e.code == Errc::not_found) e.code = Errc::policy;
  return e;
}

nlohmann::json to_json(const wallet::BankCertificate& c) {
  nlohmann::json j{{"serial", c.serial},         {"cn", c.cn},
                   {"subject", c.subject},       {"purpose", c.purpose},
                   {"not_after", format_time(c.not_after)}, {"status", c.status}};
  if (!c.reason.empty()) j["reason"] = c.reason;
  if (c.revoked_at) j["revoked_at"] = format_time(*c.revoked_at);
  return j;
}

std::string line_of(const wallet::BankCertificate& c) {
  std::string s = c.serial + "  " + c.cn + "  " + c.purpose + "  until " + format_time(c.not_after) +
                  "  " + c.status;
  if (!c.reason.empty()) s += " (" + c.reason + ")";
  return s;
}

// The serial to act on: --serial, else the user's choice on the terminal
// among the bank's list (filtered by `eligible`).
Result<std::string> choose(wallet::BankClient& bank, const std::string& serial, const char* verb,
                           const std::function<bool(const wallet::BankCertificate&)>& eligible,
                           std::ostream& log) {
  if (!serial.empty()) return serial;
  DOJANG_ASSIGN(std::vector<wallet::BankCertificate> all, bank.certificates());
  std::vector<wallet::BankCertificate> list;
  for (auto& c : all)
    if (eligible(c)) list.push_back(std::move(c));
  if (list.empty())
    return Error{Errc::not_found, std::string("the bank lists no certificate of yours to ") + verb};
  log << "Your certificates at the bank:\n";
  for (std::size_t i = 0; i < list.size(); ++i) log << "  " << i + 1 << ". " << line_of(list[i]) << "\n";
  if (!have_terminal())
    return Error{Errc::usage, std::string("no terminal to choose the certificate to ") + verb +
                                  ": give --serial S"};
  auto answer = ask_on_terminal(std::string("Number of the certificate to ") + verb + ":");
  if (!answer) return Error{Errc::usage, "no choice made: give --serial S"};
  std::size_t n = 0;
  for (char ch : *answer) {
    if (ch < '0' || ch > '9') return Error{Errc::usage, "not a number from the list"};
    n = n * 10 + static_cast<std::size_t>(ch - '0');
    if (n > list.size()) break;
  }
  if (n == 0 || n > list.size()) return Error{Errc::usage, "not a number from the list"};
  return list[n - 1].serial;
}

struct LifecycleOpts {
  BankLoginFlags bank;
  std::string serial, reason;
  bool via_bank = false;
  // revoke SEL with the key (CMP rr):
  std::string sel, trust, password_file;
  bool yes = false;
};

Runner lifecycle_runner(GlobalOptions& g, std::shared_ptr<LifecycleOpts> o, wallet::CertificateAction action) {
  return [&g, o, action] {
    std::ostream& log = g.json ? std::cerr : std::cout;
    const char* verb = wallet::certificate_action_name(action);
    if (action == wallet::CertificateAction::revoke && !o->via_bank) {
      if (o->sel.empty())
        return fail(g, {Errc::usage,
                        "give the certificate (SEL) to revoke with its key, or --via-bank to revoke "
                        "without the key through the bank"});
      if (o->trust.empty()) return fail(g, {Errc::usage, "give --trust ROOT.pem (the CA's root)"});
      return run_revoke_with_key(g, KeyRevocation{o->sel, o->bank.server, o->trust, o->password_file,
                                                  o->reason.empty() ? "unspecified" : o->reason,
                                                  o->bank.timeout, o->yes});
    }
    if (!o->sel.empty())
      return fail(g, {Errc::usage, "--via-bank takes the certificate as --serial S (or a choice), not SEL"});
    if (o->reason.empty()) o->reason = "keyCompromise";  // the phone is lost
    if (o->bank.customer.empty()) return fail(g, {Errc::usage, "give --customer ID (the internet-banking login)"});
    if (Status s = o->bank.check(); !s.ok()) return fail(g, s.error());
    auto bank = log_in_and_verify(o->bank, log);
    if (!bank.ok()) return fail(g, bank.error());
    auto eligible = [action](const wallet::BankCertificate& c) {
      switch (action) {
        case wallet::CertificateAction::revoke: return c.status == "valid" || c.status == "suspended";
        case wallet::CertificateAction::suspend: return c.status == "valid";
        case wallet::CertificateAction::resume: return c.status == "suspended";
      }
      return false;
    };
    auto serial = choose(*bank->client, o->serial, verb, eligible, log);
    if (!serial.ok()) return fail(g, serial.error());
    auto changed = bank->client->change(action, *serial, o->reason);
    if (!changed.ok()) return fail(g, refused_if_not_found(changed.error()));
    if (g.json) {
      auto j = to_json(*changed);
      j["ok"] = true;
      j["action"] = verb;
      print_json(j);
    } else {
      switch (action) {
        case wallet::CertificateAction::revoke:
          std::cout << "Revoked " << changed->cn << " (serial " << changed->serial << "), reason "
                    << changed->reason << ". Get a new one with: dojang reissue or dojang issue\n";
          break;
        case wallet::CertificateAction::suspend:
          std::cout << "Suspended " << changed->cn << " (serial " << changed->serial
                    << "): it verifies as on hold (certificateHold) until you resume it with: dojang resume --serial "
                    << changed->serial << "\n";
          break;
        case wallet::CertificateAction::resume:
          std::cout << "Resumed " << changed->cn << " (serial " << changed->serial << "): valid again\n";
          break;
      }
    }
    return int{kOk};
  };
}

}  // namespace

Runner setup_revoke(CLI::App& sub, GlobalOptions& g) {
  auto o = std::make_shared<LifecycleOpts>();
  sub.add_option("SEL", o->sel,
                 "the certificate in this wallet, revoked with its key (CMP rr); serial or part of the CN");
  sub.add_flag("--via-bank", o->via_bank, "revoke without the key: bank login and identity verification");
  o->bank.add_to(sub, false);
  sub.add_option("--serial", o->serial,
                 "--via-bank: serial of the certificate to revoke (0x-hex or decimal); default: choose");
  sub.add_option("--reason", o->reason,
                 "with the key: unspecified (default), keyCompromise, affiliationChanged, superseded, "
                 "cessationOfOperation; --via-bank: keyCompromise (default: the phone is lost), the same, "
                 "or privilegeWithdrawn");
  sub.add_option("--trust", o->trust, "with the key: the root CA certificate (PEM or DER) to trust");
  sub.add_option("--password-file", o->password_file, "with the key: file holding the certificate password");
  sub.add_flag("--yes,-y", o->yes, "with the key: do not ask for confirmation");
  return lifecycle_runner(g, o, wallet::CertificateAction::revoke);
}

namespace {
// suspend and resume: the bank-login flags and --serial.
Runner setup_hold_change(CLI::App& sub, GlobalOptions& g, wallet::CertificateAction action,
                         const char* serial_help) {
  auto o = std::make_shared<LifecycleOpts>();
  o->via_bank = true;
  o->bank.add_to(sub);
  sub.add_option("--serial", o->serial, serial_help);
  return lifecycle_runner(g, o, action);
}
}  // namespace

Runner setup_suspend(CLI::App& sub, GlobalOptions& g) {
  return setup_hold_change(sub, g, wallet::CertificateAction::suspend,
                           "serial of the certificate to suspend; default: choose");
}

Runner setup_resume(CLI::App& sub, GlobalOptions& g) {
  return setup_hold_change(sub, g, wallet::CertificateAction::resume,
                           "serial of the suspended certificate; default: choose");
}

Runner setup_reissue(CLI::App& sub, GlobalOptions& g) {
  struct Opts {
    BankLoginFlags bank;
    std::string serial, trust, password_file, phone, format = "seed";
  };
  auto o = std::make_shared<Opts>();
  o->bank.add_to(sub);
  sub.add_option("--trust", o->trust, "the root CA certificate (PEM or DER) to trust")->required();
  sub.add_option("--serial", o->serial, "serial of the certificate to replace; default: choose");
  sub.add_option("--password-file", o->password_file, "file holding the new certificate password");
  sub.add_option("--phone", o->phone, "your phone number (so the password policy can refuse it)");
  sub.add_option("--format", o->format, "key file format: seed (default), pbes2-seed, pbes2-aria")
      ->check(CLI::IsMember({"seed", "pbes2-seed", "pbes2-aria"}));
  return [&g, o] {
    std::ostream& log = g.json ? std::cerr : std::cout;
    if (Status s = o->bank.check(); !s.ok()) return fail(g, s.error());
    if (o->password_file.empty() && !have_terminal())
      return fail(g, {Errc::usage, "no terminal to ask for the new certificate password: give --password-file FILE"});
    auto root = read_certificate_file(o->trust);
    if (!root.ok()) return fail(g, root.error());
    auto bank = log_in_and_verify(o->bank, log);
    if (!bank.ok()) return fail(g, bank.error());
    auto serial = choose(*bank->client, o->serial, "re-issue",
                         [](const wallet::BankCertificate& c) {
                           return c.status != "pending" && c.status != "rejected" &&
                                  c.status != "unconfirmed" && c.reason != "superseded";
                         },
                         log);
    if (!serial.ok()) return fail(g, serial.error());
    log << "Opening the re-issue application for " << *serial << "…" << std::endl;
    auto ticket = bank->client->open_reissue(*serial);
    if (!ticket.ok())
      return fail(g, refused_if_not_found({ticket.error().code, "re-issue application: " + ticket.error().message}));

    // From here on the normal in-app issuance: the ticket stands where a
    // teller's printout would, the IDN goes to the CA as an EncryptedVID.
    wallet::NpkiStore store({npki_root(g)});
    wallet::IssueParams p;
    p.server = o->bank.server;
    p.tls_ca_file = o->bank.tls_ca;
    p.timeout_seconds = o->bank.timeout;
    p.trusted_root = std::move(root).value();
    p.teller = wallet::TellerTicket{ticket->ticket.reference, std::move(ticket->ticket.auth_code)};
    p.idn = std::move(bank->idn);
    p.phone = o->phone;
    p.store = &store;
    p.replace_existing = true;  // the new certificate takes the old one's folder
    p.key_format.format = key_file_format(o->format);
    if (!o->password_file.empty()) {
      auto pw = read_secret({o->password_file, "", "--password-file", false});
      if (!pw.ok()) return fail(g, pw.error());
      p.password = std::move(pw).value();
    } else {
      p.ask_password = [&log](const wallet::PasswordContext&,
                              const std::vector<std::string>& refused) -> Result<SecretString> {
        for (const auto& r : refused) log << "  refused: " << r << "\n";
        return read_secret({"", "New certificate password (10+ characters with letters, digits and symbols)",
                            "--password-file", true});
      };
    }
    p.progress = [&log](wallet::IssueStep, std::string_view message) { log << message << std::endl; };
    auto outcome = wallet::issue_certificate(p);
    if (!outcome.ok()) return fail(g, outcome.error());
    const auto& info = outcome->info;
    if (g.json) {
      print_json({{"ok", true},
                  {"folder", outcome->stored.folder.string()},
                  {"cn", info.cn},
                  {"serial", "0x" + info.serial_hex},
                  {"replaces", ticket->replaces},
                  {"not_after", format_time(info.not_after)},
                  {"purpose", purpose_text(info)},
                  {"reference", outcome->reference},
                  {"vid_verified", outcome->vid_verified}});
    } else {
      std::cout << "Re-issued: " << info.cn << ", serial 0x" << info.serial_hex << " replaces "
                << ticket->replaces << " (now revoked, superseded), valid until "
                << format_time(info.not_after) << "\n";
    }
    return int{kOk};
  };
}

}  // namespace dojang::cli
