#include "dojang/ca/registry.hpp"

#include <openssl/bn.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "dojang/ca/issue.hpp"
#include "pki/internal/ossl.hpp"

namespace dojang::ca {

namespace {

using store::Connection;

// Published steps never change; add new ones at the end.
constexpr store::Migration kSteps[] = {
    {1, "certificates", R"sql(
CREATE TABLE ca_certificates (
  serial          TEXT PRIMARY KEY,
  customer_id     TEXT NOT NULL,
  application_ref TEXT NOT NULL,
  subject         TEXT NOT NULL,
  not_before      INTEGER NOT NULL,
  not_after       INTEGER NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'confirmed', 'rejected', 'revoked_unconfirmed')),
  der             BLOB NOT NULL,
  transaction_id  TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  confirmed_at    INTEGER
) STRICT;
CREATE INDEX ca_certificates_status ON ca_certificates (status, created_at);
CREATE INDEX ca_certificates_customer ON ca_certificates (customer_id);
)sql"},
    // Revocation beside the issuance status (the CHECK above stays as it is):
    // a confirmed row with revoked_at is revoked, or on hold with reason 6.
    // change_seq stamps each row with the revision of its last change.
    {2, "revocation", R"sql(
ALTER TABLE ca_certificates ADD COLUMN revoked_at INTEGER;
ALTER TABLE ca_certificates ADD COLUMN revocation_reason INTEGER
  CHECK (revocation_reason IS NULL OR revocation_reason BETWEEN 0 AND 10);
ALTER TABLE ca_certificates ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ca_certificates_change ON ca_certificates (change_seq);
CREATE TABLE ca_counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT;
INSERT INTO ca_counters (name, value) VALUES ('revision', 0), ('crl_number', 0);
)sql"},
};

constexpr const char* kStatusColumns =
    "serial, status, not_after, created_at, revoked_at, revocation_reason, change_seq";

// Bumps the registry revision inside a transaction; returns the new value.
Result<std::int64_t> bump_revision(Connection& c) {
  DOJANG_ASSIGN(auto st, c.prepare("UPDATE ca_counters SET value = value + 1 "
                                   "WHERE name = 'revision' RETURNING value"));
  DOJANG_ASSIGN(bool row, st.step());
  if (!row) return Error{Errc::io, "the registry revision counter is missing"};
  return st.int64(0);
}

constexpr std::array<CertStatus, 4> kStatuses = {CertStatus::pending, CertStatus::confirmed,
                                                 CertStatus::rejected,
                                                 CertStatus::revoked_unconfirmed};

Result<CertStatus> parse_status(const std::string& s) {
  for (CertStatus st : kStatuses)
    if (s == cert_status_name(st)) return st;
  return Error{Errc::invalid_input, "unknown certificate status in the database: " + s};
}

constexpr RevocationReason kReasons[] = {
    RevocationReason::unspecified,         RevocationReason::key_compromise,
    RevocationReason::ca_compromise,       RevocationReason::affiliation_changed,
    RevocationReason::superseded,          RevocationReason::cessation_of_operation,
    RevocationReason::certificate_hold,    RevocationReason::remove_from_crl,
    RevocationReason::privilege_withdrawn, RevocationReason::aa_compromise,
};

Result<StatusEntry> read_status(const store::Statement& q) {
  StatusEntry e;
  e.serial_hex = q.text(0);
  DOJANG_ASSIGN(e.status, parse_status(q.text(1)));
  e.not_after = store::from_unix(q.int64(2));
  e.created_at = store::from_unix(q.int64(3));
  if (!q.is_null(4)) e.revoked_at = store::from_unix(q.int64(4));
  if (!q.is_null(5)) e.reason = static_cast<RevocationReason>(q.int64(5));
  e.change_seq = q.int64(6);
  return e;
}

// Every row of q, each read by `read` (a Result<T>(const Statement&)).
template <class T>
Result<std::vector<T>> read_rows(store::Statement& q, Result<T> (*read)(const store::Statement&)) {
  std::vector<T> out;
  for (;;) {
    DOJANG_ASSIGN(bool row, q.step());
    if (!row) break;
    DOJANG_ASSIGN(T e, read(q));
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<StatusEntry>> read_all(store::Statement& q) {
  return read_rows<StatusEntry>(q, &read_status);
}

}  // namespace

const char* revocation_reason_name(RevocationReason reason) noexcept {
  switch (reason) {
    case RevocationReason::unspecified:
      return "unspecified";
    case RevocationReason::key_compromise:
      return "keyCompromise";
    case RevocationReason::ca_compromise:
      return "cACompromise";
    case RevocationReason::affiliation_changed:
      return "affiliationChanged";
    case RevocationReason::superseded:
      return "superseded";
    case RevocationReason::cessation_of_operation:
      return "cessationOfOperation";
    case RevocationReason::certificate_hold:
      return "certificateHold";
    case RevocationReason::remove_from_crl:
      return "removeFromCRL";
    case RevocationReason::privilege_withdrawn:
      return "privilegeWithdrawn";
    case RevocationReason::aa_compromise:
      return "aACompromise";
  }
  return "?";
}

Result<RevocationReason> parse_revocation_reason(std::string_view text) {
  auto fold = [](std::string_view s) {
    std::string out;
    for (char c : s)
      if (c != '-' && c != '_' && c != ' ')
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string want = fold(text);
  if (want == "hold" || want == "suspend" || want == "suspended")
    return RevocationReason::certificate_hold;
  for (RevocationReason r : kReasons) {
    if (want == fold(revocation_reason_name(r)) || want == std::to_string(static_cast<int>(r)))
      return r;
  }
  return Error{Errc::usage,
               "unknown revocation reason '" + std::string(text) +
                   "' (unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
                   "cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise)"};
}

Result<Bytes> serial_from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.empty() || hex.size() % 2 != 0)
    return Error{Errc::invalid_input, "malformed serial '" + std::string(hex) + "'"};
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error{Errc::invalid_input, "malformed serial '" + std::string(hex) + "'"};
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

Result<std::string> parse_serial(std::string_view text) {
  std::string digits(text);
  bool is_hex = digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
  if (is_hex) digits.erase(0, 2);
  const char* allowed = is_hex ? "0123456789abcdefABCDEF" : "0123456789";
  if (digits.empty() || digits.size() > 80 ||
      digits.find_first_not_of(allowed) != std::string::npos)
    return Error{Errc::usage,
                 "a serial number is 0x-prefixed hex or decimal: '" + std::string(text) + "'"};
  BIGNUM* raw = nullptr;
  int n = is_hex ? ::BN_hex2bn(&raw, digits.c_str()) : ::BN_dec2bn(&raw, digits.c_str());
  pki::internal::Ptr<BIGNUM> bn(raw);
  if (n == 0 || !bn) return Error{Errc::usage, pki::internal::drain_errors("parsing the serial")};
  if (::BN_is_zero(bn.get())) return Error{Errc::usage, "a serial number is positive"};
  Bytes bytes(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  ::BN_bn2bin(bn.get(), bytes.data());
  return serial_to_hex(bytes);
}

const char* cert_status_name(CertStatus status) noexcept {
  switch (status) {
    case CertStatus::pending:
      return "pending";
    case CertStatus::confirmed:
      return "confirmed";
    case CertStatus::rejected:
      return "rejected";
    case CertStatus::revoked_unconfirmed:
      return "revoked_unconfirmed";
  }
  return "?";
}

std::string serial_to_hex(ByteView serial) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(serial.size() * 2);
  for (std::uint8_t b : serial) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Result<std::unique_ptr<Registry>> Registry::open(std::shared_ptr<store::Database> db,
                                                 const Clock& clock) {
  if (!db) return Error{Errc::usage, "no database for the certificate registry"};
  DOJANG_TRY(db->migrate("ca", kSteps));
  return std::unique_ptr<Registry>(new Registry(std::move(db), clock));
}

Status Registry::record_pending(const CertificateRecord& r) {
  if (r.serial_hex.empty() || r.der.empty())
    return Error{Errc::usage, "a certificate record needs a serial and the certificate"};
  const std::int64_t now = store::to_unix(clock_->now());
  auto rev = db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(std::int64_t revision, bump_revision(c));
    DOJANG_ASSIGN(
        auto st,
        c.prepare("INSERT INTO ca_certificates (serial, customer_id, application_ref, "
                  "subject, not_before, not_after, status, der, transaction_id, "
                  "created_at, change_seq) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)"));
    st.bind(1, std::string_view(r.serial_hex))
        .bind(2, std::string_view(r.customer_id))
        .bind(3, std::string_view(r.application_ref))
        .bind(4, std::string_view(r.subject))
        .bind(5, store::to_unix(r.not_before))
        .bind(6, store::to_unix(r.not_after))
        .bind(7, ByteView(r.der))
        .bind(8, std::string_view(r.transaction_id))
        .bind(9, now)
        .bind(10, revision);
    if (Status s = st.run(); !s.ok()) {
      if (s.error().code == Errc::already_exists)
        return Error{Errc::already_exists,
                     "certificate serial " + r.serial_hex + " already exists"};
      return std::move(s).error();
    }
    return revision;
  });
  if (!rev.ok()) return std::move(rev).error();
  notify(*rev);
  return {};
}

void Registry::set_change_listener(std::function<void(std::int64_t)> listener) {
  std::lock_guard<std::mutex> lock(listener_mu_);
  listener_ = std::move(listener);
}

void Registry::notify(std::int64_t revision) {
  std::function<void(std::int64_t)> l;
  {
    std::lock_guard<std::mutex> lock(listener_mu_);
    l = listener_;
  }
  if (l) l(revision);
}

Status Registry::transition(std::string_view serial_hex, CertStatus to) {
  const std::int64_t now = store::to_unix(clock_->now());
  // 0: nothing changed (a repeated certConf).
  auto rev = db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(auto upd,
                  c.prepare("UPDATE ca_certificates SET status = ?, confirmed_at = "
                            "CASE WHEN ? = 'confirmed' THEN ? ELSE confirmed_at END, "
                            "revoked_at = CASE WHEN ? = 'confirmed' THEN revoked_at ELSE ? END, "
                            "change_seq = (SELECT value + 1 FROM ca_counters WHERE name = "
                            "'revision') WHERE serial = ? AND status = 'pending'"));
    upd.bind(1, std::string_view(cert_status_name(to)))
        .bind(2, std::string_view(cert_status_name(to)))
        .bind(3, now)
        .bind(4, std::string_view(cert_status_name(to)))
        .bind(5, now)
        .bind(6, serial_hex);
    DOJANG_TRY(upd.run());
    if (c.changes() == 1) return bump_revision(c);
    DOJANG_ASSIGN(auto q, c.prepare("SELECT status FROM ca_certificates WHERE serial = ?"));
    q.bind(1, serial_hex);
    DOJANG_ASSIGN(bool row, q.step());
    if (!row)
      return Error{Errc::not_found, "no certificate with serial " + std::string(serial_hex)};
    DOJANG_ASSIGN(CertStatus now_status, parse_status(q.text(0)));
    if (now_status == to && to == CertStatus::confirmed)
      return std::int64_t{0};  // repeated certConf
    return Error{Errc::policy,
                 "certificate " + std::string(serial_hex) + " is " + cert_status_name(now_status)};
  });
  if (!rev.ok()) return std::move(rev).error();
  if (*rev != 0) notify(*rev);
  return {};
}

Status Registry::confirm(std::string_view serial_hex) {
  return transition(serial_hex, CertStatus::confirmed);
}

Status Registry::confirm_superseding(std::string_view new_serial, std::string_view old_serial,
                                     TimePoint when, Replaced replaced) {
  const bool reissue = replaced == Replaced::reissue;
  const std::int64_t now = store::to_unix(clock_->now());
  auto status_of = [](Connection& c, std::string_view serial) -> Result<CertificateRecord> {
    DOJANG_ASSIGN(auto q, c.prepare("SELECT status, revoked_at, revocation_reason "
                                    "FROM ca_certificates WHERE serial = ?"));
    q.bind(1, serial);
    DOJANG_ASSIGN(bool row, q.step());
    if (!row) return Error{Errc::not_found, "no certificate with serial " + std::string(serial)};
    CertificateRecord r;
    DOJANG_ASSIGN(r.status, parse_status(q.text(0)));
    if (!q.is_null(1)) r.revoked_at = store::from_unix(q.int64(1));
    if (!q.is_null(2)) r.revocation_reason = static_cast<RevocationReason>(q.int64(2));
    return r;
  };
  // 0: nothing changed (a repeated certConf).
  auto rev = db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(CertificateRecord fresh, status_of(c, new_serial));
    DOJANG_ASSIGN(CertificateRecord old, status_of(c, old_serial));
    const bool on_hold = old.revoked_at && old.revocation_reason == RevocationReason::certificate_hold;
    // Re-issue: an old certificate already revoked for a reason of its own
    // (keyCompromise after a lost phone) keeps it; a good or suspended one is
    // superseded.
    const bool keeps_reason = reissue && old.revoked_at && !on_hold;
    const bool superseded = old.status == CertStatus::confirmed && old.revoked_at &&
                            (old.revocation_reason == RevocationReason::superseded || keeps_reason);
    if (fresh.status == CertStatus::confirmed && superseded) return std::int64_t{0};
    if (fresh.status != CertStatus::pending)
      return Error{Errc::policy, "certificate " + std::string(new_serial) + " is " +
                                     cert_status_name(fresh.status)};
    if (old.status != CertStatus::confirmed)
      return Error{Errc::policy, "certificate " + std::string(old_serial) + " is " +
                                     cert_status_name(old.status)};
    if (old.revoked_at && !reissue)
      return Error{Errc::policy,
                   "certificate " + std::string(old_serial) + " is already " +
                       (old.revocation_reason == RevocationReason::certificate_hold
                            ? std::string("suspended (certificateHold)")
                            : std::string("revoked (") +
                                  (old.revocation_reason
                                       ? revocation_reason_name(*old.revocation_reason)
                                       : "no reason") +
                                  ")")};
    DOJANG_ASSIGN(std::int64_t revision, bump_revision(c));
    DOJANG_ASSIGN(auto confirm,
                  c.prepare("UPDATE ca_certificates SET status = 'confirmed', confirmed_at = ?, "
                            "change_seq = ? WHERE serial = ? AND status = 'pending'"));
    confirm.bind(1, now).bind(2, revision).bind(3, new_serial);
    DOJANG_TRY(confirm.run());
    if (keeps_reason) return revision;
    DOJANG_ASSIGN(auto revoke, c.prepare("UPDATE ca_certificates SET revoked_at = ?, "
                                         "revocation_reason = ?, change_seq = ? "
                                         "WHERE serial = ? AND (revoked_at IS NULL OR "
                                         "revocation_reason = ?)"));
    revoke.bind(1, store::to_unix(when))
        .bind(2, static_cast<std::int64_t>(RevocationReason::superseded))
        .bind(3, revision)
        .bind(4, old_serial)
        .bind(5, static_cast<std::int64_t>(RevocationReason::certificate_hold));
    DOJANG_TRY(revoke.run());
    return revision;
  });
  if (!rev.ok()) return std::move(rev).error();
  if (*rev != 0) notify(*rev);
  return {};
}

Status Registry::reject(std::string_view serial_hex) {
  return transition(serial_hex, CertStatus::rejected);
}

namespace {

constexpr const char* kRecordColumns =
    "serial, customer_id, application_ref, subject, not_before, not_after, status, der, "
    "transaction_id, created_at, confirmed_at, revoked_at, revocation_reason, change_seq";

Result<CertificateRecord> read_record(const store::Statement& q) {
  CertificateRecord r;
  r.serial_hex = q.text(0);
  r.customer_id = q.text(1);
  r.application_ref = q.text(2);
  r.subject = q.text(3);
  r.not_before = store::from_unix(q.int64(4));
  r.not_after = store::from_unix(q.int64(5));
  DOJANG_ASSIGN(r.status, parse_status(q.text(6)));
  r.der = q.blob(7);
  r.transaction_id = q.text(8);
  r.created_at = store::from_unix(q.int64(9));
  if (!q.is_null(10)) r.confirmed_at = store::from_unix(q.int64(10));
  if (!q.is_null(11)) r.revoked_at = store::from_unix(q.int64(11));
  if (!q.is_null(12)) r.revocation_reason = static_cast<RevocationReason>(q.int64(12));
  r.change_seq = q.int64(13);
  return r;
}

}  // namespace

Result<CertificateRecord> Registry::find(std::string_view serial_hex) {
  DOJANG_ASSIGN(auto c, db_->read());
  DOJANG_ASSIGN(auto q, c->prepare(std::string("SELECT ") + kRecordColumns +
                                   " FROM ca_certificates WHERE serial = ?"));
  q.bind(1, serial_hex);
  DOJANG_ASSIGN(bool row, q.step());
  if (!row) return Error{Errc::not_found, "no certificate with serial " + std::string(serial_hex)};
  return read_record(q);
}

Result<std::vector<CertificateRecord>> Registry::list_for_customer(std::string_view customer_id) {
  DOJANG_ASSIGN(auto c, db_->read());
  DOJANG_ASSIGN(auto q, c->prepare(std::string("SELECT ") + kRecordColumns +
                                   " FROM ca_certificates WHERE customer_id = ? "
                                   "ORDER BY created_at, serial"));
  q.bind(1, customer_id);
  return read_rows<CertificateRecord>(q, &read_record);
}

Result<std::int64_t> Registry::expire_unconfirmed(std::chrono::seconds timeout) {
  const std::int64_t now = store::to_unix(clock_->now());
  const std::int64_t cutoff = store::to_unix(clock_->now() - timeout);
  std::int64_t revision = 0;
  auto n = db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(
        auto upd,
        c.prepare("UPDATE ca_certificates SET status = 'revoked_unconfirmed', "
                  "revoked_at = ?, change_seq = (SELECT value + 1 FROM ca_counters "
                  "WHERE name = 'revision') WHERE status = 'pending' AND created_at < ?"));
    upd.bind(1, now).bind(2, cutoff);
    DOJANG_TRY(upd.run());
    std::int64_t changed = c.changes();
    if (changed > 0) {
      DOJANG_ASSIGN(revision, bump_revision(c));
    }
    return changed;
  });
  if (n.ok() && revision != 0) notify(revision);
  return n;
}

Status Registry::revoke(std::string_view serial_hex, RevocationReason reason, TimePoint when) {
  if (reason == RevocationReason::remove_from_crl)
    return Error{Errc::usage, "removeFromCRL is not a revocation reason: resume the certificate"};
  const std::string serial(serial_hex);
  auto rev = db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(auto q, c.prepare("SELECT status, revocation_reason, revoked_at "
                                    "FROM ca_certificates WHERE serial = ?"));
    q.bind(1, serial_hex);
    DOJANG_ASSIGN(bool row, q.step());
    if (!row) return Error{Errc::not_found, "no certificate with serial " + serial};
    DOJANG_ASSIGN(CertStatus st, parse_status(q.text(0)));
    if (st != CertStatus::confirmed)
      return Error{Errc::policy, "certificate " + serial + " is " + cert_status_name(st) +
                                     ": only confirmed certificates can be revoked"};
    if (!q.is_null(2)) {
      auto current = static_cast<RevocationReason>(q.int64(1));
      if (q.is_null(1) || current != RevocationReason::certificate_hold ||
          reason == RevocationReason::certificate_hold)
        return Error{
            Errc::policy,
            "certificate " + serial + " is already " +
                (!q.is_null(1) && current == RevocationReason::certificate_hold
                     ? std::string("suspended (certificateHold)")
                     : std::string("revoked (") +
                           (q.is_null(1) ? "no reason" : revocation_reason_name(current)) + ")")};
    }
    q.reset();
    DOJANG_ASSIGN(std::int64_t revision, bump_revision(c));
    DOJANG_ASSIGN(auto upd, c.prepare("UPDATE ca_certificates SET revoked_at = ?, "
                                      "revocation_reason = ?, change_seq = ? WHERE serial = ?"));
    upd.bind(1, store::to_unix(when))
        .bind(2, static_cast<std::int64_t>(reason))
        .bind(3, revision)
        .bind(4, serial_hex);
    DOJANG_TRY(upd.run());
    return revision;
  });
  if (!rev.ok()) return std::move(rev).error();
  notify(*rev);
  return {};
}

Status Registry::unhold(std::string_view serial_hex) {
  const std::string serial(serial_hex);
  auto rev = db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(auto q, c.prepare("SELECT revocation_reason, revoked_at FROM ca_certificates "
                                    "WHERE serial = ? AND status = 'confirmed'"));
    q.bind(1, serial_hex);
    DOJANG_ASSIGN(bool row, q.step());
    if (!row) {
      q.reset();
      DOJANG_ASSIGN(auto any, c.prepare("SELECT status FROM ca_certificates WHERE serial = ?"));
      any.bind(1, serial_hex);
      DOJANG_ASSIGN(bool exists, any.step());
      if (!exists) return Error{Errc::not_found, "no certificate with serial " + serial};
      return Error{Errc::policy,
                   "certificate " + serial + " is " + any.text(0) + ", not suspended"};
    }
    if (q.is_null(1) || q.is_null(0) ||
        static_cast<RevocationReason>(q.int64(0)) != RevocationReason::certificate_hold)
      return Error{Errc::policy, "certificate " + serial +
                                     (q.is_null(1) ? " is not suspended"
                                                   : " is revoked for good, not suspended")};
    q.reset();
    DOJANG_ASSIGN(std::int64_t revision, bump_revision(c));
    DOJANG_ASSIGN(auto upd, c.prepare("UPDATE ca_certificates SET revoked_at = NULL, "
                                      "revocation_reason = NULL, change_seq = ? WHERE serial = ?"));
    upd.bind(1, revision).bind(2, serial_hex);
    DOJANG_TRY(upd.run());
    return revision;
  });
  if (!rev.ok()) return std::move(rev).error();
  notify(*rev);
  return {};
}

Result<std::vector<StatusEntry>> Registry::list_revoked() {
  DOJANG_ASSIGN(auto c, db_->read());
  DOJANG_ASSIGN(auto q, c->prepare(std::string("SELECT ") + kStatusColumns +
                                   " FROM ca_certificates WHERE revoked_at IS NOT NULL OR status "
                                   "IN ('rejected', 'revoked_unconfirmed') ORDER BY serial"));
  return read_all(q);
}

Result<std::vector<StatusEntry>> Registry::list_revoked(unsigned partition, unsigned partitions) {
  DOJANG_ASSIGN(std::vector<StatusEntry> all, list_revoked());
  std::vector<StatusEntry> out;
  for (StatusEntry& e : all) {
    auto serial = serial_from_hex(e.serial_hex);
    if (serial.ok() && crl_partition(*serial, partitions) == partition) out.push_back(std::move(e));
  }
  return out;
}

Result<std::int64_t> Registry::revision() {
  DOJANG_ASSIGN(auto c, db_->read());
  DOJANG_ASSIGN(auto q, c->prepare("SELECT value FROM ca_counters WHERE name = 'revision'"));
  DOJANG_ASSIGN(bool row, q.step());
  if (!row) return Error{Errc::io, "the registry revision counter is missing"};
  return q.int64(0);
}

Result<std::vector<StatusEntry>> Registry::changes_since(std::int64_t since) {
  DOJANG_ASSIGN(auto c, db_->read());
  DOJANG_ASSIGN(auto q,
                c->prepare(std::string("SELECT ") + kStatusColumns +
                           " FROM ca_certificates WHERE change_seq > ? ORDER BY change_seq"));
  q.bind(1, since);
  return read_all(q);
}

Result<std::int64_t> Registry::next_crl_number() {
  return db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(auto st, c.prepare("UPDATE ca_counters SET value = value + 1 "
                                     "WHERE name = 'crl_number' RETURNING value"));
    DOJANG_ASSIGN(bool row, st.step());
    if (!row) return Error{Errc::io, "the CRL number counter is missing"};
    return st.int64(0);
  });
}

Result<RegistryCounts> Registry::counts() {
  DOJANG_ASSIGN(auto c, db_->read());
  DOJANG_ASSIGN(auto q, c->prepare("SELECT status, COUNT(*) FROM ca_certificates GROUP BY status"));
  RegistryCounts out;
  for (;;) {
    DOJANG_ASSIGN(bool row, q.step());
    if (!row) break;
    DOJANG_ASSIGN(CertStatus st, parse_status(q.text(0)));
    std::int64_t n = q.int64(1);
    switch (st) {
      case CertStatus::pending:
        out.pending = n;
        break;
      case CertStatus::confirmed:
        out.confirmed = n;
        break;
      case CertStatus::rejected:
        out.rejected = n;
        break;
      case CertStatus::revoked_unconfirmed:
        out.revoked_unconfirmed = n;
        break;
    }
  }
  return out;
}

}  // namespace dojang::ca
