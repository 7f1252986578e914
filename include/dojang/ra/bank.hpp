// The bank as registration authority (RA): it enrols customers, runs the
// internet-banking login and the identity check (IDN + SMS code), and opens
// certificate issuance applications (reference number + authorization code)
// that the CA later redeems over CMP.
//
// Secrets at rest (all derived from the 32-byte data key; the database alone
// reveals none of them):
//   login password  Argon2id (libsodium crypto_pwhash_str, interactive limits)
//   IDN             AES-256-GCM (aad = customer id), for the CA's VID check,
//                   and HMAC-SHA256 under a subkey, for comparisons
//   session token   SHA-256 (the token is 32 random bytes)
//   SMS code        HMAC-SHA256 under a subkey, bound to the session
//   auth code       AES-256-GCM (aad = reference number): it is the CMP
//                   password-based-MAC secret, so the CA needs it back
//
// Rules (the constants below):
//   login           5 consecutive failures lock the customer until an
//                   operator calls unlock_customer; sessions last 10 minutes.
//   identity check  the IDN must match; 5 consecutive mismatches close the
//                   session. On a match a 6-digit code goes to the enrolled
//                   phone: valid 3 minutes, 5 wrong tries kill it, a new code
//                   replaces the old one, at most 5 codes per session.
//   application     needs a verified session (or a teller); reference number
//                   = 8 digits, first one non-zero, not shared with any
//                   application that expired less than 30 days ago;
//                   authorization code = 16 symbols of Crockford's base-32
//                   alphabet (0-9 A-Z without I L O U; 80 bits) written
//                   XXXX-XXXX-XXXX-XXXX. The CMP secret is exactly that
//                   19-character string, dashes included (normalize_auth_code
//                   turns what a person typed into it). Single use; expires
//                   after 10 minutes (app) or 7 days (teller); 5 MAC
//                   failures lock it.
//
// Errors that must not become oracles:
//   - login: an unknown customer and a wrong password give the same error
//     (wrong_password, "wrong customer id or password") after the same
//     Argon2id work. (A locked account says so; only an existing customer
//     can be locked.)
//   - sessions: an unknown and an expired token give the same error.
//   - the CA: application_for_ca tells unknown (not_found) from expired,
//     used and locked (policy) so the CA can log and answer precisely; the
//     reference number is not a secret (it is printed and typed). The bank
//     cannot tell a wrong authorization code from a right one - the CA does,
//     by the MAC - so the CA must give an unknown reference number and a
//     wrong MAC the same answer to the client (badMessageCheck).
//
// Thread safety: a Bank has no mutable state of its own; it is safe to call
// from many threads when its store and gateway are (the SQLite store is).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/ra/sms.hpp"
#include "dojang/store/bank_store.hpp"

namespace dojang::ra {

using store::ApplicationKind;
using store::ApplicationState;
using store::Channel;
using store::Purpose;

inline constexpr int kMaxLoginFailures = 5;
inline constexpr std::chrono::seconds kSessionLifetime{10 * 60};
inline constexpr int kMaxIdnFailures = 5;
inline constexpr std::chrono::seconds kOtpLifetime{3 * 60};
inline constexpr int kMaxOtpFailures = 5;
inline constexpr int kMaxOtpSends = 5;
inline constexpr std::chrono::seconds kAppApplicationLifetime{10 * 60};
inline constexpr std::chrono::seconds kTellerApplicationLifetime{7 * 24 * 60 * 60};
inline constexpr std::chrono::seconds kRefQuarantine{30 * 24 * 60 * 60};
inline constexpr int kMaxMacFailures = 5;
inline constexpr std::size_t kDataKeySize = 32;
// How long an identity verification authorises certificate management
// (listing, revoking, suspending, resuming, re-issuing) in its session.
inline constexpr std::chrono::seconds kManagementWindow{5 * 60};

struct Enrolment {
  std::string customer_id;      // 1-64 of A-Z a-z 0-9 . _ - @
  std::string real_name;        // UTF-8, 1-64 bytes, no control characters
  SecretString idn;             // 13 digits, optionally 6-7 with a dash
  std::string phone;            // see normalize_phone
  std::string bank_code;        // UTF-8, 1-32 bytes, no control or DN special characters
  SecretString login_password;  // 8-1024 bytes
};

struct Session {
  SecretString token;  // 64 hex digits; the bearer credential of the session
  std::string customer_id;
  TimePoint expires_at;
};

struct OtpSent {
  std::string masked_phone;  // "010-****-5678"
  TimePoint expires_at;
};

struct ApplicationTicket {
  std::string ref;         // 8 digits
  SecretString auth_code;  // XXXX-XXXX-XXXX-XXXX
  Purpose purpose = Purpose::general;
  ApplicationKind kind = ApplicationKind::issue;
  TimePoint expires_at;
};

// What the CA needs to serve an ir for a reference number.
struct ApplicationForCa {
  std::string ref;
  SecretString auth_code;  // the CMP PBM secret
  std::string customer_id;
  std::string real_name;
  std::string bank_code;
  Purpose purpose = Purpose::general;
  ApplicationKind kind = ApplicationKind::issue;
  Channel channel = Channel::app;
  TimePoint expires_at;
  int mac_failures = 0;
  // kind reissue: the certificate it replaces and the notAfter it keeps.
  std::optional<std::string> replaces_serial;
  std::optional<TimePoint> not_after;
};

// What a re-issue application carries over from the certificate it replaces.
struct ReissueOf {
  std::string serial_hex;  // the CA registry's key form
  TimePoint not_after;     // the new certificate ends when the old one would have
};

// A customer as an operator sees it: no secrets.
struct CustomerInfo {
  std::string customer_id;
  std::string real_name;
  std::string phone;
  std::string bank_code;
  int failed_logins = 0;
  bool locked = false;
  TimePoint created_at;
};

class Bank {
 public:
  // data_key: 32 bytes (dojangd keeps it in the data dir). The store, the
  // gateway and the clock must outlive the Bank. Errors: usage (key size),
  // crypto.
  static Result<Bank> create(store::BankStore& store, SecretBytes data_key, SmsGateway& sms,
                             const Clock& clock);

  // Enrols a customer. Errors: usage (a field is invalid; the message names
  // the field, never its value), already_exists, io.
  Status enrol(const Enrolment& e);

  // Internet-banking login. Errors: wrong_password (unknown customer or wrong
  // password), policy (locked after 5 failed logins), io.
  Result<Session> login(std::string_view customer_id, const SecretString& password);
  // Ends a session (unknown tokens are ignored).
  Status logout(std::string_view token);

  // Checks idn against the customer's and, when it matches, texts a fresh
  // 6-digit code to the enrolled phone. Errors: policy (no or expired
  // session, session closed after 5 wrong IDNs, too many codes), usage (idn
  // malformed), invalid_input (IDN does not match; counts toward closing the
  // session), io (store or gateway).
  Result<OtpSent> start_identity_check(std::string_view token, const SecretString& idn);

  // Checks the SMS code and marks the session identity-verified. Errors:
  // policy (no session; no code sent; "code expired"; code dead after 5
  // wrong tries), invalid_input (wrong code; the message says how many tries
  // are left), io.
  Status verify_otp(std::string_view token, std::string_view code);

  // Opens an application for the session's customer, valid 10 minutes.
  // Errors: policy (no session, identity not verified), io.
  Result<ApplicationTicket> open_application(std::string_view token, Purpose purpose,
                                             ApplicationKind kind = ApplicationKind::issue);

  // Opens a re-issue application (kind reissue) for the session's customer,
  // valid 10 minutes; the caller (the service, which sees the CA registry)
  // has checked that `of` is one of the customer's certificates. Errors: as
  // open_application, usage (empty serial).
  Result<ApplicationTicket> open_reissue_application(std::string_view token, Purpose purpose,
                                                     const ReissueOf& of);

  // The customer of a live session whose identity was verified (SMS code)
  // less than kManagementWindow ago: whom certificate management acts for.
  // Errors: policy (no or expired session: "not logged in..."; identity not
  // verified; verification older than the window), io.
  Result<std::string> verified_customer(std::string_view token);

  // Opens an application at a teller (identity checked in person), valid 7
  // days. Errors: not_found (no such customer), io.
  Result<ApplicationTicket> teller_application(std::string_view customer_id, Purpose purpose,
                                               ApplicationKind kind = ApplicationKind::issue);

  // --- for the CA
  // The open application with this reference number. Errors: not_found
  // ("unknown reference number"), policy ("reference number expired",
  // "reference number already used", "application locked after 5 failed
  // attempts"), io, invalid_input (sealed data does not open: wrong data key).
  Result<ApplicationForCa> application_for_ca(std::string_view ref);
  // The customer's IDN digits, for the CA's VID check. Errors: not_found,
  // invalid_input (wrong data key), io.
  Result<SecretString> customer_idn(std::string_view customer_id);
  // Records a failed MAC check; the 5th locks the application. Returns the
  // number of failures so far. Errors: not_found, io.
  Result<int> record_mac_failure(std::string_view ref);
  // Uses the application up; succeeds for exactly one caller, even when
  // several race. Errors: as application_for_ca.
  Status mark_used(std::string_view ref);

  // --- operators
  // Clears the failed-login count. Errors: not_found, io.
  Status unlock_customer(std::string_view customer_id);
  // Errors: not_found, io.
  Result<CustomerInfo> get_customer(std::string_view customer_id);

 private:
  struct Keys {
    SecretBytes idn_seal;
    SecretBytes idn_mac;
    SecretBytes otp_mac;
    SecretBytes code_seal;
  };
  Bank(store::BankStore& store, Keys keys, SmsGateway& sms, const Clock& clock,
       std::string dummy_hash)
      : store_(&store),
        keys_(std::move(keys)),
        sms_(&sms),
        clock_(&clock),
        dummy_hash_(std::move(dummy_hash)) {}

  Result<store::SessionRecord> live_session(std::string_view token, Bytes& token_hash);
  Result<ApplicationTicket> create_application(std::string_view customer_id, Purpose purpose,
                                               ApplicationKind kind, Channel channel,
                                               std::chrono::seconds lifetime,
                                               const ReissueOf* reissue = nullptr);
  // The newest application with this reference (not_found: kUnknownRef).
  Result<store::ApplicationRecord> find_application(std::string_view ref);
  // Why the application cannot be used now (used, locked, expired), or ok.
  Status application_error(std::string_view ref);
  Status application_error(const store::ApplicationRecord& a) const;

  store::BankStore* store_;
  Keys keys_;
  SmsGateway* sms_;
  const Clock* clock_;
  std::string dummy_hash_;  // Argon2id of a random password, verified for unknown customers
};

// Turns a typed authorization code into its canonical form: case-insensitive,
// spaces and dashes anywhere, O read as 0 and I / L as 1. Errors: usage (not
// 16 symbols of the alphabet).
Result<SecretString> normalize_auth_code(std::string_view typed);

}  // namespace dojang::ra
