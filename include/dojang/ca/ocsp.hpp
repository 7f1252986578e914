// The CA's OCSP responder (RFC 6960, with the RFC 5019 lightweight profile):
// certificate status from the registry, signed by the hierarchy's delegated
// OCSP signer (id-kp-OCSPSigning, id-pkix-ocsp-nocheck; its certificate is
// included in every response; responderID byKey; SHA-256).
//
// Status of a certificate of our issuing CA:
//   good     confirmed, not revoked, not expired
//   revoked  confirmed and revoked (revocationTime and revocationReason, e.g.
//            keyCompromise, superseded, certificateHold while suspended);
//            rejected and revoked_unconfirmed (the time they were refused or
//            timed out, no reason)
//   unknown  a serial this CA never issued; a pending certificate (signed but
//            not confirmed by its holder: not issued yet, it becomes good on
//            certConf); an expired certificate that was never revoked
// A CertID naming another issuer (issuerNameHash / issuerKeyHash under the
// request's hash algorithm, any digest OpenSSL knows) is answered with the
// unsigned responseStatus unauthorized (RFC 5019 section 2.2.3); an
// undecodable request, or one with no or too many singleRequests, with
// malformedRequest; a failure while signing with internalError.
//
// Caching (RFC 5019 section 2.2.2): a request without a nonce is answered from
// pre-signed responses kept in memory per (serial, CertID hash algorithm) and
// per exact request bytes; each is signed once and then served as it is until
// it is refresh_after old (then re-signed; resign_due re-signs ahead of that in
// the background), until the certificate's status changes (refresh() drops its
// responses and re-signs them with the new status before it returns), or until
// the certificate expires. A request with a nonce (RFC 6960 4.4.1) always gets
// a freshly signed response echoing the nonce. thisUpdate is when the response
// was signed, nextUpdate thisUpdate + validity.
//
// Thread safety: respond() runs on any number of threads at once; refresh()
// and resign_due() may run concurrently with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/ca/registry.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"

namespace dojang::ca {

struct OcspOptions {
  std::chrono::seconds validity{3600};        // nextUpdate - thisUpdate
  std::chrono::seconds refresh_after{1800};   // a pre-signed response is re-signed once this old
  std::size_t max_request_bytes = 16 * 1024;  // larger requests: malformedRequest
  std::size_t max_single_requests = 16;       // more singleRequests: malformedRequest
  std::size_t max_cached_unknown = 4096;      // pre-signed "unknown" answers kept at most
  std::size_t max_request_cache = 65536;      // exact-request-bytes index entries kept at most
};

// One answer of the responder: the DER OCSPResponse and what HTTP caching needs.
struct OcspAnswer {
  std::shared_ptr<const std::string> der;
  bool successful = false;  // responseStatus successful (signed)
  bool cacheable = false;   // a pre-signed answer (no nonce): RFC 5019 HTTP caching applies
  TimePoint this_update{};  // when successful
  TimePoint next_update{};
  std::string etag;  // quoted, for cacheable answers
};

class OcspResponder {
 public:
  // Loads the status index from the registry. ca, registry and clock must
  // outlive the responder. Errors: io, crypto.
  static Result<std::unique_ptr<OcspResponder>> create(const Hierarchy& ca, Registry& registry,
                                                       const Clock& clock,
                                                       OcspOptions options = {});
  ~OcspResponder();
  OcspResponder(const OcspResponder&) = delete;
  OcspResponder& operator=(const OcspResponder&) = delete;

  // Answers one DER OCSPRequest; never fails (errors are OCSP response statuses).
  OcspAnswer respond(ByteView request_der);

  // Pulls every registry change since the last refresh into the status index
  // and drops the cached responses of the changed serials, so the next answer
  // reflects them. Returns the registry revision now known. Errors: io.
  // With `at_least`, returns at once when the index already reflects that
  // revision: concurrent writers that each call refresh(their revision) share
  // one registry read instead of queueing one each.
  Result<std::int64_t> refresh(std::int64_t at_least = -1);
  // Re-signs the pre-signed responses that are due within `ahead`; returns how many.
  std::size_t resign_due(std::chrono::seconds ahead);

  // The registry revision the status index reflects.
  std::int64_t revision() const noexcept;

  struct Stats {
    std::uint64_t requests = 0;
    std::uint64_t signatures = 0;  // responses signed
    std::uint64_t cache_hits = 0;
  };
  Stats stats() const noexcept;

  struct Impl;

 private:
  explicit OcspResponder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace dojang::ca
