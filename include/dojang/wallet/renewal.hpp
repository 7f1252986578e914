// Renewal (갱신) and revocation with the key (design.md §1 flow 4): CMP kur
// and rr signed with the current certificate's key.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/key.hpp"
#include "dojang/pki/keyfile.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"
#include "dojang/wallet/store.hpp"

namespace dojang::wallet {

enum class LifecycleStep {
  credential,       // select and unlock the stored credential
  window,           // the local checks: renewal window, expiry
  ca_certificates,  // genm, signed with the current key
  key_generation,   // new key pair and R, EncryptedVID
  certificate_request,  // kur + certConf, or rr
  certificate_check,    // the new certificate: our key, our VID
  storing,
};

// "credential", "renewal window", ... (for messages and --json).
const char* lifecycle_step_name(LifecycleStep step) noexcept;

// A certificate may be renewed from `window` before its notAfter until then.
inline constexpr std::chrono::days kRenewalWindow{30};

// The date renewal opens for a certificate: notAfter - window.
TimePoint renewal_opens(const pki::CertificateInfo& info,
                        std::chrono::days window = kRenewalWindow);

// ok when now is inside the renewal window of info; policy otherwise:
// "certificate 0x<s> cannot be renewed yet: the renewal window opens on
// <date> (30 days before it expires on <date>)" or "certificate 0x<s>
// expired on <date>: it cannot be renewed; apply for a new certificate".
Status check_renewal_window(const pki::CertificateInfo& info, const Clock& clock,
                            std::chrono::days window = kRenewalWindow);

struct LifecycleParams {
  std::string server;   // base URL; CMP at server + "/pkix/"
  std::string cmp_url;  // overrides it
  int timeout_seconds = 30;
  std::optional<pki::Certificate> trusted_root;  // required
  NpkiStore* store = nullptr;
  std::string selector;   // SEL
  SecretString password;  // the certificate password
  const Clock* clock = nullptr;
  std::function<void(LifecycleStep step, std::string_view message)> progress;
};

struct RenewParams : LifecycleParams {
  // The holder's IDN (13 digits), required when the certificate carries a VID:
  // the new R needs a new VID, sent to the CA in an EncryptedVID.
  std::optional<SecretString> idn;
  std::chrono::days window = kRenewalWindow;
  // The new key pair; default RSA-2048. A seam for tests.
  std::function<Result<pki::PrivateKey>()> make_key;
  pki::KeyFileOptions key_format;  // the new key file, under the same password
};

struct RenewOutcome {
  StoredCredential stored;     // the new credential
  pki::CertificateInfo info;   // of the new certificate
  std::string old_serial_hex;  // the renewed (now superseded) certificate
  std::filesystem::path archived;  // where the old credential was moved
  bool vid_verified = false;
};

// Renews the selected certificate: unlock with the password, local window
// check, CA certificates by signed genm, a new key and R made here,
// EncryptedVID, kur signed with the current key, certConf; the new key is
// encrypted with the same password and stored in the NPKI layout; the old
// credential is moved aside (NpkiStore::retire "superseded"), not deleted.
// Errors name the step: usage, not_found / ambiguous (SEL), wrong_password,
// policy (outside the window, expired, refused by the CA: revoked, ...),
// invalid_input (IDN does not match the VID, an answer that does not check
// out), io (network, disk).
Result<RenewOutcome> renew_certificate(RenewParams& params);

// The CRLReasons a holder may give (RFC 5280 section 5.3.1): unspecified (0),
// keyCompromise (1), affiliationChanged (3), superseded (4),
// cessationOfOperation (5). Parses the name (case-insensitively, '-' and '_'
// ignored) or the number. Errors: usage listing the names.
Result<int> parse_holder_revocation_reason(std::string_view text);
// "keyCompromise", ... for the numbers above; "unspecified" otherwise.
const char* holder_revocation_reason_name(int reason) noexcept;

struct RevokeParams : LifecycleParams {
  int reason = 0;  // RFC 5280 CRLReason: 0, 1, 3, 4 or 5
};

struct RevokeOutcome {
  pki::CertificateInfo info;
  std::filesystem::path archived;  // where the revoked credential was moved
};

// Revokes the selected certificate with an rr signed with its own key, then
// moves the credential aside (NpkiStore::retire "revoked"; the files are
// kept). Errors as renew_certificate.
Result<RevokeOutcome> revoke_with_key(RevokeParams& params);

}  // namespace dojang::wallet
