#include "store/internal/bank_schema.hpp"

namespace dojang::store::internal {

namespace {

// Published steps never change; add new ones at the end.
constexpr Migration kSteps[] = {
    {1, "customers, sessions, codes, applications, outbox", R"sql(
CREATE TABLE bank_customers (
  customer_id   TEXT PRIMARY KEY,
  real_name     TEXT NOT NULL,
  idn_sealed    BLOB NOT NULL,
  idn_mac       BLOB NOT NULL,
  phone         TEXT NOT NULL,
  bank_code     TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE bank_sessions (
  token_hash   BLOB PRIMARY KEY,
  customer_id  TEXT NOT NULL REFERENCES bank_customers (customer_id) ON DELETE CASCADE,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  idn_failures INTEGER NOT NULL DEFAULT 0,
  otp_sends    INTEGER NOT NULL DEFAULT 0,
  verified_at  INTEGER
) STRICT;
CREATE INDEX bank_sessions_expiry ON bank_sessions (expires_at);
CREATE INDEX bank_sessions_customer ON bank_sessions (customer_id);

CREATE TABLE bank_otps (
  token_hash BLOB PRIMARY KEY REFERENCES bank_sessions (token_hash) ON DELETE CASCADE,
  code_mac   BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  failures   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE bank_applications (
  id               INTEGER PRIMARY KEY,
  ref              TEXT NOT NULL,
  customer_id      TEXT NOT NULL REFERENCES bank_customers (customer_id),
  purpose          TEXT NOT NULL CHECK (purpose IN ('general', 'bank_insurance')),
  kind             TEXT NOT NULL CHECK (kind IN ('issue', 'reissue')),
  channel          TEXT NOT NULL CHECK (channel IN ('app', 'teller')),
  auth_code_sealed BLOB NOT NULL,
  state            TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'used', 'locked')),
  mac_failures     INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  used_at          INTEGER
) STRICT;
CREATE INDEX bank_applications_ref ON bank_applications (ref, id);
CREATE INDEX bank_applications_customer ON bank_applications (customer_id);

CREATE TABLE bank_sms_outbox (
  id      INTEGER PRIMARY KEY,
  phone   TEXT NOT NULL,
  body    BLOB NOT NULL,
  sent_at INTEGER NOT NULL
) STRICT;
CREATE INDEX bank_sms_outbox_phone ON bank_sms_outbox (phone, id);
)sql"},
    // Re-issuance (재발급): a reissue application names the certificate it
    // replaces and the notAfter the new one inherits (the old one's).
    {2, "re-issue applications", R"sql(
ALTER TABLE bank_applications ADD COLUMN replaces_serial TEXT;
ALTER TABLE bank_applications ADD COLUMN not_after INTEGER;
)sql"},
};

}  // namespace

std::span<const Migration> bank_migrations() noexcept {
  return kSteps;
}

}  // namespace dojang::store::internal
