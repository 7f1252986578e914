// Expiry care and online status of the certificates in the wallet (design.md
// §1 flow 4: "the app warns before expiry"): what `dojang list` marks and
// what `dojang list --check` asks the CA's OCSP responder.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/verify.hpp"

namespace dojang::wallet {

// The renewal window: a certificate can be renewed (CMP kur) in its last 30 days.
inline constexpr long kRenewalWindowDays = 30;

enum class ExpiryState { valid, expiring, expired };
const char* expiry_state_name(ExpiryState s) noexcept;  // "valid", "expiring", "expired"

struct ExpiryMark {
  ExpiryState state = ExpiryState::valid;
  long days_left = 0;  // negative once expired
  std::string advice;  // "" when valid; else what to do, naming the dojang command
};

// valid; expiring (notAfter within kRenewalWindowDays: "renew with: dojang
// renew <serial>"); expired ("re-issue with: dojang reissue --serial <serial>").
ExpiryMark expiry_mark(const pki::Certificate& cert, const Clock& clock);

enum class OnlineState { good, revoked, suspended, unknown, unreachable };
const char* online_state_name(OnlineState s) noexcept;  // "good", ..., "unreachable"

struct OnlineStatus {
  OnlineState state = OnlineState::unreachable;
  std::string reason;                   // CRLReason name when revoked / suspended
  std::optional<TimePoint> revoked_at;  // when revoked / suspended
  std::string url;                      // the OCSP responder that answered
  std::string detail;                   // why unreachable / unknown
  std::string advice;                   // what to do ("" when good)
};

// Asks the certificate's OCSP responder (its AIA) for its status. The issuer
// certificate comes from the AIA caIssuers URL and must chain to one of
// `trust` (the root pinned at issuance) and have signed the certificate; the
// OCSP response is checked by pki::check_ocsp_response. Never fails: every
// problem (no network, bad answer, issuer not found) is an `unreachable` status
// with its detail.
OnlineStatus check_online(const pki::Certificate& cert, const std::vector<pki::Certificate>& trust,
                          pki::Fetcher& fetcher, const Clock& clock);

}  // namespace dojang::wallet
