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

namespace {

Result<ApplicationTicket> ticket_of(json& body) {
  auto ref = body.find("reference");
  auto code = body.find("authorization_code");
  auto exp = body.find("expires_at");
  if (ref == body.end() || !ref->is_string() || code == body.end() || !code->is_string() ||
      code->get_ref<const std::string&>().empty())
    return Error{Errc::invalid_input, "the bank's application answer lacks the reference or code"};
  ApplicationTicket t;
  t.reference = ref->get<std::string>();
  auto& c = code->get_ref<std::string&>();
  t.auth_code = SecretString(c);
  secure_wipe(c.data(), c.size());
  if (exp != body.end() && exp->is_number_integer())
    t.expires_at = TimePoint(std::chrono::seconds(exp->get<std::int64_t>()));
  return t;
}

std::optional<TimePoint> time_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return TimePoint(std::chrono::seconds(it->get<std::int64_t>()));
}

std::string text_field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<BankCertificate> certificate_of(const json& j) {
  BankCertificate c;
  c.serial = text_field(j, "serial");
  c.status = text_field(j, "status");
  auto not_after = time_field(j, "not_after");
  if (c.serial.empty() || c.status.empty() || !not_after)
    return Error{Errc::invalid_input, "the bank's certificate entry lacks serial, status or notAfter"};
  c.cn = text_field(j, "cn");
  c.subject = text_field(j, "subject");
  c.purpose = text_field(j, "purpose");
  c.reason = text_field(j, "reason");
  c.not_after = *not_after;
  c.not_before = time_field(j, "not_before").value_or(TimePoint{});
  c.revoked_at = time_field(j, "revoked_at");
  return c;
}

}  // namespace

Result<ApplicationTicket> BankClient::open_application(BankPurpose purpose) {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  json j = {{"purpose", purpose == BankPurpose::general ? "general" : "bank"}};
  SecretString body(j.dump());
  DOJANG_ASSIGN(Reply reply, impl_->post("/api/v1/bank/applications", body, &token_));
  return ticket_of(reply.body);
}

const char* certificate_action_name(CertificateAction a) noexcept {
  switch (a) {
    case CertificateAction::revoke: return "revoke";
    case CertificateAction::suspend: return "suspend";
    case CertificateAction::resume: return "resume";
  }
  return "?";
}

Result<std::string> BankClient::verify_identity(
    const SecretString& idn_digits,
    const std::function<Result<SecretString>(std::string_view masked_phone)>& sms_code) {
  DOJANG_ASSIGN(std::string masked, identity(idn_digits));
  DOJANG_ASSIGN(SecretString code, sms_code(masked));
  DOJANG_TRY(otp(code));
  return masked;
}

Result<std::vector<BankCertificate>> BankClient::certificates() {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  DOJANG_ASSIGN(Reply reply, impl_->http.request("GET", "/api/v1/bank/certificates", nullptr, &token_));
  auto list = reply.body.find("certificates");
  if (list == reply.body.end() || !list->is_array())
    return Error{Errc::invalid_input, "the bank's answer lists no certificates"};
  std::vector<BankCertificate> out;
  for (const auto& j : *list) {
    if (!j.is_object()) return Error{Errc::invalid_input, "the bank's certificate list is malformed"};
    DOJANG_ASSIGN(BankCertificate c, certificate_of(j));
    out.push_back(std::move(c));
  }
  return out;
}

Result<BankCertificate> BankClient::change(CertificateAction action, std::string_view serial,
                                           std::string_view reason) {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  if (serial.empty()) return Error{Errc::usage, "no certificate serial"};
  json j = {{"serial", std::string(serial)}};
  if (!reason.empty()) j["reason"] = std::string(reason);
  SecretString body(j.dump());
  DOJANG_ASSIGN(Reply reply,
                impl_->post(std::string("/api/v1/bank/certificates/") + certificate_action_name(action),
                            body, &token_));
  return certificate_of(reply.body);
}

Result<ReissueTicket> BankClient::open_reissue(std::string_view serial) {
  if (!logged_in()) return Error{Errc::usage, "not logged in to the bank"};
  if (serial.empty()) return Error{Errc::usage, "no certificate serial"};
  json j = {{"serial", std::string(serial)}};
  SecretString body(j.dump());
  DOJANG_ASSIGN(Reply reply, impl_->post("/api/v1/bank/certificates/reissue", body, &token_));
  DOJANG_ASSIGN(ApplicationTicket ticket, ticket_of(reply.body));
  return ReissueTicket{std::move(ticket), text_field(reply.body, "replaces"),
                       time_field(reply.body, "not_after")};
}

}  // namespace dojang::wallet
