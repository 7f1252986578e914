#include "wallet/internal/http_client.hpp"

#include <curl/curl.h>

#include <array>
#include <mutex>

#include "dojang/wallet/bank_client.hpp"

namespace dojang::wallet::internal {

namespace {

using nlohmann::json;

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

constexpr std::size_t kMaxResponse = 128 * 1024;  // the relay's bundle is the largest answer

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { ::curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// One URL part, or "" when absent.
std::string url_part(CURLU* u, CURLUPart part) {
  char* raw = nullptr;
  if (::curl_url_get(u, part, &raw, 0) != CURLUE_OK) return {};
  CurlPtr<char> owned(raw);
  return raw != nullptr ? std::string(raw) : std::string();
}

// Bounded accumulation of the response body into a buffer reserved up front
// (so a secret in the body is never left behind by a reallocation).
struct Sink {
  std::string* body;
  bool too_large = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* arg) {
  auto* sink = static_cast<Sink*>(arg);
  std::size_t len = size * n;
  if (sink->body->size() + len > kMaxResponse) {
    sink->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, len);
  return len;
}

Errc errc_from_name(std::string_view name, int status) {
  constexpr std::array all = {Errc::usage,         Errc::invalid_input,  Errc::foreign_format,
                              Errc::wrong_password, Errc::key_mismatch,  Errc::bad_signature,
                              Errc::not_found,      Errc::ambiguous,      Errc::already_exists,
                              Errc::policy,         Errc::io,             Errc::crypto};
  if (status >= 500) return Errc::io;
  for (Errc e : all) {
    if (name == errc_name(e)) return (e == Errc::io || e == Errc::crypto) ? Errc::policy : e;
  }
  if (status == 401) return Errc::wrong_password;
  if (status == 404) return Errc::not_found;
  return Errc::policy;
}

}  // namespace

// Serialises an object and wipes the copies of its string values.
SecretString dump_and_wipe(nlohmann::json& j) {
  SecretString out(j.dump());
  for (auto& [key, value] : j.items()) {
    (void)key;
    if (value.is_string()) {
      auto& s = value.get_ref<std::string&>();
      secure_wipe(s.data(), s.size());
    }
  }
  return out;
}

Result<JsonHttp> JsonHttp::create(const std::string& url, const std::string& ca_file, int timeout_seconds,
                                  std::string peer) {
  global_init();
  if (timeout_seconds < 0) return Error{Errc::usage, "negative timeout"};
  CurlPtr<CURLU> u(::curl_url());
  if (!u) return Error{Errc::crypto, "cannot create a URL parser"};
  if (::curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return Error{Errc::usage, "bad server URL \"" + url + "\""};
  std::string scheme = url_part(u.get(), CURLUPART_SCHEME);
  std::string host = url_part(u.get(), CURLUPART_HOST);
  if (scheme != "http" && scheme != "https")
    return Error{Errc::usage, "the server URL must start with http:// or https://"};
  if (!url_part(u.get(), CURLUPART_USER).empty() || !url_part(u.get(), CURLUPART_PASSWORD).empty() ||
      !url_part(u.get(), CURLUPART_QUERY).empty() || !url_part(u.get(), CURLUPART_FRAGMENT).empty())
    return Error{Errc::usage, "the server URL must not hold user info, a query or a fragment"};
  if (scheme == "http" && !is_loopback_host(host))
    return Error{Errc::usage, "plain http:// is only allowed to a loopback address; use https://"};
  JsonHttp h;
  h.base_ = url;
  while (!h.base_.empty() && h.base_.back() == '/') h.base_.pop_back();
  h.ca_file_ = ca_file;
  h.timeout_ = timeout_seconds;
  h.peer_ = std::move(peer);
  return h;
}

Result<HttpReply> JsonHttp::request(std::string_view method, std::string_view path, const SecretString* body,
                                 const SecretString* token) const {
  CurlPtr<CURL> h(::curl_easy_init());
  if (!h) return Error{Errc::crypto, "cannot create an HTTP client handle"};
  std::string url = base_ + std::string(path);
  std::string response;
  response.reserve(kMaxResponse);
  SecretString keep(std::string{});  // wipes the response whatever happens
  Sink sink{&response};
  char errbuf[CURL_ERROR_SIZE] = {};

  CurlPtr<curl_slist> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* next = ::curl_slist_append(headers.get(), line.c_str());
    if (next != nullptr) {
      (void)headers.release();
      headers.reset(next);
    }
    return next != nullptr;
  };
  bool ok = add_header("Content-Type: application/json") && add_header("Accept: application/json");
  if (token != nullptr) {
    std::string auth = "Authorization: Bearer " + std::string(token->view());
    ok = ok && add_header(auth);
    secure_wipe(auth.data(), auth.size());
  }
  if (!ok) return Error{Errc::crypto, "out of memory building the HTTP request"};

  const std::string method_text(method);
  CURL* c = h.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](auto opt, auto value) {
    if (rc == CURLE_OK) rc = ::curl_easy_setopt(c, opt, value);
  };
  set(CURLOPT_ERRORBUFFER, errbuf);
  set(CURLOPT_URL, url.c_str());
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_TIMEOUT, timeout_);
  set(CURLOPT_CONNECTTIMEOUT, timeout_);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file_.empty()) set(CURLOPT_CAINFO, ca_file_.c_str());
  set(CURLOPT_HTTPHEADER, headers.get());
  if (method == "POST") {
    static const char kEmpty[] = "";
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, body != nullptr ? body->data() : kEmpty);
    set(CURLOPT_POSTFIELDSIZE, static_cast<long>(body != nullptr ? body->size() : 0));
  } else if (method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, method_text.c_str());
  }
  set(CURLOPT_WRITEFUNCTION, &on_data);
  set(CURLOPT_WRITEDATA, &sink);
  if (rc != CURLE_OK) return Error{Errc::crypto, std::string("HTTP client setup: ") + ::curl_easy_strerror(rc)};

  rc = ::curl_easy_perform(c);
  keep = SecretString(std::move(response));
  if (rc != CURLE_OK) {
    if (sink.too_large)
      return Error{Errc::io, peer_ + "'s answer is larger than " + std::to_string(kMaxResponse) + " bytes"};
    std::string why = errbuf[0] != '\0' ? std::string(errbuf) : ::curl_easy_strerror(rc);
    return Error{Errc::io, "cannot reach " + peer_ + " at " + base_ + ": " + why};
  }
  HttpReply reply;
  ::curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  if (reply.status == 204) return reply;
  reply.body = json::parse(keep.view(), nullptr, false);
  if (reply.status >= 200 && reply.status < 300) {
    if (reply.body.is_discarded() || !reply.body.is_object())
      return Error{Errc::invalid_input, peer_ + "'s answer is not a JSON object (HTTP " +
                                            std::to_string(reply.status) + ")"};
    return reply;
  }
  std::string name, message;
  if (reply.body.is_object()) {
    if (auto it = reply.body.find("error"); it != reply.body.end() && it->is_string()) name = *it;
    if (auto it = reply.body.find("message"); it != reply.body.end() && it->is_string()) message = *it;
  }
  if (message.empty()) message = "HTTP " + std::to_string(reply.status);
  Errc code = errc_from_name(name, static_cast<int>(reply.status));
  if (reply.status >= 500) message = peer_ + "'s server failed: " + message;
  return Error{code, message};
}

}  // namespace dojang::wallet::internal
