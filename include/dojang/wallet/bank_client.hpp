// The device's client of the bank's internet-banking REST API (the RA):
// login, identity verification (IDN, then the SMS code) and the issuance
// application that yields a reference number and an authorization code.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet {

struct BankEndpoint {
  // The server's base URL: "http://127.0.0.1:8080" (plain HTTP only to a
  // loopback address) or "https://bank.example" (certificate verified).
  std::string url;
  std::string ca_file;      // extra CA bundle (PEM) for https; empty = the system's
  int timeout_seconds = 30;  // whole exchange; connecting is bounded by the same limit
};

// What the bank hands out for an issuance (참조번호 / 인가코드).
struct ApplicationTicket {
  std::string reference;   // 8 digits
  SecretString auth_code;  // single use
  TimePoint expires_at;
};

enum class BankPurpose { general, bank };  // 범용 / 용도제한 (banking, insurance)

// A session with the bank: one object per flow (login → identity → otp →
// open_application). Errors of every call: usage (bad URL: not http(s), plain
// http off loopback, user info), io (no connection, timeout, TLS failure, 5xx
// or a response larger than 64 KiB), invalid_input (a 2xx body that is not
// the JSON expected), and for 4xx the server's own message with the Errc its
// "error" field names (wrong_password for a bad login or session, policy for a
// locked account or a step out of order, ...). Messages never contain the
// password, IDN, code or session token.
class BankClient final {
 public:
  static Result<std::unique_ptr<BankClient>> create(const BankEndpoint& endpoint);
  ~BankClient();
  BankClient(const BankClient&) = delete;
  BankClient& operator=(const BankClient&) = delete;

  // POST /api/v1/bank/login {customer, password}; keeps the session token.
  Status login(std::string_view customer, const SecretString& password);
  // POST /api/v1/bank/identity {idn}: the bank sends an SMS code; returns the
  // masked phone number it went to ("010-****-5678").
  Result<std::string> identity(const SecretString& idn_digits);
  // POST /api/v1/bank/otp {code}.
  Status otp(const SecretString& code);
  // POST /api/v1/bank/applications {purpose} → 201 with the ticket.
  Result<ApplicationTicket> open_application(BankPurpose purpose);

  bool logged_in() const noexcept { return !token_.empty(); }

 private:
  struct Impl;
  explicit BankClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  SecretString token_;
};

// Exposed for tests: true for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace dojang::wallet
