// The bank's (RA's) persistence: customers, login sessions, one-time codes,
// issuance applications and the development SMS outbox.
//
// BankStore is backend-neutral: the records carry only C++ types, and every
// method that must be race-free says so (each is one atomic step on the
// database, also across processes). The SQLite implementation lives in
// src/store/; a PostgreSQL one will implement the same interface.
//
// The store never sees a secret in clear: the RA hands it hashes, HMACs and
// AES-GCM ciphertexts (see ra/bank.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::store {

class Database;

// Certificate purpose: 범용 (general) or 용도제한 (bank/insurance only).
enum class Purpose { general, bank_insurance };
enum class ApplicationKind { issue, reissue };
// How the application was opened: in the bank app (after SMS verification) or
// at a teller.
enum class Channel { app, teller };
// Expiry is not a state: an open application past expires_at is expired.
enum class ApplicationState { open, used, locked };

const char* to_string(Purpose p) noexcept;
const char* to_string(ApplicationKind k) noexcept;
const char* to_string(Channel c) noexcept;
const char* to_string(ApplicationState s) noexcept;

struct CustomerRecord {
  std::string customer_id;
  std::string real_name;
  Bytes idn_sealed;   // AES-GCM ciphertext of the IDN digits
  Bytes idn_mac;      // HMAC of the IDN digits, for comparisons
  std::string phone;  // normalised digits
  std::string bank_code;
  std::string password_hash;  // Argon2id, libsodium's encoded string
  int failed_logins = 0;      // consecutive; includes attempts in flight
  TimePoint created_at{};
};

struct SessionRecord {
  Bytes token_hash;  // SHA-256 of the bearer token
  std::string customer_id;
  TimePoint created_at{};
  TimePoint expires_at{};
  int idn_failures = 0;  // consecutive wrong IDNs, including attempts in flight
  int otp_sends = 0;     // codes sent in this session
  std::optional<TimePoint> verified_at;
};

struct OtpRecord {
  Bytes code_mac;  // HMAC of the code
  TimePoint expires_at{};
  int failures = 0;  // wrong codes, including attempts in flight
};

struct ApplicationRecord {
  std::int64_t id = 0;  // assigned by insert_application
  std::string ref;      // 8-digit reference number
  std::string customer_id;
  Purpose purpose = Purpose::general;
  ApplicationKind kind = ApplicationKind::issue;
  Channel channel = Channel::app;
  Bytes auth_code_sealed;  // AES-GCM ciphertext of the authorization code
  ApplicationState state = ApplicationState::open;
  int mac_failures = 0;
  TimePoint created_at{};
  TimePoint expires_at{};
  std::optional<TimePoint> used_at;
  // kind reissue (schema version 2): the certificate replaced (registry serial
  // hex) and the notAfter the new certificate keeps.
  std::optional<std::string> replaces_serial;
  std::optional<TimePoint> not_after;
};

struct SmsRecord {
  std::int64_t id = 0;  // assigned by append_sms, increasing
  std::string phone;
  Bytes body;  // opaque to the store (the outbox gateway seals the text)
  TimePoint sent_at{};
};

// The outcome of reserving one attempt against a failure limit.
struct Attempt {
  bool allowed = false;  // false: the limit was already reached, nothing changed
  int failures = 0;      // the failure count after the reservation
};

class BankStore {
 public:
  virtual ~BankStore() = default;

  // --- customers
  // Errors: already_exists (same customer_id).
  virtual Status insert_customer(const CustomerRecord& c) = 0;
  // Errors: not_found.
  virtual Result<CustomerRecord> find_customer(std::string_view customer_id) = 0;
  // Atomically counts one login attempt as failed, unless failed_logins has
  // already reached max_failures (locked). A successful login then calls
  // reset_login_failures. Errors: not_found.
  virtual Result<Attempt> reserve_login_attempt(std::string_view customer_id, int max_failures) = 0;
  // Sets failed_logins to 0 (successful login, operator unlock). Errors: not_found.
  virtual Status reset_login_failures(std::string_view customer_id) = 0;

  // --- login sessions
  virtual Status insert_session(const SessionRecord& s) = 0;
  // Errors: not_found.
  virtual Result<SessionRecord> find_session(ByteView token_hash) = 0;
  virtual Status delete_session(ByteView token_hash) = 0;
  // Deletes sessions (and their codes) that expired before `before`.
  virtual Status purge_sessions(TimePoint before) = 0;
  // Atomically counts one identity check as failed unless idn_failures has
  // reached max_failures. Errors: not_found.
  virtual Result<Attempt> reserve_idn_attempt(ByteView token_hash, int max_failures) = 0;
  virtual Status reset_idn_failures(ByteView token_hash) = 0;
  // Sets verified_at and deletes the session's code. Errors: not_found.
  virtual Status mark_session_verified(ByteView token_hash, TimePoint at) = 0;

  // --- one-time codes (at most one per session)
  // Atomically replaces the session's code with otp (failures reset to 0) and
  // counts one send, unless otp_sends has reached max_sends: then false and
  // nothing changes. Errors: not_found (no such session).
  virtual Result<bool> put_otp(ByteView token_hash, const OtpRecord& otp, int max_sends) = 0;
  // Errors: not_found (no code for this session).
  virtual Result<OtpRecord> find_otp(ByteView token_hash) = 0;
  // Atomically counts one wrong code unless failures has reached
  // max_failures. Errors: not_found.
  virtual Result<Attempt> reserve_otp_attempt(ByteView token_hash, int max_failures) = 0;

  // --- applications. A reference number may come back only long after its
  // last application expired; lookups by ref see the newest application.
  // Inserts a (its id is ignored) and returns its id, atomically refusing with
  // already_exists when an application with the same ref expires after
  // `ref_busy_after` (pass now minus a quarantine period).
  virtual Result<std::int64_t> insert_application(const ApplicationRecord& a,
                                                  TimePoint ref_busy_after) = 0;
  // Errors: not_found.
  virtual Result<ApplicationRecord> find_application(std::string_view ref) = 0;
  // Atomically adds one MAC failure to an open application, locking it when
  // the count reaches max_failures; returns the record afterwards (unchanged
  // when it was not open). Errors: not_found.
  virtual Result<ApplicationRecord> record_mac_failure(std::string_view ref, int max_failures) = 0;
  // Atomically moves an open, unexpired (expires_at > now) application to
  // used: true for exactly one caller, false for everyone else (then look at
  // find_application to see why). Errors: not_found.
  virtual Result<bool> mark_application_used(std::string_view ref, TimePoint now) = 0;

  // --- SMS outbox (development gateway)
  virtual Status append_sms(const SmsRecord& m) = 0;
  // Messages in sending order, all or those to one phone.
  virtual Result<std::vector<SmsRecord>> list_sms(std::optional<std::string_view> phone) = 0;
};

// Opens (creating and migrating as needed) a SQLite bank store in its own
// database file. Errors: see Database::open and Database::migrate.
Result<std::unique_ptr<BankStore>> open_sqlite_bank_store(const std::filesystem::path& path);
// A bank store in a shared database (dojangd keeps the bank's and the CA's
// tables in one file); applies the "bank" migrations.
Result<std::unique_ptr<BankStore>> sqlite_bank_store(std::shared_ptr<Database> db);

}  // namespace dojang::store
