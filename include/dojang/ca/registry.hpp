// The CA's record of every certificate it has issued, in the dojangd database
// (table ca_certificates, module "ca").
//
// Life of a record:
//   pending              the certificate was signed and is about to be sent in an ip/cp;
//                        written durably BEFORE the response leaves the CA
//   confirmed            the holder accepted it (certConf) - only now is it "issued"
//   rejected             the holder refused it in its certConf
//   revoked_unconfirmed  no certConf arrived within the timeout (expire_unconfirmed)
// rejected and revoked_unconfirmed certificates must be reported revoked by OCSP and CRLs.
//
// The serial number (lowercase hex, no leading zeros stripped: the exact
// big-endian bytes) is the primary key, so a duplicate serial is impossible:
// record_pending fails with already_exists instead.
//
// Thread safety: safe to call from many threads (the Database serialises).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/store/database.hpp"

namespace dojang::ca {

enum class CertStatus { pending, confirmed, rejected, revoked_unconfirmed };

// "pending", "confirmed", "rejected", "revoked_unconfirmed".
const char* cert_status_name(CertStatus status) noexcept;

struct CertificateRecord {
  std::string serial_hex;  // lowercase hex of the serial's big-endian bytes
  std::string customer_id;
  std::string application_ref;
  std::string subject;  // RFC 2253 form
  TimePoint not_before;
  TimePoint not_after;
  CertStatus status = CertStatus::pending;
  Bytes der;                   // the certificate
  std::string transaction_id;  // CMP transactionID, hex
  TimePoint created_at;
  std::optional<TimePoint> confirmed_at;
};

struct RegistryCounts {
  std::int64_t pending = 0;
  std::int64_t confirmed = 0;
  std::int64_t rejected = 0;
  std::int64_t revoked_unconfirmed = 0;
  std::int64_t total() const noexcept {
    return pending + confirmed + rejected + revoked_unconfirmed;
  }
};

// Default time a holder has to confirm a certificate.
inline constexpr std::chrono::seconds kConfirmTimeout{10 * 60};

// Lowercase hex of serial bytes (the registry's key form).
std::string serial_to_hex(ByteView serial);

class Registry {
 public:
  // Applies the "ca" migrations to db. Errors: as Database::migrate.
  static Result<std::unique_ptr<Registry>> open(std::shared_ptr<store::Database> db,
                                                const Clock& clock);

  // Records a freshly signed certificate as pending (status and created_at are
  // set here); durable when it returns. Errors: usage (empty serial or
  // certificate), already_exists (the serial is taken), io.
  Status record_pending(const CertificateRecord& record);

  // certConf accepted the certificate: pending -> confirmed. Confirming a
  // confirmed certificate again succeeds (a repeated certConf). Errors:
  // not_found, policy (rejected or revoked: "certificate is <status>"), io.
  Status confirm(std::string_view serial_hex);

  // certConf refused the certificate: pending -> rejected. Errors: not_found,
  // policy (already confirmed or revoked), io.
  Status reject(std::string_view serial_hex);

  // Errors: not_found, io.
  Result<CertificateRecord> find(std::string_view serial_hex);

  // Marks every pending certificate created more than timeout ago
  // revoked_unconfirmed; returns how many. Errors: io.
  Result<std::int64_t> expire_unconfirmed(std::chrono::seconds timeout = kConfirmTimeout);

  // How many records are in each state. Errors: io.
  Result<RegistryCounts> counts();

 private:
  Registry(std::shared_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(&clock) {}
  Status transition(std::string_view serial_hex, CertStatus to);

  std::shared_ptr<store::Database> db_;
  const Clock* clock_;
};

}  // namespace dojang::ca
