#include "dojang/wallet/bank_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>

namespace dojang::wallet {

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

constexpr std::size_t kMaxResponse = 64 * 1024;

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

// Serialises an object and wipes the copies of its string values.
SecretString dump_and_wipe(json& j) {
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

struct Reply {
  long status = 0;
  json body;
};

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

struct BankClient::Impl {
  std::string base;  // scheme://host[:port][/prefix] without a trailing '/'
  std::string ca_file;
  long timeout = 30;

  // POSTs body to base + path; the reply body must be JSON.
  Result<Reply> post(std::string_view path, const SecretString& body, const SecretString* token) {
    CurlPtr<CURL> h(::curl_easy_init());
    if (!h) return Error{Errc::crypto, "cannot create an HTTP client handle"};
    std::string url = base + std::string(path);
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
    set(CURLOPT_TIMEOUT, timeout);
    set(CURLOPT_CONNECTTIMEOUT, timeout);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ca_file.empty()) set(CURLOPT_CAINFO, ca_file.c_str());
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_POST, 1L);
    set(CURLOPT_POSTFIELDS, body.data());
    set(CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    set(CURLOPT_WRITEFUNCTION, &on_data);
    set(CURLOPT_WRITEDATA, &sink);
    if (rc != CURLE_OK) return Error{Errc::crypto, std::string("HTTP client setup: ") + ::curl_easy_strerror(rc)};

    rc = ::curl_easy_perform(c);
    keep = SecretString(std::move(response));
    if (rc != CURLE_OK) {
      if (sink.too_large)
        return Error{Errc::io, "the bank's answer is larger than " + std::to_string(kMaxResponse) + " bytes"};
      std::string why = errbuf[0] != '\0' ? std::string(errbuf) : ::curl_easy_strerror(rc);
      return Error{Errc::io, "cannot reach the bank at " + base + ": " + why};
    }
    Reply reply;
    ::curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
    reply.body = json::parse(keep.view(), nullptr, false);
    if (reply.status >= 200 && reply.status < 300) {
      if (reply.body.is_discarded() || !reply.body.is_object())
        return Error{Errc::invalid_input, "the bank's answer is not a JSON object (HTTP " +
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
    if (reply.status >= 500) message = "the bank's server failed: " + message;
    return Error{code, message};
  }
};

BankClient::BankClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BankClient::~BankClient() = default;

Result<std::unique_ptr<BankClient>> BankClient::create(const BankEndpoint& endpoint) {
  global_init();
  if (endpoint.timeout_seconds < 0) return Error{Errc::usage, "negative timeout"};
  CurlPtr<CURLU> u(::curl_url());
  if (!u) return Error{Errc::crypto, "cannot create a URL parser"};
  if (::curl_url_set(u.get(), CURLUPART_URL, endpoint.url.c_str(), 0) != CURLUE_OK)
    return Error{Errc::usage, "bad server URL \"" + endpoint.url + "\""};
  std::string scheme = url_part(u.get(), CURLUPART_SCHEME);
  std::string host = url_part(u.get(), CURLUPART_HOST);
  if (scheme != "http" && scheme != "https")
    return Error{Errc::usage, "the server URL must start with http:// or https://"};
  if (!url_part(u.get(), CURLUPART_USER).empty() || !url_part(u.get(), CURLUPART_PASSWORD).empty() ||
      !url_part(u.get(), CURLUPART_QUERY).empty() || !url_part(u.get(), CURLUPART_FRAGMENT).empty())
    return Error{Errc::usage, "the server URL must not hold user info, a query or a fragment"};
  if (scheme == "http" && !is_loopback_host(host))
    return Error{Errc::usage, "plain http:// is only allowed to a loopback address; use https://"};
  auto impl = std::make_unique<Impl>();
  impl->base = endpoint.url;
  while (!impl->base.empty() && impl->base.back() == '/') impl->base.pop_back();
  impl->ca_file = endpoint.ca_file;
  impl->timeout = endpoint.timeout_seconds;
  return std::unique_ptr<BankClient>(new BankClient(std::move(impl)));
}

Status BankClient::login(std::string_view customer, const SecretString& password) {
  if (customer.empty()) return Error{Errc::usage, "empty customer id"};
  if (password.empty()) return Error{Errc::usage, "empty login password"};
  json j = {{"customer", std::string(customer)}, {"password", std::string(password.view())}};
  SecretString body = dump_and_wipe(j);
  DOJANG_ASSIGN(Reply reply, impl_->post("/api/v1/bank/login", body, nullptr));
  auto it = reply.body.find("token");
  if (it == reply.body.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    return Error{Errc::invalid_input, "the bank's login answer has no session token"};
  auto& t = it->get_ref<std::string&>();
  token_ = SecretString(t);
  secure_wipe(t.data(), t.size());
  return {};
}

Result<std::string> BankClient::identity(const SecretString& idn_digits) {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  json j = {{"idn", std::string(idn_digits.view())}};
  SecretString body = dump_and_wipe(j);
  DOJANG_ASSIGN(Reply reply, impl_->post("/api/v1/bank/identity", body, &token_));
  auto it = reply.body.find("phone");
  if (it == reply.body.end() || !it->is_string())
    return Error{Errc::invalid_input, "the bank's identity answer names no phone"};
  return it->get<std::string>();
}

Status BankClient::otp(const SecretString& code) {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  if (code.empty()) return Error{Errc::usage, "empty SMS code"};
  json j = {{"code", std::string(code.view())}};
  SecretString body = dump_and_wipe(j);
  DOJANG_ASSIGN(Reply reply, impl_->post("/api/v1/bank/otp", body, &token_));
  (void)reply;
  return {};
}

Result<ApplicationTicket> BankClient::open_application(BankPurpose purpose) {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  json j = {{"purpose", purpose == BankPurpose::general ? "general" : "bank"}};
  SecretString body(j.dump());
  DOJANG_ASSIGN(Reply reply, impl_->post("/api/v1/bank/applications", body, &token_));
  auto ref = reply.body.find("reference");
  auto code = reply.body.find("authorization_code");
  auto exp = reply.body.find("expires_at");
  if (ref == reply.body.end() || !ref->is_string() || code == reply.body.end() || !code->is_string() ||
      code->get_ref<const std::string&>().empty())
    return Error{Errc::invalid_input, "the bank's application answer lacks the reference or code"};
  ApplicationTicket t;
  t.reference = ref->get<std::string>();
  auto& c = code->get_ref<std::string&>();
  t.auth_code = SecretString(c);
  secure_wipe(c.data(), c.size());
  if (exp != reply.body.end() && exp->is_number_integer())
    t.expires_at = TimePoint(std::chrono::seconds(exp->get<std::int64_t>()));
  return t;
}

}  // namespace dojang::wallet
