// Relying-party verification: certification path validation (RFC 5280 §6),
// revocation checking by OCSP (RFC 6960) and CRLs (RFC 5280 §5, partitioned
// CRLs with issuingDistributionPoint), the Korean purpose policy and the VID
// check, and the one pipeline that runs them all over a signature.
//
// pki never touches the network: online revocation checking goes through a
// Fetcher the caller provides (wallet::HttpFetcher over libcurl).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dojang/pki/certificate.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

struct X509_crl_st;

namespace dojang::pki {

// Fetches revocation data over HTTP. Both return the body of a 2xx response;
// errors: io (no connection, timeout, non-2xx, too large), usage (a URL the
// fetcher refuses).
class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual Result<Bytes> post(const std::string& url, std::string_view content_type,
                             ByteView body) = 0;
  virtual Result<Bytes> get(const std::string& url) = 0;
};

// ---------------------------------------------------------------------------
// Path validation
// ---------------------------------------------------------------------------

struct PathResult {
  std::vector<Certificate> chain;  // leaf first, trust anchor last
};

// Builds and validates the path from leaf to one of the trust anchors with
// X509_STORE_CTX at time `at` (no CRL checking here). Intermediates come from
// untrusted. Errors: policy for an expired (or not yet valid) certificate
// anywhere on the path; bad_signature for every other failure (no path to
// the anchor, bad signature, not a CA, pathlen, ...), the message naming the
// depth and OpenSSL's verify error.
Result<PathResult> validate_path(const Certificate& leaf, const std::vector<Certificate>& trust,
                                 const std::vector<Certificate>& untrusted, TimePoint at);

// ---------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------

enum class CertStatus { good, revoked, unknown };
const char* cert_status_name(CertStatus s) noexcept;  // "good", "revoked", "unknown"

struct RevocationStatus {
  CertStatus status = CertStatus::good;
  std::optional<TimePoint> revoked_at;
  std::string reason;  // RFC 5280 CRLReason name ("keyCompromise", "certificateHold"), "" if none
  TimePoint this_update{};  // of the OCSP single response or the CRL
  std::optional<TimePoint> next_update;
};

// CRLReason name (RFC 5280 §5.3.1) of a reason code, "unspecified" for unknown codes.
const char* crl_reason_name(int code) noexcept;

struct OcspOptions {
  bool nonce = true;                   // send a nonce (and require it back unless absent)
  std::chrono::seconds skew{300};      // tolerated clock difference
  std::chrono::seconds max_age{3600};  // for responses without nextUpdate
};

// A DER OCSPRequest for cert (CertID with SHA-1, RFC 5019), with a fresh
// random nonce when options.nonce. The nonce is returned for check_ocsp_response.
struct OcspRequest {
  Bytes der;
  Bytes nonce;  // empty when none was sent
};
Result<OcspRequest> make_ocsp_request(const Certificate& cert, const Certificate& issuer,
                                      const OcspOptions& options = {});

// Checks a DER OCSPResponse for cert: responseStatus successful; the
// BasicOCSPResponse signed by the issuer itself or by a responder certificate
// the issuer gave id-kp-OCSPSigning (validated up to the trust anchors at
// clock.now()); the nonce echoed (a response without one is accepted, as
// RFC 5019 pre-signed responses have none; a different one is not); a
// SingleResponse for this CertID; thisUpdate not in the future, nextUpdate
// not past (both with options.skew), thisUpdate no older than max_age when
// there is no nextUpdate.
// Errors: invalid_input (not an OCSPResponse, no status for the certificate,
// nonce mismatch, not fresh), bad_signature (signature or responder not
// authorised), policy (responder said unauthorized/tryLater/...).
Result<RevocationStatus> check_ocsp_response(ByteView response_der, const OcspRequest& request,
                                             const Certificate& cert, const Certificate& issuer,
                                             const std::vector<Certificate>& trust,
                                             const Clock& clock, const OcspOptions& options = {});

// A parsed CRL.
class Crl {
 public:
  // DER or PEM. Errors: invalid_input.
  static Result<Crl> parse(ByteView der_or_pem);
  std::string issuer() const;                        // one-line name
  std::optional<std::string> partition_uri() const;  // issuingDistributionPoint fullName URI
  X509_crl_st* native() const noexcept { return c_.get(); }

 private:
  explicit Crl(std::shared_ptr<X509_crl_st> c) : c_(std::move(c)) {}
  std::shared_ptr<X509_crl_st> c_;
};

// Checks cert against one CRL: issued by issuer (name and signature), current
// at clock.now() (thisUpdate not in the future, nextUpdate present and not
// past, with skew), no unknown critical extension, not a delta CRL, and
// covering the certificate: an issuingDistributionPoint's fullName must match
// one of the certificate's CRL distribution points (a partition CRL covers
// only its partition), and its onlyContainsUserCerts / onlyContainsCACerts /
// onlySomeReasons / indirectCRL must not exclude it.
// Errors: not_found (the CRL is not for this certificate: another issuer or
// another partition), invalid_input (stale or expired CRL, unsupported
// critical extension), bad_signature (not signed by issuer).
Result<RevocationStatus> check_crl(const Crl& crl, const Certificate& cert,
                                   const Certificate& issuer, const Clock& clock,
                                   std::chrono::seconds skew = std::chrono::seconds{300});

// The OCSP URLs (AIA id-ad-ocsp) and CRL distribution point URIs of a certificate.
std::vector<std::string> ocsp_urls(const Certificate& cert);
std::vector<std::string> crl_urls(const Certificate& cert);
// The caIssuers URLs (AIA id-ad-caIssuers): where the issuer's certificate is.
std::vector<std::string> ca_issuer_urls(const Certificate& cert);

// Asks the certificate's OCSP responders (AIA), in order, until one gives a
// response check_ocsp_response accepts. Every failed try is appended to
// attempts (when given). Errors: not_found (no OCSP URL), io (no responder
// gave a usable answer; the message lists why).
struct OcspAnswer {
  RevocationStatus status;
  std::string url;
};
Result<OcspAnswer> query_ocsp(const Certificate& cert, const Certificate& issuer,
                              const std::vector<Certificate>& trust, Fetcher& fetcher,
                              const Clock& clock, const OcspOptions& options = {},
                              std::vector<std::string>* attempts = nullptr);

// ---------------------------------------------------------------------------
// The relying party's whole check
// ---------------------------------------------------------------------------

// Which certificates a relying party accepts, as Korean relying parties do: a
// bank accepts general-purpose (범용) certificates and its own
// banking/insurance-only (용도제한) ones; a general service accepts only
// 범용. Unknown policies are refused whenever a purpose is required.
enum class RequiredPurpose { any, general, bank };
Result<RequiredPurpose> parse_required_purpose(std::string_view name);  // "general" | "bank"

enum class RevocationMode {
  online,   // OCSP from the AIA, then CRLs from the CDP (plus any CRLs given)
  offline,  // only the CRLs given; never the network
};

struct VerifyOptions {
  std::vector<Certificate> trust;      // empty: chain and revocation are not checked
  std::vector<Certificate> untrusted;  // extra intermediates (besides the CMS certificates)
  RevocationMode revocation = RevocationMode::online;
  std::vector<Crl> crls;       // given CRLs (the only source offline)
  Fetcher* fetcher = nullptr;  // online: required
  RequiredPurpose purpose = RequiredPurpose::any;
  std::optional<SecretString> idn;        // 13 digits: check the VID
  std::optional<SecretBytes> random_num;  // R given by the caller; else from the CMS
  OcspOptions ocsp;
};

// What the pipeline found, check by check.
enum class CheckState { passed, failed, skipped };
const char* check_state_name(CheckState s) noexcept;  // "ok", "failed", "not_checked"

struct Check {
  CheckState state = CheckState::skipped;
  std::string detail;  // why (always set)
};

// The overall verdict, with the exit code the CLI maps it to.
enum class Verdict {
  valid,        // 0
  invalid,      // 3: bad signature, chain, VID mismatch, corrupt input
  refused,      // 4: revoked, suspended, expired, purpose refused, unknown to the CA
  unavailable,  // 5: revocation status could not be fetched
};
const char* verdict_name(Verdict v) noexcept;  // "valid", "invalid", "refused", "unavailable"

struct RevocationReport {
  std::string source;  // "ocsp", "crl", "offline-crl" or "" when nothing answered
  std::string url;     // where the answer came from (OCSP or CRL URL), "" offline
  std::optional<RevocationStatus> status;
  std::vector<std::string> attempts;  // every source tried that failed, and why
};

struct VerifyReport {
  Verdict verdict = Verdict::invalid;
  std::string summary;  // the deciding reason, one line
  std::optional<Certificate> signer;
  std::optional<TimePoint> signing_time;
  bool detached = false;
  bool signed_attributes = false;
  std::string format;  // "cms" or "raw"
  std::string digest_algorithm;
  Check signature, chain, validity, revocation, purpose, vid;
  std::vector<Certificate> path;  // leaf first, when the chain was built
  RevocationReport revocation_info;
  std::string random_source;  // "file", "cms-attribute" or "" (for the VID check)
  // Why the signature could not be verified (usage: a detached signature
  // without its content; invalid_input: not a SignedData; bad_signature).
  std::optional<Errc> signature_error;
};

// Verifies a DER CMS SignedData (attached, or detached with content given)
// and everything about its signer certificate that options ask for. Never
// fails: every problem is a check in the report and decides the verdict.
VerifyReport verify_signed(ByteView cms_der, std::optional<ByteView> detached_content,
                           const VerifyOptions& options, const Clock& clock);
// The same for a raw PKCS#1 v1.5 SHA-256 signature made with cert's key.
VerifyReport verify_raw_signed(ByteView signature, ByteView content, const Certificate& cert,
                               const VerifyOptions& options, const Clock& clock);

}  // namespace dojang::pki
