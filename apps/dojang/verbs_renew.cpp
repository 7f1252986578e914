// renew, and revoke SEL: the certificate's own key signs the CMP request (kur, rr).
#include <iostream>
#include <memory>

#include "dojang/present.hpp"
#include "dojang/verbs.hpp"
#include "dojang/wallet/renewal.hpp"

namespace dojang::cli {

namespace {

struct ServerOpts {
  std::string selector, server, trust, password_file;
  int timeout = 30;
};

void add_server_options(CLI::App& sub, ServerOpts& o) {
  sub.add_option("SEL", o.selector, "serial (0x… or decimal) or a unique part of the CN")->required();
  sub.add_option("--server", o.server, "the CA server, e.g. http://127.0.0.1:8080")->required();
  sub.add_option("--trust", o.trust, "the root CA certificate (PEM or DER) to trust")->required();
  sub.add_option("--password-file", o.password_file, "file holding the certificate password");
  sub.add_option("--timeout", o.timeout, "seconds per network exchange")->check(CLI::Range(1, 600));
}

// Fills the shared parameters; the password comes from the file or the terminal.
Status fill(wallet::LifecycleParams& p, const ServerOpts& o, wallet::NpkiStore& store) {
  p.server = o.server;
  p.timeout_seconds = o.timeout;
  p.store = &store;
  p.selector = o.selector;
  p.clock = &SystemClock::instance();
  DOJANG_ASSIGN(p.trusted_root, read_certificate_file(o.trust));
  DOJANG_ASSIGN(p.password,
                read_secret({o.password_file, "Certificate password", "--password-file", false}));
  return {};
}

// Failures as one line (or JSON naming the step).
struct Reporter {
  const GlobalOptions& g;
  std::string step;
  int operator()(const Error& e) const {
    if (g.json) {
      print_json({{"ok", false}, {"step", step}, {"error", errc_name(e.code)}, {"message", e.message}});
      return exit_code_for(e.code);
    }
    return fail(g, e);
  }
};

}  // namespace

Runner setup_renew(CLI::App& sub, GlobalOptions& g) {
  struct Opts : ServerOpts {
    std::string idn_file;
    int window_days = static_cast<int>(wallet::kRenewalWindow.count());
  };
  auto o = std::make_shared<Opts>();
  add_server_options(sub, *o);
  sub.add_option("--window-days", o->window_days,
                 "the CA's renewal window in days before expiry (default 30)")
      ->check(CLI::Range(1, 3650));
  sub.add_option("--idn-file", o->idn_file,
                 "file holding your resident registration number (for a certificate with a VID)");

  return [&g, o] {
    std::ostream& log = g.json ? std::cerr : std::cout;
    Reporter failed{g, "renewal"};
    wallet::NpkiStore store({npki_root(g)});
    wallet::RenewParams p;
    if (Status s = fill(p, *o, store); !s.ok()) return failed(s.error());
    p.window = std::chrono::days(o->window_days);
    // The IDN is needed only when the certificate carries a VID.
    auto current = store.select(o->selector);
    if (!current.ok()) return failed(current.error());
    if (!o->idn_file.empty() || (current->info && current->info->vid)) {
      auto digits = read_idn(o->idn_file);
      if (!digits.ok()) return failed(digits.error());
      p.idn = std::move(digits).value();
    }
    p.progress = [&](wallet::LifecycleStep step, std::string_view message) {
      failed.step = wallet::lifecycle_step_name(step);
      log << message << std::endl;
    };
    auto outcome = wallet::renew_certificate(p);
    if (!outcome.ok()) return failed(outcome.error());
    const auto& info = outcome->info;
    if (g.json) {
      print_json({{"ok", true},
                  {"folder", outcome->stored.folder.string()},
                  {"subject", info.subject},
                  {"serial", "0x" + info.serial_hex},
                  {"renewed_serial", "0x" + outcome->old_serial_hex},
                  {"not_after", format_time(info.not_after)},
                  {"archived", outcome->archived.string()},
                  {"vid_verified", outcome->vid_verified}});
    } else {
      std::cout << "Renewed: " << info.cn << ", new serial 0x" << info.serial_hex << ", valid until "
                << format_time(info.not_after) << " (old serial 0x" << outcome->old_serial_hex
                << " is revoked as superseded)\n";
    }
    return int{kOk};
  };
}

int run_revoke_with_key(GlobalOptions& g, const KeyRevocation& k) {
  Reporter failed{g, "revocation"};
  auto reason = wallet::parse_holder_revocation_reason(k.reason);
  if (!reason.ok()) return failed(reason.error());
  wallet::NpkiStore store({npki_root(g)});
  auto current = store.select(k.selector);
  if (!current.ok()) return failed(current.error());
  if (!k.yes) {
    if (!have_terminal())
      return failed({Errc::usage, "refusing to revoke without confirmation: add --yes"});
    std::string what = current->info ? current->info->cn + " (serial 0x" + current->info->serial_hex + ")"
                                     : current->folder.string();
    if (!confirm_on_terminal("Revoke " + what + "? It can never be used again."))
      return failed({Errc::policy, "not revoked: not confirmed"});
  }
  ServerOpts o;
  o.selector = k.selector;
  o.server = k.server;
  o.trust = k.trust;
  o.password_file = k.password_file;
  o.timeout = k.timeout;
  wallet::RevokeParams p;
  if (Status s = fill(p, o, store); !s.ok()) return failed(s.error());
  p.reason = *reason;
  std::ostream& log = g.json ? std::cerr : std::cout;
  p.progress = [&](wallet::LifecycleStep step, std::string_view message) {
    failed.step = wallet::lifecycle_step_name(step);
    log << message << std::endl;
  };
  auto outcome = wallet::revoke_with_key(p);
  if (!outcome.ok()) return failed(outcome.error());
  if (g.json) {
    print_json({{"ok", true},
                {"serial", "0x" + outcome->info.serial_hex},
                {"reason", wallet::holder_revocation_reason_name(*reason)},
                {"archived", outcome->archived.string()}});
  } else {
    std::cout << "Revoked: " << outcome->info.cn << ", serial 0x" << outcome->info.serial_hex << " ("
              << wallet::holder_revocation_reason_name(*reason) << ")\n";
  }
  return int{kOk};
}

}  // namespace dojang::cli
