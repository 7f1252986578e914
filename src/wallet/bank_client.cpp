#include "dojang/wallet/bank_client.hpp"

#include "wallet/internal/http.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>

namespace dojang::wallet {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxResponse = 64 * 1024;

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
    internal::HttpRequest req;
    req.url = base + std::string(path);
    req.post = true;
    req.body = body.bytes();
    req.ca_file = ca_file;
    req.timeout_seconds = timeout;
    req.max_response = kMaxResponse;
    req.headers = {"Content-Type: application/json", "Accept: application/json"};
    if (token != nullptr) req.headers.push_back("Authorization: Bearer " + std::string(token->view()));
    std::string response;
    auto result = internal::http_perform(req, response);
    SecretString keep(std::move(response));  // wipes the response whatever happens
    if (token != nullptr) secure_wipe(req.headers.back().data(), req.headers.back().size());
    if (!result.ok()) {
      if (result.error().code != Errc::io) return result.error();
      return Error{Errc::io, "cannot reach the bank at " + base + ": " + result.error().message};
    }
    Reply reply;
    reply.status = result->status;
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
  internal::curl_init();
  if (endpoint.timeout_seconds < 0) return Error{Errc::usage, "negative timeout"};
  DOJANG_ASSIGN(std::string base, internal::checked_base_url(endpoint.url));
  auto impl = std::make_unique<Impl>();
  impl->base = std::move(base);
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
