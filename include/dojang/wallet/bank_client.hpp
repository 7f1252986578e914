// The device's client of the bank's internet-banking REST API (the RA):
// login, identity verification (IDN, then the SMS code) and the issuance
// application that yields a reference number and an authorization code.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// One of the customer's certificates as the bank lists it (GET /api/v1/bank/certificates).
struct BankCertificate {
  std::string serial;   // "0x" + hex
  std::string cn;
  std::string subject;
  std::string purpose;  // "general", "bank_insurance", ...
  std::string status;   // "valid", "suspended", "revoked", "expired", "pending", ...
  std::string reason;   // RFC 5280 name when revoked or suspended, else ""
  TimePoint not_before, not_after;
  std::optional<TimePoint> revoked_at;
};

// What certificate management without the key can do to a certificate.
enum class CertificateAction { revoke, suspend, resume };
const char* certificate_action_name(CertificateAction a) noexcept;  // "revoke", ...

// A re-issue application: the ticket, the certificate it replaces and the
// notAfter the new certificate keeps (absent for an expired one: a full term).
struct ReissueTicket {
  ApplicationTicket ticket;
  std::string replaces;  // "0x" + hex
  std::optional<TimePoint> not_after;
};

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

  // identity() + the SMS code from sms_code (given the masked phone) + otp():
  // the session is identity-verified when it returns the masked phone.
  Result<std::string> verify_identity(
      const SecretString& idn_digits,
      const std::function<Result<SecretString>(std::string_view masked_phone)>& sms_code);

  // Certificate management in a verified session (docs/api.md): the
  // customer's certificates; revoke / suspend / resume one (reason: an RFC
  // 5280 name, used by revoke only; empty = the server's default,
  // keyCompromise); a re-issue application for one. A change ends the
  // session on the server. Errors as above; not_found for a serial that is
  // not the customer's, policy for a transition the CA refuses.
  Result<std::vector<BankCertificate>> certificates();
  Result<BankCertificate> change(CertificateAction action, std::string_view serial,
                                 std::string_view reason = {});
  Result<ReissueTicket> open_reissue(std::string_view serial);

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
