#include "dojang/ca/registry.hpp"

#include <array>

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
};

constexpr std::array<CertStatus, 4> kStatuses = {CertStatus::pending, CertStatus::confirmed,
                                                 CertStatus::rejected,
                                                 CertStatus::revoked_unconfirmed};

Result<CertStatus> parse_status(const std::string& s) {
  for (CertStatus st : kStatuses)
    if (s == cert_status_name(st)) return st;
  return Error{Errc::invalid_input, "unknown certificate status in the database: " + s};
}

}  // namespace

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
  return db_->transaction([&](Connection& c) -> Status {
    DOJANG_ASSIGN(auto st,
                  c.prepare("INSERT INTO ca_certificates (serial, customer_id, application_ref, "
                            "subject, not_before, not_after, status, der, transaction_id, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)"));
    st.bind(1, std::string_view(r.serial_hex))
        .bind(2, std::string_view(r.customer_id))
        .bind(3, std::string_view(r.application_ref))
        .bind(4, std::string_view(r.subject))
        .bind(5, store::to_unix(r.not_before))
        .bind(6, store::to_unix(r.not_after))
        .bind(7, ByteView(r.der))
        .bind(8, std::string_view(r.transaction_id))
        .bind(9, now);
    if (Status s = st.run(); !s.ok()) {
      if (s.error().code == Errc::already_exists)
        return Error{Errc::already_exists,
                     "certificate serial " + r.serial_hex + " already exists"};
      return s;
    }
    return {};
  });
}

Status Registry::transition(std::string_view serial_hex, CertStatus to) {
  const std::int64_t now = store::to_unix(clock_->now());
  return db_->transaction([&](Connection& c) -> Status {
    DOJANG_ASSIGN(auto upd, c.prepare("UPDATE ca_certificates SET status = ?, confirmed_at = "
                                      "CASE WHEN ? = 'confirmed' THEN ? ELSE confirmed_at END "
                                      "WHERE serial = ? AND status = 'pending'"));
    upd.bind(1, std::string_view(cert_status_name(to)))
        .bind(2, std::string_view(cert_status_name(to)))
        .bind(3, now)
        .bind(4, serial_hex);
    DOJANG_TRY(upd.run());
    if (c.changes() == 1) return {};
    DOJANG_ASSIGN(auto q, c.prepare("SELECT status FROM ca_certificates WHERE serial = ?"));
    q.bind(1, serial_hex);
    DOJANG_ASSIGN(bool row, q.step());
    if (!row)
      return Error{Errc::not_found, "no certificate with serial " + std::string(serial_hex)};
    DOJANG_ASSIGN(CertStatus now_status, parse_status(q.text(0)));
    if (now_status == to && to == CertStatus::confirmed) return {};  // repeated certConf
    return Error{Errc::policy,
                 "certificate " + std::string(serial_hex) + " is " + cert_status_name(now_status)};
  });
}

Status Registry::confirm(std::string_view serial_hex) {
  return transition(serial_hex, CertStatus::confirmed);
}

Status Registry::reject(std::string_view serial_hex) {
  return transition(serial_hex, CertStatus::rejected);
}

Result<CertificateRecord> Registry::find(std::string_view serial_hex) {
  auto c = db_->lease();
  DOJANG_ASSIGN(auto q,
                c->prepare("SELECT serial, customer_id, application_ref, subject, "
                           "not_before, not_after, status, der, transaction_id, "
                           "created_at, confirmed_at FROM ca_certificates WHERE serial = ?"));
  q.bind(1, serial_hex);
  DOJANG_ASSIGN(bool row, q.step());
  if (!row) return Error{Errc::not_found, "no certificate with serial " + std::string(serial_hex)};
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
  return r;
}

Result<std::int64_t> Registry::expire_unconfirmed(std::chrono::seconds timeout) {
  const std::int64_t cutoff = store::to_unix(clock_->now() - timeout);
  return db_->transaction([&](Connection& c) -> Result<std::int64_t> {
    DOJANG_ASSIGN(auto upd, c.prepare("UPDATE ca_certificates SET status = 'revoked_unconfirmed' "
                                      "WHERE status = 'pending' AND created_at < ?"));
    upd.bind(1, cutoff);
    DOJANG_TRY(upd.run());
    return c.changes();
  });
}

Result<RegistryCounts> Registry::counts() {
  auto c = db_->lease();
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
