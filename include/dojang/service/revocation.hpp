// dojangd's revocation endpoints: OCSP (RFC 6960 / RFC 5019 over HTTP) and
// CRLs, and the watcher that keeps both in step with the certificate registry.
//
//   POST /ocsp, POST /ocsp/   body: DER OCSPRequest (application/ocsp-request),
//                             at most kMaxOcspBodyBytes (larger: HTTP 413)
//   GET  /ocsp/<base64>       RFC 6960 appendix A.1: the DER OCSPRequest, base64,
//                             URL-encoded. Percent escapes are decoded first
//                             ("%2B" -> '+', "%2F" -> '/', "%3D" -> '='); a bare '+'
//                             is a '+' (never a space); the base64url alphabet
//                             ('-', '_') and missing padding are accepted.
//   Both answer 200 application/ocsp-response with an OCSPResponse, whatever its
//   responseStatus (malformedRequest for an undecodable request, unauthorized
//   for another issuer). A cacheable (pre-signed, no nonce) GET answer carries
//   RFC 5019 section 6 headers: Last-Modified (thisUpdate), Expires (nextUpdate),
//   ETag, Cache-Control: max-age=<seconds until nextUpdate>, public,
//   no-transform, must-revalidate. A nonce answer: Cache-Control: no-store.
//
//   GET /crl/<name>.crl       name "full" or "p0".."p<N-1>": DER CRL
//                             (application/pkix-crl) with Last-Modified
//                             (thisUpdate), Expires (nextUpdate), ETag and
//                             Cache-Control: max-age=<seconds until nextUpdate>;
//                             If-None-Match with the current ETag -> 304.
//                             Unknown name -> 404; before the first publication -> 503.
//
// The watcher thread polls the registry revision every poll_interval (changes
// made by another process, e.g. `dojangd ca revoke`) and, when it moved,
// refreshes the OCSP status index at once and notes the change for the CRLs;
// about once a second it publishes the CRLs that are due and re-signs the
// pre-signed OCSP responses that would go stale soon. Changes made through the
// same Registry object reach OCSP synchronously (its change listener).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

#include "dojang/ca/crl.hpp"
#include "dojang/ca/ocsp.hpp"
#include "dojang/ca/registry.hpp"
#include "dojang/pki/clock.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service {

inline constexpr std::size_t kMaxOcspBodyBytes = 16 * 1024;

// Answers one OCSP HTTP request (POST body or GET path) - what the routes call.
Response ocsp_response(ca::OcspResponder& responder, const Request& request, const Clock& clock);
// Decodes the <base64> part of GET /ocsp/<base64>. Errors: invalid_input.
Result<Bytes> decode_ocsp_get_path(std::string_view encoded);

// Registers POST /ocsp, POST /ocsp/ and GET /ocsp/ (prefix). responder and clock
// must outlive the router.
void register_ocsp(Router& router, ca::OcspResponder& responder, const Clock& clock);
// Registers GET /crl/ (prefix). publisher and clock must outlive the router.
void register_crl(Router& router, ca::CrlPublisher& publisher, const Clock& clock);

struct WatcherOptions {
  std::chrono::milliseconds poll_interval{25};
  std::chrono::milliseconds tick_interval{1000};  // CRL publication and OCSP re-signing
  std::chrono::seconds resign_ahead{60};
  std::function<void(std::string_view)> log;  // problems; empty: stderr
};

class RevocationWatcher {
 public:
  // Installs the registry's change listener; start() starts the thread.
  RevocationWatcher(ca::Registry& registry, ca::OcspResponder& responder,
                    ca::CrlPublisher& publisher, WatcherOptions options = {});
  ~RevocationWatcher();  // stop()
  RevocationWatcher(const RevocationWatcher&) = delete;
  RevocationWatcher& operator=(const RevocationWatcher&) = delete;

  void start();
  void stop();
  // One round of the thread's work (poll, publish when due, re-sign): for tests.
  void run_once(bool tick);

 private:
  void loop();
  void log(std::string_view line) const;

  ca::Registry* registry_;
  ca::OcspResponder* responder_;
  ca::CrlPublisher* publisher_;
  WatcherOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace dojang::service
