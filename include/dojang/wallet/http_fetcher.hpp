// Fetching revocation data (OCSP, CRLs) for relying-party verification over
// the wallet's HTTP client.
#pragma once

#include <cstddef>
#include <string>

#include "dojang/pki/verify.hpp"

namespace dojang::wallet {

struct FetcherOptions {
  long timeout_seconds = 10;  // per request
  std::size_t max_ocsp_response = 64 * 1024;
  std::size_t max_crl = 16u << 20;  // a full CRL of a large CA is megabytes
  std::string ca_file;              // for https URLs; empty = the system's bundle
};

// pki::Fetcher over libcurl. http:// and https:// URLs only (OCSP and CRL
// URLs are plain http by design: what they carry is signed). Errors: usage (a
// URL of another scheme), io (no connection, timeout, a non-2xx status, an
// answer over the size limit).
class HttpFetcher final : public pki::Fetcher {
 public:
  explicit HttpFetcher(FetcherOptions options = {}) : o_(std::move(options)) {}
  Result<Bytes> post(const std::string& url, std::string_view content_type, ByteView body) override;
  Result<Bytes> get(const std::string& url) override;

 private:
  Result<Bytes> fetch(const std::string& url, bool post, std::string_view content_type,
                      ByteView body, std::size_t max);
  FetcherOptions o_;
};

}  // namespace dojang::wallet
