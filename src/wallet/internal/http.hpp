// The wallet's one HTTP client (libcurl): the bank's REST API, OCSP and CRL
// fetching, the demo relying party's login.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet::internal {

// Every curl handle is owned through one deleter.
template <class T>
struct CurlFree;
template <>
struct CurlFree<CURL> {
  void operator()(CURL* p) const noexcept { ::curl_easy_cleanup(p); }
};
template <>
struct CurlFree<CURLU> {
  void operator()(CURLU* p) const noexcept { ::curl_url_cleanup(p); }
};
template <>
struct CurlFree<curl_slist> {
  void operator()(curl_slist* p) const noexcept { ::curl_slist_free_all(p); }
};
template <>
struct CurlFree<char> {
  void operator()(char* p) const noexcept { ::curl_free(p); }
};
template <class T>
using CurlPtr = std::unique_ptr<T, CurlFree<T>>;

// curl_global_init, once per process.
void curl_init();

// One URL part, or "" when absent.
std::string url_part(CURLU* u, CURLUPart part);

// Checks a server base URL: http or https, no user info, query or fragment,
// plain http only to a loopback address. Returns it without trailing '/'.
// Errors: usage.
Result<std::string> checked_base_url(const std::string& url);

struct HttpRequest {
  std::string url;
  bool post = false;
  const char* method = nullptr;      // another method than GET/POST (e.g. "DELETE"), body-less
  ByteView body;                     // POST body (not copied)
  std::vector<std::string> headers;  // "Name: value"
  std::string ca_file;               // extra CA bundle for https; empty = the system's
  long timeout_seconds = 30;         // the whole exchange, connecting included
  std::size_t max_response = 64 * 1024;
};

struct HttpReply {
  long status = 0;
  std::string content_type;
};

// Performs one request without following redirects, http and https only,
// TLS peers verified. The body goes into `body`, reserved to max_response up
// front so that a secret in it is never left behind by a reallocation (the
// caller wipes it). Errors: io (no connection, timeout, TLS, a body larger
// than max_response) with curl's reason; crypto (curl handle setup).
Result<HttpReply> http_perform(const HttpRequest& request, std::string& body);

}  // namespace dojang::wallet::internal
