// dojangd: the certificate authority, the bank's RA and their HTTP service.
// Thin: parse, call the library, print.
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

#include "dojang/pki/aead.hpp"
#include "dojang/pki/hex.hpp"
#include "dojang/pki/random.hpp"
#include "dojang/ca/registry.hpp"
#include "dojang/service/bank_api.hpp"
#include "dojang/service/cmp_server.hpp"
#include "dojang/service/data_dir.hpp"
#include "dojang/service/http_server.hpp"
#include "dojang/service/lifecycle_api.hpp"
#include "dojang/service/revocation.hpp"
#include "dojang/service/serve_config.hpp"
#include "dojang/service/relay_api.hpp"
#include "dojang/store/relay_store.hpp"

namespace {

using namespace dojang;
namespace fs = std::filesystem;

enum ExitCode : int { kOk = 0, kUsage = 2, kInvalid = 3, kRefused = 4, kIoFailure = 5 };

int exit_code_for(Errc code) {
  switch (code) {
    case Errc::usage: return kUsage;
    case Errc::policy:
    case Errc::already_exists: return kRefused;
    case Errc::io:
    case Errc::crypto: return kIoFailure;
    default: return kInvalid;
  }
}

int fail(const Error& e) {
  std::cerr << "dojangd: " << e.message << "\n";
  return exit_code_for(e.code);
}

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// A secret from a file (first line) or a no-echo prompt on the terminal.
Result<SecretString> read_secret(const std::string& file, const std::string& prompt,
                                 const std::string& flag, bool confirm = false) {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error{Errc::not_found, file + ": cannot read"};
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SecretString secret(chomp(std::move(s)));
    if (secret.empty()) return Error{Errc::usage, flag + " file " + file + " is empty"};
    return secret;
  }
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return Error{Errc::usage, "no terminal to ask for the secret: give " + flag + " FILE"};
  auto ask = [fd](const std::string& p) -> std::optional<std::string> {
    termios old{};
    bool restore = false;
    if (::tcgetattr(fd, &old) == 0) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      restore = ::tcsetattr(fd, TCSANOW, &quiet) == 0;
    }
    if (::write(fd, p.data(), p.size()) < 0) return std::nullopt;
    std::string line;
    char c;
    bool got = false;
    while (::read(fd, &c, 1) == 1) {
      got = true;
      if (c == '\n') break;
      line.push_back(c);
    }
    if (restore) ::tcsetattr(fd, TCSANOW, &old);
    if (!got) return std::nullopt;
    return chomp(std::move(line));
  };
  auto first = ask(prompt + ": ");
  if (!first || first->empty()) {
    ::close(fd);
    return Error{Errc::usage, "no input for " + flag};
  }
  SecretString s1(std::move(*first));
  if (confirm) {
    auto second = ask("Again, to confirm: ");
    SecretString s2(second ? std::move(*second) : std::string());
    if (s1.view() != s2.view()) {
      ::close(fd);
      return Error{Errc::usage, "the two entries differ"};
    }
  }
  ::close(fd);
  return s1;
}

struct Common {
  std::string data;
  std::string passphrase_file;
};

void add_common(CLI::App* sub, Common& c) {
  sub->add_option("--data", c.data, "data directory")->required();
  sub->add_option("--passphrase-file", c.passphrase_file, "file holding the operator passphrase");
}

Result<std::unique_ptr<service::DataDir>> open_data(const Common& c) {
  DOJANG_ASSIGN(SecretString pass, read_secret(c.passphrase_file, "Operator passphrase", "--passphrase-file"));
  return service::DataDir::open(c.data, pass, SystemClock::instance());
}

std::string format_time(TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dojangd - certificate authority and bank RA for Korean joint certificates", "dojangd"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "dojangd 0.1.0");
  std::function<int()> run;

  // init
  Common init_c;
  std::string key_type = "rsa3072", ca_name = "Dojang CA", base_url = "http://127.0.0.1:8080";
  auto* init = app.add_subcommand("init", "create a CA hierarchy, data key and database in a data directory");
  add_common(init, init_c);
  init->add_option("--issuing-key", key_type, "rsa3072 (default), rsa2048 or ec-p256");
  init->add_option("--ca-name", ca_name, "o= of every certificate");
  init->add_option("--base-url", base_url, "where clients reach this CA (CRL, OCSP, CPS URLs)");
  init->callback([&] {
    run = [&]() -> int {
      auto kt = ca::parse_key_type(key_type);
      if (!kt.ok()) return fail(kt.error());
      auto pass = read_secret(init_c.passphrase_file, "New operator passphrase", "--passphrase-file", true);
      if (!pass.ok()) return fail(pass.error());
      ca::InitOptions o;
      o.ca_name = ca_name;
      o.issuing_key = *kt;
      o.base_url = base_url;
      auto d = service::DataDir::init(init_c.data, *pass, o, SystemClock::instance());
      if (!d.ok()) return fail(d.error());
      // The admin token for the REST admin endpoints: shown once, stored as a hash.
      auto raw = pki::random_bytes(32);
      if (!raw.ok()) return fail(raw.error());
      std::string token = pki::to_hex(*raw);
      auto digest = pki::sha256(ByteView(reinterpret_cast<const std::uint8_t*>(token.data()), token.size()));
      if (!digest.ok()) return fail(digest.error());
      std::ofstream(fs::path(init_c.data) / "admin-token.sha256") << pki::to_hex(*digest) << "\n";
      std::cout << "Created the CA in " << init_c.data << "\n"
                << "  root certificate:  " << (fs::path(init_c.data) / "root.pem").string() << "\n"
                << "  chain:             " << (fs::path(init_c.data) / "chain.pem").string() << "\n"
                << "  root SHA-256:      " << (*d)->ca().root_fingerprint() << "\n"
                << "  issuing key:       " << ca::key_type_name(*kt) << "\n"
                << "  admin API token:   " << token << "   (shown once; stored hashed)\n";
      return kOk;
    };
  });

  // serve
  Common serve_c;
  std::string listen, tls_cert, tls_key, config_file;
  int threads = 0, handler_threads = 32;
  long crl_interval = 60, crl_validity = 86400, ocsp_validity = 3600;
  auto* serve = app.add_subcommand("serve", "run the HTTP service (bank REST API, CMP on /pkix/, OCSP on /ocsp, CRLs on /crl/)");
  add_common(serve, serve_c);
  serve->add_option("--config", config_file, "TOML settings (default: DIR/dojangd.toml when present)");
  auto* listen_opt = serve->add_option("--listen", listen, "address:port (loopback HTTP; anything else needs --tls-cert/--tls-key)");
  serve->add_option("--tls-cert", tls_cert, "PEM certificate for HTTPS");
  serve->add_option("--tls-key", tls_key, "PEM key for HTTPS");
  auto* threads_opt = serve->add_option("--threads", threads, "I/O threads (default: cores)");
  auto* handler_threads_opt =
      serve->add_option("--handler-threads", handler_threads,
                        "threads for CMP, bank and relay requests, which block on commits (default 32)")
          ->check(CLI::Range(1, 1024));
  auto* crl_interval_opt =
      serve->add_option("--crl-interval", crl_interval, "seconds: a revocation is in the CRLs at most this much later (default 60)")
          ->check(CLI::Range(1L, 86400L));
  auto* crl_validity_opt =
      serve->add_option("--crl-validity", crl_validity, "seconds between a CRL's thisUpdate and nextUpdate (default 86400)")
          ->check(CLI::Range(60L, 30L * 86400L));
  auto* ocsp_validity_opt =
      serve->add_option("--ocsp-validity", ocsp_validity, "seconds between an OCSP response's thisUpdate and nextUpdate (default 3600)")
          ->check(CLI::Range(60L, 7L * 86400L));
  serve->callback([&] {
    run = [&]() -> int {
      // SIGINT/SIGTERM wait, blocked in every thread, until run_until_signal is
      // ready for them: one sent while the service starts stops it cleanly.
      sigset_t stop_signals;
      sigemptyset(&stop_signals);
      sigaddset(&stop_signals, SIGINT);
      sigaddset(&stop_signals, SIGTERM);
      ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
      // Defaults, then the TOML file, then the flags given.
      service::ServeSettings settings;
      fs::path config = config_file.empty() ? fs::path(serve_c.data) / "dojangd.toml" : fs::path(config_file);
      if (!config_file.empty() || fs::exists(config)) {
        auto st = service::apply_serve_config_file(config, settings);
        if (!st.ok()) return fail(st.error());
      }
      if (listen_opt->count() > 0) settings.http.listen = listen;
      if (threads_opt->count() > 0) settings.http.threads = threads;
      if (handler_threads_opt->count() > 0) settings.http.handler_threads = handler_threads;
      if (crl_interval_opt->count() > 0) settings.crl_interval = std::chrono::seconds(crl_interval);
      if (crl_validity_opt->count() > 0) settings.crl_validity = std::chrono::seconds(crl_validity);
      if (ocsp_validity_opt->count() > 0) settings.ocsp_validity = std::chrono::seconds(ocsp_validity);
      if (tls_cert.empty() != tls_key.empty())
        return fail({Errc::usage, "--tls-cert and --tls-key go together"});
      if (!tls_cert.empty()) settings.http.tls = service::TlsFiles{tls_cert, tls_key};
      if (!service::is_loopback_listen(settings.http.listen) && !settings.http.tls)
        return fail({Errc::usage, "plain HTTP is only served on loopback: give --tls-cert and --tls-key for " +
                                      settings.http.listen});
      auto d = open_data(serve_c);
      if (!d.ok()) return fail(d.error());
      service::Router router;
      std::string admin_hash;
      std::ifstream(fs::path(serve_c.data) / "admin-token.sha256") >> admin_hash;
      service::register_bank_api(router, (*d)->bank(), {admin_hash});
      // CMP (RFC 6712) on POST /pkix/: the CA redeems the bank's applications.
      auto registry = ca::Registry::open((*d)->database_handle(), (*d)->clock());
      if (!registry.ok()) return fail(registry.error());
      service::CmpServiceOptions cmp_options;
      cmp_options.confirm_timeout = settings.confirm_timeout;
      cmp_options.renewal_window = settings.renewal_window;
      service::CmpService cmp((*d)->ca(), (*d)->bank(), **registry, (*d)->clock(), cmp_options);
      service::register_cmp(router, cmp);
      // Certificate management through the bank (list, revoke, suspend, resume, re-issue).
      service::register_lifecycle_api(router, (*d)->bank(), **registry, (*d)->clock());
      // Revocation: OCSP on /ocsp (pre-signed and nonce answers), CRLs on /crl/<name>.crl.
      ca::OcspOptions ocsp_opts;
      ocsp_opts.validity = settings.ocsp_validity;
      ocsp_opts.refresh_after = settings.ocsp_validity / 2;
      auto ocsp = ca::OcspResponder::create((*d)->ca(), **registry, (*d)->clock(), ocsp_opts);
      if (!ocsp.ok()) return fail(ocsp.error());
      ca::CrlOptions crl_opts;
      crl_opts.validity = settings.crl_validity;
      crl_opts.publish_interval = settings.crl_interval;
      crl_opts.refresh_margin = std::min(crl_opts.validity / 4, std::chrono::seconds(3600));
      ca::CrlPublisher crls((*d)->ca(), **registry, (*d)->clock(), crl_opts);
      if (auto st = crls.publish(); !st.ok()) return fail(st.error());
      service::WatcherOptions watch_opts;
      watch_opts.resign_ahead = std::min<std::chrono::seconds>(std::chrono::seconds(60), settings.ocsp_validity / 8);
      service::RevocationWatcher watcher(**registry, **ocsp, crls, watch_opts);
      service::register_ocsp(router, **ocsp, (*d)->clock());
      service::register_crl(router, crls, (*d)->clock());
      // Device copy relay under /api/v1/relay/ (ciphertext only, 5-minute sessions).
      auto relay_store = store::RelayStore::open((*d)->database_handle());
      if (!relay_store.ok()) return fail(relay_store.error());
      service::register_relay_api(router, **relay_store, (*d)->clock());
      auto root_der = (*d)->ca().root_cert().der();
      auto issuing_der = (*d)->ca().issuing_cert().der();
      if (!root_der.ok() || !issuing_der.ok()) return fail({Errc::crypto, "cannot encode the CA certificates"});
      std::string root(root_der->begin(), root_der->end()), issuing(issuing_der->begin(), issuing_der->end());
      auto cert_route = [](std::string der) {
        return [der](const service::Request&) {
          service::Response r;
          r.content_type = "application/pkix-cert";
          r.body = der;
          r.headers.emplace_back("Cache-Control", "max-age=86400");
          return r;
        };
      };
      router.handle("GET", "/root.crt", cert_route(root));
      router.handle("GET", "/ca.crt", cert_route(issuing));
      router.handle("GET", "/healthz", [](const service::Request&) { return service::Response::text(200, "ok\n"); });
      const std::string listening = settings.http.listen;
      service::HttpServer server(std::move(settings.http), std::move(router));
      auto port = server.start();
      if (!port.ok()) return fail(port.error());
      std::cout << "dojangd listening on " << listening.substr(0, listening.rfind(':')) << ":" << *port << "\n" << std::flush;
      watcher.start();
      server.run_until_signal();
      watcher.stop();
      return kOk;
    };
  });

  // bank
  auto* bank = app.add_subcommand("bank", "the bank's registration authority");
  bank->require_subcommand(1);
  Common enrol_c;
  std::string customer, name, idn_file, phone, password_file, bank_code = "DOJANG";
  auto* enrol = bank->add_subcommand("enrol", "enrol an internet-banking customer");
  add_common(enrol, enrol_c);
  enrol->add_option("--customer", customer, "customer id")->required();
  enrol->add_option("--name", name, "real name")->required();
  enrol->add_option("--idn-file", idn_file, "file holding the resident registration number");
  enrol->add_option("--phone", phone, "mobile phone number")->required();
  enrol->add_option("--password-file", password_file, "file holding the login password");
  enrol->add_option("--bank-code", bank_code, "bank code for ou= (default DOJANG)");
  enrol->callback([&] {
    run = [&]() -> int {
      auto d = open_data(enrol_c);
      if (!d.ok()) return fail(d.error());
      auto idn = read_secret(idn_file, "Resident registration number", "--idn-file");
      if (!idn.ok()) return fail(idn.error());
      auto pw = read_secret(password_file, "Login password", "--password-file", true);
      if (!pw.ok()) return fail(pw.error());
      ra::Enrolment e{customer, name, std::move(*idn), phone, bank_code, std::move(*pw)};
      auto st = (*d)->bank().enrol(e);
      if (!st.ok()) return fail(st.error());
      std::cout << "Enrolled customer " << customer << " (" << name << ")\n";
      return kOk;
    };
  });

  Common app_c;
  std::string app_customer, purpose = "general";
  auto* application = bank->add_subcommand("application", "open an issuance application at the teller");
  add_common(application, app_c);
  application->add_option("--customer", app_customer, "customer id")->required();
  application->add_option("--purpose", purpose, "general (범용) or bank (용도제한)")
      ->check(CLI::IsMember({"general", "bank"}));
  application->callback([&] {
    run = [&]() -> int {
      auto d = open_data(app_c);
      if (!d.ok()) return fail(d.error());
      auto t = (*d)->bank().teller_application(
          app_customer, purpose == "bank" ? store::Purpose::bank_insurance : store::Purpose::general);
      if (!t.ok()) return fail(t.error());
      std::cout << "Reference number:    " << t->ref << "\n"
                << "Authorization code:  " << t->auth_code.view() << "\n"
                << "Valid until:         " << format_time(t->expires_at) << "\n";
      return kOk;
    };
  });

  Common outbox_c;
  std::string outbox_phone;
  auto* outbox = bank->add_subcommand("outbox", "print the SMS messages the development gateway sent");
  add_common(outbox, outbox_c);
  outbox->add_option("--phone", outbox_phone, "only messages to this phone");
  outbox->callback([&] {
    run = [&]() -> int {
      auto d = open_data(outbox_c);
      if (!d.ok()) return fail(d.error());
      auto msgs = outbox_phone.empty() ? (*d)->sms().outbox() : (*d)->sms().outbox(outbox_phone);
      if (!msgs.ok()) return fail(msgs.error());
      for (const auto& m : *msgs) std::cout << format_time(m.sent_at) << "  " << m.phone << "  " << m.text.view() << "\n";
      return kOk;
    };
  });

  // ca: operator revocation (the registry in the data directory's database;
  // a running `dojangd serve` picks the change up at once).
  auto* ca_cmd = app.add_subcommand("ca", "the certificate authority's operator commands");
  ca_cmd->require_subcommand(1);
  Common revoke_c;
  std::string revoke_serial, revoke_reason = "unspecified";
  bool revoke_json = false;
  auto* revoke = ca_cmd->add_subcommand("revoke", "revoke a certificate (certificateHold suspends it)");
  add_common(revoke, revoke_c);
  revoke->add_option("--serial", revoke_serial, "serial number: 0x-prefixed hex or decimal")->required();
  revoke->add_option("--reason", revoke_reason,
                     "RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
                     "cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise");
  revoke->add_flag("--json", revoke_json, "print the result as JSON");
  revoke->callback([&] {
    run = [&]() -> int {
      auto serial = ca::parse_serial(revoke_serial);
      if (!serial.ok()) return fail(serial.error());
      auto reason = ca::parse_revocation_reason(revoke_reason);
      if (!reason.ok()) return fail(reason.error());
      auto d = open_data(revoke_c);
      if (!d.ok()) return fail(d.error());
      auto registry = ca::Registry::open((*d)->database_handle(), (*d)->clock());
      if (!registry.ok()) return fail(registry.error());
      TimePoint when = std::chrono::time_point_cast<std::chrono::seconds>((*d)->clock().now());
      if (auto st = (*registry)->revoke(*serial, *reason, when); !st.ok()) return fail(st.error());
      if (revoke_json) {
        std::cout << nlohmann::json{{"serial", "0x" + *serial},
                                    {"status", *reason == ca::RevocationReason::certificate_hold ? "suspended" : "revoked"},
                                    {"reason", ca::revocation_reason_name(*reason)},
                                    {"revoked_at", format_time(when)}}
                         .dump()
                  << "\n";
      } else {
        std::cout << (*reason == ca::RevocationReason::certificate_hold ? "Suspended" : "Revoked")
                  << " certificate 0x" << *serial << " (" << ca::revocation_reason_name(*reason) << ") at "
                  << format_time(when) << "\n";
      }
      return kOk;
    };
  });
  Common resume_c;
  std::string resume_serial;
  bool resume_json = false;
  auto* resume = ca_cmd->add_subcommand("resume", "resume a suspended (certificateHold) certificate");
  add_common(resume, resume_c);
  resume->add_option("--serial", resume_serial, "serial number: 0x-prefixed hex or decimal")->required();
  resume->add_flag("--json", resume_json, "print the result as JSON");
  resume->callback([&] {
    run = [&]() -> int {
      auto serial = ca::parse_serial(resume_serial);
      if (!serial.ok()) return fail(serial.error());
      auto d = open_data(resume_c);
      if (!d.ok()) return fail(d.error());
      auto registry = ca::Registry::open((*d)->database_handle(), (*d)->clock());
      if (!registry.ok()) return fail(registry.error());
      if (auto st = (*registry)->unhold(*serial); !st.ok()) return fail(st.error());
      if (resume_json)
        std::cout << nlohmann::json{{"serial", "0x" + *serial}, {"status", "good"}}.dump() << "\n";
      else
        std::cout << "Resumed certificate 0x" << *serial << "\n";
      return kOk;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  return run ? run() : kUsage;
}
