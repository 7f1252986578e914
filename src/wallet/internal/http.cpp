#include "wallet/internal/http.hpp"

#include <mutex>

#include "dojang/wallet/bank_client.hpp"

namespace dojang::wallet::internal {

namespace {

// Bounded accumulation of the response body.
struct Sink {
  std::string* body;
  std::size_t max;
  bool too_large = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* arg) {
  auto* sink = static_cast<Sink*>(arg);
  std::size_t len = size * n;
  if (sink->body->size() + len > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, len);
  return len;
}

}  // namespace

void curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { ::curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string url_part(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (::curl_url_get(u, part, &raw, 0) != CURLUE_OK) return {};
  CurlPtr<char> owned(raw);
  return raw != nullptr ? std::string(raw) : std::string();
}

Result<std::string> checked_base_url(const std::string& url) {
  CurlPtr<CURLU> u(::curl_url());
  if (!u) return Error{Errc::crypto, "cannot create a URL parser"};
  if (::curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return Error{Errc::usage, "bad server URL \"" + url + "\""};
  std::string scheme = url_part(u.get(), CURLUPART_SCHEME);
  std::string host = url_part(u.get(), CURLUPART_HOST);
  if (scheme != "http" && scheme != "https")
    return Error{Errc::usage, "the server URL must start with http:// or https://"};
  if (!url_part(u.get(), CURLUPART_USER).empty() ||
      !url_part(u.get(), CURLUPART_PASSWORD).empty() ||
      !url_part(u.get(), CURLUPART_QUERY).empty() || !url_part(u.get(), CURLUPART_FRAGMENT).empty())
    return Error{Errc::usage, "the server URL must not hold user info, a query or a fragment"};
  if (scheme == "http" && !is_loopback_host(host))
    return Error{Errc::usage, "plain http:// is only allowed to a loopback address; use https://"};
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

Result<HttpReply> http_perform(const HttpRequest& request, std::string& body) {
  curl_init();
  CurlPtr<CURL> h(::curl_easy_init());
  if (!h) return Error{Errc::crypto, "cannot create an HTTP client handle"};
  body.clear();
  body.reserve(request.max_response);
  Sink sink{&body, request.max_response};
  char errbuf[CURL_ERROR_SIZE] = {};

  CurlPtr<curl_slist> headers;
  for (const std::string& line : request.headers) {
    curl_slist* next = ::curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return Error{Errc::crypto, "out of memory building the HTTP request"};
    (void)headers.release();
    headers.reset(next);
  }

  CURL* c = h.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](auto opt, auto value) {
    if (rc == CURLE_OK) rc = ::curl_easy_setopt(c, opt, value);
  };
  set(CURLOPT_ERRORBUFFER, errbuf);
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TIMEOUT, request.timeout_seconds);
  set(CURLOPT_CONNECTTIMEOUT, request.timeout_seconds);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!request.ca_file.empty()) set(CURLOPT_CAINFO, request.ca_file.c_str());
  if (headers) set(CURLOPT_HTTPHEADER, headers.get());
  if (request.post) {
    static const char empty = 0;
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS,
        request.body.empty() ? &empty : reinterpret_cast<const char*>(request.body.data()));
    set(CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  } else {
    set(CURLOPT_HTTPGET, 1L);
    if (request.method != nullptr) set(CURLOPT_CUSTOMREQUEST, request.method);
  }
  set(CURLOPT_WRITEFUNCTION, &on_data);
  set(CURLOPT_WRITEDATA, &sink);
  if (rc != CURLE_OK)
    return Error{Errc::crypto, std::string("HTTP client setup: ") + ::curl_easy_strerror(rc)};

  rc = ::curl_easy_perform(c);
  if (rc != CURLE_OK) {
    if (sink.too_large)
      return Error{Errc::io,
                   "the answer is larger than " + std::to_string(request.max_response) + " bytes"};
    return Error{Errc::io, errbuf[0] != '\0' ? std::string(errbuf) : ::curl_easy_strerror(rc)};
  }
  HttpReply reply;
  ::curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  char* type = nullptr;
  if (::curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != nullptr)
    reply.content_type = type;
  return reply;
}

}  // namespace dojang::wallet::internal
