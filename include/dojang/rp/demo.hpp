// A tiny demo relying party: "log in with your certificate" by
// challenge-response over HTTP. GET /challenge hands out a random single-use
// challenge; POST /login takes a CMS SignedData (DER, content attached) whose
// content is that challenge and runs the relying party's whole check on it
// (pki::verify_signed): signature, chain, validity, revocation, purpose and,
// when the account's IDN is configured, the VID with R from the signature's
// randomNum attribute (dojang login --include-random).
//
// A demo: plain HTTP on a loopback address, one connection at a time (each
// bounded by a read/write timeout), challenges kept in memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/pki/verify.hpp"

namespace dojang::rp {

struct DemoConfig {
  std::vector<pki::Certificate> trust;  // required
  std::vector<pki::Certificate> untrusted;
  pki::RequiredPurpose purpose = pki::RequiredPurpose::any;
  pki::RevocationMode revocation = pki::RevocationMode::online;
  std::vector<pki::Crl> crls;
  pki::Fetcher* fetcher = nullptr;          // online revocation checking
  std::optional<SecretString> account_idn;  // only this person may log in (VID check)
  std::chrono::seconds challenge_ttl{120};
};

// What POST /login answers: the HTTP status (200 accepted; 400 unknown or
// expired challenge, not a signature of one; 401 invalid; 403 refused; 503
// revocation unavailable) and the JSON body
// {"ok", "verdict", "reason", "user", "serial", "checks": {name: {status, detail}}}.
struct LoginOutcome {
  int http_status = 400;
  std::string body;  // JSON
};

// The relying party's logic, without the HTTP.
class LoginService {
 public:
  LoginService(DemoConfig config, const Clock& clock) : c_(std::move(config)), clock_(clock) {}
  // A fresh challenge (64 hex digits), valid for challenge_ttl, usable once.
  Result<std::string> new_challenge();
  LoginOutcome login(ByteView cms_der);

 private:
  DemoConfig c_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, TimePoint> challenges_;  // challenge -> expiry
};

// The HTTP front of a LoginService on a loopback address.
class DemoServer {
 public:
  // listen is "127.0.0.1:PORT" (PORT 0: any free port). Errors: usage (not a
  // loopback address), io (cannot bind).
  static Result<std::unique_ptr<DemoServer>> create(
      const std::string& listen, LoginService& service,
      std::chrono::seconds io_timeout = std::chrono::seconds{10});
  ~DemoServer();
  std::uint16_t port() const noexcept;
  // Serves requests, one connection at a time, until the process ends.
  void serve();

 private:
  struct Impl;
  explicit DemoServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dojang::rp
