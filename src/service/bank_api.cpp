#include "dojang/service/bank_api.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "dojang/pki/aead.hpp"
#include "service/internal/json_api.hpp"

namespace dojang::service {

using nlohmann::json;

int http_status_for(Errc code) noexcept {
  switch (code) {
    case Errc::usage:
    case Errc::invalid_input:
    case Errc::foreign_format:
    case Errc::bad_signature: return 400;
    case Errc::wrong_password:
    case Errc::key_mismatch: return 401;
    case Errc::policy: return 403;
    case Errc::not_found: return 404;
    case Errc::ambiguous:
    case Errc::already_exists: return 409;
    case Errc::io: return 503;
    case Errc::crypto: return 500;
  }
  return 500;
}

namespace {

using internal::bearer;
using internal::error_response;
using internal::field;
using internal::json_response;
using internal::parse_object;

Result<store::Purpose> parse_purpose(std::string_view p) {
  if (p == "general") return store::Purpose::general;
  if (p == "bank" || p == "bank_insurance") return store::Purpose::bank_insurance;
  return Error{Errc::usage, "purpose must be \"general\" or \"bank\""};
}

json ticket_json(const ra::ApplicationTicket& t) {
  return {{"reference", t.ref},
          {"authorization_code", std::string(t.auth_code.view())},
          {"expires_at", std::chrono::duration_cast<std::chrono::seconds>(t.expires_at.time_since_epoch()).count()}};
}

bool admin_ok(const Request& req, const BankApiOptions& o) {
  if (o.admin_token_sha256.empty()) return false;
  auto tok = bearer(req);
  if (!tok) return false;
  auto digest = pki::sha256(ByteView(reinterpret_cast<const std::uint8_t*>(tok->data()), tok->size()));
  if (!digest.ok()) return false;
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (auto b : *digest) {
    h += hex[b >> 4];
    h += hex[b & 15];
  }
  return h.size() == o.admin_token_sha256.size() &&
         CRYPTO_memcmp(h.data(), o.admin_token_sha256.data(), h.size()) == 0;
}

}  // namespace

void register_bank_api(Router& router, ra::Bank& bank, BankApiOptions options) {
  ra::Bank* b = &bank;
  constexpr std::size_t kSmallBody = 16 * 1024;
  // Blocking: Argon2id logins, hashing, database commits.
  RouteOptions small{PathMatch::exact, kSmallBody, true};

  // Internet-banking login: {"customer": ID, "password": PW} -> {"token", "expires_at"}
  router.handle("POST", "/api/v1/bank/login", [b](const Request& req) {
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto customer = field(*j, "customer", &err);
    auto password = customer ? field(*j, "password", &err) : std::nullopt;
    if (!password) return err;
    SecretString pw(std::move(*password));
    auto s = b->login(*customer, pw);
    if (!s.ok()) return error_response(s.error());
    return json_response(200, {{"token", std::string(s->token.view())},
                               {"expires_at", std::chrono::duration_cast<std::chrono::seconds>(
                                                  s->expires_at.time_since_epoch())
                                                  .count()}});
  }, small);

  // Identity check: Bearer session; {"idn": IDN} -> SMS code sent {"phone": masked}
  router.handle("POST", "/api/v1/bank/identity", [b](const Request& req) {
    auto tok = bearer(req);
    if (!tok) return error_response({Errc::wrong_password, "missing bearer session token"});
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto idn = field(*j, "idn", &err);
    if (!idn) return err;
    SecretString secret(std::move(*idn));
    auto sent = b->start_identity_check(*tok, secret);
    if (!sent.ok()) return error_response(sent.error());
    return json_response(200, {{"phone", sent->masked_phone}});
  }, small);

  // SMS code: Bearer session; {"code": "123456"}
  router.handle("POST", "/api/v1/bank/otp", [b](const Request& req) {
    auto tok = bearer(req);
    if (!tok) return error_response({Errc::wrong_password, "missing bearer session token"});
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto code = field(*j, "code", &err);
    if (!code) return err;
    auto st = b->verify_otp(*tok, *code);
    if (!st.ok()) return error_response(st.error());
    return json_response(200, {{"verified", true}});
  }, small);

  // Issuance application: Bearer verified session; {"purpose": "general"|"bank"}
  router.handle("POST", "/api/v1/bank/applications", [b](const Request& req) {
    auto tok = bearer(req);
    if (!tok) return error_response({Errc::wrong_password, "missing bearer session token"});
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto purpose_text = field(*j, "purpose", &err);
    if (!purpose_text) return err;
    auto purpose = parse_purpose(*purpose_text);
    if (!purpose.ok()) return error_response(purpose.error());
    auto t = b->open_application(*tok, *purpose);
    if (!t.ok()) return error_response(t.error());
    return json_response(201, ticket_json(*t));
  }, small);

  // Admin: enrol a customer. Bearer admin token; {"customer","name","idn","phone","bank_code","password"}
  router.handle("POST", "/api/v1/admin/customers", [b, options](const Request& req) {
    if (!admin_ok(req, options)) return error_response({Errc::wrong_password, "admin token required"});
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    ra::Enrolment e;
    auto customer = field(*j, "customer", &err);
    auto name = customer ? field(*j, "name", &err) : std::nullopt;
    auto idn = name ? field(*j, "idn", &err) : std::nullopt;
    auto phone = idn ? field(*j, "phone", &err) : std::nullopt;
    auto bank_code = phone ? field(*j, "bank_code", &err) : std::nullopt;
    auto password = bank_code ? field(*j, "password", &err) : std::nullopt;
    if (!password) return err;
    e.customer_id = *customer;
    e.real_name = *name;
    e.idn = SecretString(std::move(*idn));
    e.phone = *phone;
    e.bank_code = *bank_code;
    e.login_password = SecretString(std::move(*password));
    auto st = b->enrol(e);
    if (!st.ok()) return error_response(st.error());
    return json_response(201, {{"customer", e.customer_id}});
  }, small);

  // Admin: a teller application for a customer: {"customer", "purpose"}
  router.handle("POST", "/api/v1/admin/applications", [b, options](const Request& req) {
    if (!admin_ok(req, options)) return error_response({Errc::wrong_password, "admin token required"});
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto customer = field(*j, "customer", &err);
    auto purpose_text = customer ? field(*j, "purpose", &err) : std::nullopt;
    if (!purpose_text) return err;
    auto purpose = parse_purpose(*purpose_text);
    if (!purpose.ok()) return error_response(purpose.error());
    auto t = b->teller_application(*customer, *purpose);
    if (!t.ok()) return error_response(t.error());
    return json_response(201, ticket_json(*t));
  }, small);
}

}  // namespace dojang::service
