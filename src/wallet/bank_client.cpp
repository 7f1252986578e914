#include "dojang/wallet/bank_client.hpp"

#include "wallet/internal/http_client.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <mutex>

namespace dojang::wallet {

namespace {

using nlohmann::json;

using internal::dump_and_wipe;
using Reply = internal::JsonReply;

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
  internal::JsonHttp http;

  // POSTs body to base + path; the reply body must be JSON.
  Result<Reply> post(std::string_view path, const SecretString& body, const SecretString* token) {
    return http.request("POST", path, &body, token);
  }
};

BankClient::BankClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BankClient::~BankClient() = default;

Result<std::unique_ptr<BankClient>> BankClient::create(const BankEndpoint& endpoint) {
  DOJANG_ASSIGN(internal::JsonHttp http,
                internal::JsonHttp::create(endpoint.url, endpoint.ca_file, endpoint.timeout_seconds, "the bank"));
  auto impl = std::make_unique<Impl>(Impl{std::move(http)});
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
