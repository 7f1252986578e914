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
// Revocation is kept beside the status (schema version 2): a confirmed certificate
// with a revocation time is revoked (revoke), or suspended while its reason is
// certificateHold (unhold resumes it). Every change bumps the registry's revision
// and stamps the changed rows with it, so that OCSP and CRLs in this and other
// processes (`dojangd ca revoke` next to `dojangd serve`) pick up exactly what
// changed (changes_since).
//
// The serial number (lowercase hex, no leading zeros stripped: the exact
// big-endian bytes) is the primary key, so a duplicate serial is impossible:
// record_pending fails with already_exists instead.
//
// Thread safety: safe to call from many threads (the Database serialises).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/store/database.hpp"

namespace dojang::ca {

enum class CertStatus { pending, confirmed, rejected, revoked_unconfirmed };

// "pending", "confirmed", "rejected", "revoked_unconfirmed".
const char* cert_status_name(CertStatus status) noexcept;

// RFC 5280 section 5.3.1:
//   CRLReason ::= ENUMERATED { unspecified (0), keyCompromise (1), cACompromise (2),
//     affiliationChanged (3), superseded (4), cessationOfOperation (5),
//     certificateHold (6), -- value 7 is not used
//     removeFromCRL (8), privilegeWithdrawn (9), aACompromise (10) }
enum class RevocationReason : int {
  unspecified = 0,
  key_compromise = 1,
  ca_compromise = 2,
  affiliation_changed = 3,
  superseded = 4,
  cessation_of_operation = 5,
  certificate_hold = 6,
  remove_from_crl = 8,
  privilege_withdrawn = 9,
  aa_compromise = 10,
};

// The RFC 5280 name: "keyCompromise", "certificateHold", ...
const char* revocation_reason_name(RevocationReason reason) noexcept;
// Parses a reason by its RFC 5280 name, case-insensitively, also with '-' or '_'
// between the words ("key-compromise", "certificate_hold"), "hold" for
// certificateHold, or its number. Errors: usage.
Result<RevocationReason> parse_revocation_reason(std::string_view text);

// A serial number as typed by an operator: 0x-prefixed hex or decimal (like the
// wallet's SEL) -> the registry's key form (lowercase hex of the minimal
// big-endian bytes). Errors: usage.
Result<std::string> parse_serial(std::string_view text);

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
  // Set once revoked (revoke(), or when rejected / revoked_unconfirmed).
  std::optional<TimePoint> revoked_at;
  std::optional<RevocationReason> revocation_reason;  // absent: no reason code
  std::int64_t change_seq = 0;  // the registry revision of the record's last change

  // Whether OCSP and CRLs report the certificate revoked (or on hold).
  bool revoked() const noexcept {
    return status == CertStatus::rejected || status == CertStatus::revoked_unconfirmed ||
           revoked_at.has_value();
  }
};

// What OCSP and CRLs need of a record (no certificate bytes).
struct StatusEntry {
  std::string serial_hex;
  CertStatus status = CertStatus::pending;
  TimePoint not_after;
  TimePoint created_at;
  std::optional<TimePoint> revoked_at;  // for rejected / revoked_unconfirmed: when (or created_at)
  std::optional<RevocationReason> reason;
  std::int64_t change_seq = 0;
  bool revoked() const noexcept {
    return status == CertStatus::rejected || status == CertStatus::revoked_unconfirmed ||
           revoked_at.has_value();
  }
  // The revocation time reported: revoked_at, else created_at.
  TimePoint revocation_time() const noexcept { return revoked_at.value_or(created_at); }
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
// The bytes of a registry serial (hex). Errors: invalid_input.
Result<Bytes> serial_from_hex(std::string_view hex);

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

  // certConf accepted a certificate that replaces old_serial: in one
  // transaction, new_serial pending -> confirmed and old_serial (which must be
  // confirmed) revoked at `when` with reason superseded. Nothing changes
  // unless both do; a repeated certConf succeeds.
  //  - renewal (CMP kur): the old certificate must be neither revoked nor on
  //    hold ("certificate <old> is already revoked (superseded)").
  //  - reissue (재발급 through the bank): a good or suspended old certificate
  //    is superseded; one already revoked for another reason (keyCompromise
  //    after a lost phone) keeps its reason and time.
  // Errors: not_found, policy ("certificate <new> is rejected", ...), io.
  enum class Replaced { renewal, reissue };
  Status confirm_superseding(std::string_view new_serial, std::string_view old_serial,
                             TimePoint when, Replaced replaced = Replaced::renewal);

  // certConf refused the certificate: pending -> rejected. Errors: not_found,
  // policy (already confirmed or revoked), io.
  Status reject(std::string_view serial_hex);

  // Errors: not_found, io.
  Result<CertificateRecord> find(std::string_view serial_hex);
  // Every certificate issued to a customer, oldest first (any status). Errors: io.
  Result<std::vector<CertificateRecord>> list_for_customer(std::string_view customer_id);

  // Marks every pending certificate created more than timeout ago
  // revoked_unconfirmed; returns how many. Errors: io.
  Result<std::int64_t> expire_unconfirmed(std::chrono::seconds timeout = kConfirmTimeout);

  // How many records are in each state. Errors: io.
  Result<RegistryCounts> counts();

  // Revokes a confirmed certificate at `when` with `reason` (certificateHold
  // suspends it). A certificate on hold may be revoked for good with another
  // reason. Errors: usage (removeFromCRL: use unhold), not_found, policy
  // ("certificate <s> is pending" / "... is already revoked (<reason>)"), io.
  Status revoke(std::string_view serial_hex, RevocationReason reason, TimePoint when);

  // Resumes a certificate on hold (certificateHold -> good again). Errors:
  // not_found, policy (not on hold: "certificate <s> is not suspended"), io.
  Status unhold(std::string_view serial_hex);

  // Every certificate OCSP and CRLs must report revoked (confirmed and revoked
  // or on hold, rejected, revoked_unconfirmed), ordered by serial. Errors: io.
  Result<std::vector<StatusEntry>> list_revoked();
  // The revoked entries whose serial falls in CRL partition `partition` of `partitions`.
  Result<std::vector<StatusEntry>> list_revoked(unsigned partition, unsigned partitions);

  // The registry revision: increases with every change of any record. Errors: io.
  Result<std::int64_t> revision();
  // The records changed after revision `since` (every record for since < 0;
  // records older than schema version 2 carry change_seq 0), ordered by
  // change_seq. Errors: io.
  Result<std::vector<StatusEntry>> changes_since(std::int64_t since);

  // The next CRL number (persisted; strictly increasing across restarts and
  // processes). Errors: io.
  Result<std::int64_t> next_crl_number();

  // Called (on the writing thread, after the commit) with the new revision after
  // every change made through this Registry object. One listener; replaces the
  // previous one. Must not call back into the Registry's writers.
  void set_change_listener(std::function<void(std::int64_t)> listener);

 private:
  Registry(std::shared_ptr<store::Database> db, const Clock& clock)
      : db_(std::move(db)), clock_(&clock) {}
  Status transition(std::string_view serial_hex, CertStatus to);
  void notify(std::int64_t revision);

  std::shared_ptr<store::Database> db_;
  const Clock* clock_;
  std::mutex listener_mu_;
  std::function<void(std::int64_t)> listener_;
};

}  // namespace dojang::ca
