// Certificate revocation lists (RFC 5280 section 5) of the issuing CA: one full
// CRL and one CRL per partition. A certificate belongs to the partition of its
// serial (crl_partition) and its cRLDistributionPoints names that partition's
// URL (crl_partition_url); each partition CRL carries a critical
// issuingDistributionPoint with exactly that URL, so that a relying party can
// tell it covers the certificate. The full CRL has no issuingDistributionPoint.
//
// Every CRL is a v2 CRL signed by the issuing CA with SHA-256, with
// authorityKeyIdentifier and cRLNumber; each entry has its revocation date and,
// unless the reason is unspecified or unknown, a reasonCode (certificateHold
// for a suspended certificate). Rejected and revoked_unconfirmed certificates
// are listed too (revoked when they were refused or timed out, no reason code).
//
// Publication (CrlPublisher): every CRL of one publication shares one CRL
// number taken from the registry's persisted counter, so the numbers of each
// CRL increase strictly, across restarts and processes. A change in the
// registry is published at most CrlOptions::publish_interval later; the CRLs
// are re-published before their nextUpdate (refresh_margin ahead), changed or
// not.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dojang/ca/hierarchy.hpp"
#include "dojang/ca/registry.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"

namespace dojang::ca {

// Name of the full CRL in /crl/<name>.crl.
inline constexpr std::string_view kFullCrlName = "full";

// <base_url>/crl/<name>.crl ("p3", "full", ...).
std::string crl_name_url(const InitOptions& options, std::string_view name);
// <base_url>/crl/p<index>.crl: the URL certificates of partition `index` name in their CDP.
std::string crl_partition_url(const InitOptions& options, unsigned index);

struct CrlContent {
  std::int64_t number = 1;
  TimePoint this_update;
  TimePoint next_update;
  // The issuingDistributionPoint fullName URI (a partition CRL), or none (the full CRL).
  std::optional<std::string> distribution_point;
};

// Builds and signs one CRL over `revoked` with the hierarchy's issuing CA.
// Errors: usage (nextUpdate not after thisUpdate, malformed serial), crypto.
Result<Bytes> build_crl(const Hierarchy& ca, const std::vector<StatusEntry>& revoked,
                        const CrlContent& content);

struct CrlOptions {
  std::chrono::seconds validity{24 * 3600};   // nextUpdate - thisUpdate
  std::chrono::seconds publish_interval{60};  // a change is published at most this much later
  std::chrono::seconds refresh_margin{3600};  // re-publish this long before nextUpdate
};

struct PublishedCrl {
  std::string name;  // "full", "p0", ...
  std::string der;
  std::int64_t number = 0;
  TimePoint this_update;
  TimePoint next_update;
  std::string etag;  // quoted entity tag: "\"<name>-<number>\""
};

class CrlPublisher {
 public:
  // ca, registry and clock must outlive the publisher. Publishes nothing yet.
  CrlPublisher(const Hierarchy& ca, Registry& registry, const Clock& clock,
               CrlOptions options = {});

  // Publishes every CRL now (full and each partition) under a new CRL number.
  // Errors: io (registry), crypto. The previous CRLs stay served on failure.
  Status publish();

  // The current CRL called `name` ("full", "p0" .. "p<N-1>"), or nullptr for
  // an unknown name or before the first publication. Thread-safe.
  std::shared_ptr<const PublishedCrl> get(std::string_view name) const;

  // Notes that the registry changed now (the next tick publishes once
  // publish_interval has passed since the last publication).
  void note_change();

  // Publishes when due: nothing published yet, a noted change and
  // publish_interval elapsed since the last publication, or nextUpdate less
  // than refresh_margin away. Returns whether it published. Errors: publish's.
  Result<bool> tick();

  // When the current CRLs were published (nullopt before the first).
  std::optional<TimePoint> last_published() const;
  const CrlOptions& options() const noexcept { return options_; }

 private:
  Status publish_locked();

  const Hierarchy* ca_;
  Registry* registry_;
  const Clock* clock_;
  CrlOptions options_;
  std::mutex publish_mu_;  // one publication at a time
  mutable std::mutex mu_;  // guards the fields below
  std::unordered_map<std::string, std::shared_ptr<const PublishedCrl>> crls_;
  std::optional<TimePoint> published_at_;
  std::optional<TimePoint> next_update_;
  bool dirty_ = false;
};

}  // namespace dojang::ca
