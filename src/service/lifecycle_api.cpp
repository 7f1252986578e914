#include "dojang/service/lifecycle_api.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

#include "dojang/pki/certificate.hpp"
#include "service/internal/json_api.hpp"

namespace dojang::service {

namespace {

using internal::bearer;
using internal::error_response;
using internal::field;
using internal::json_response;
using internal::parse_object;
using nlohmann::json;

constexpr std::size_t kSmallBody = 16 * 1024;

std::int64_t unix_seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// "0x" + the serial's hex without leading zeros, as the wallet shows it.
std::string display_serial(const std::string& hex) {
  const auto first = hex.find_first_not_of('0');
  return "0x" + (first == std::string::npos ? std::string("0") : hex.substr(first));
}

// What the customer sees as the state of a certificate.
std::string state_of(const ca::CertificateRecord& r, TimePoint now) {
  switch (r.status) {
    case ca::CertStatus::pending: return "pending";
    case ca::CertStatus::rejected: return "rejected";
    case ca::CertStatus::revoked_unconfirmed: return "unconfirmed";
    case ca::CertStatus::confirmed: break;
  }
  if (r.revoked_at)
    return r.revocation_reason == ca::RevocationReason::certificate_hold ? "suspended" : "revoked";
  if (now >= r.not_after) return "expired";
  return "valid";
}

struct Described {
  std::string cn;
  pki::Purpose purpose = pki::Purpose::unknown;
};

Described describe(const ca::CertificateRecord& r) {
  Described d;
  auto cert = pki::Certificate::from_der(r.der);
  if (!cert.ok()) return d;
  auto info = cert->info();
  if (!info.ok()) return d;
  d.cn = info->cn;
  for (const auto& p : info->policies) {
    if (p.purpose != pki::Purpose::unknown) {
      d.purpose = p.purpose;
      break;
    }
  }
  return d;
}

json record_json(const ca::CertificateRecord& r, TimePoint now) {
  Described d = describe(r);
  json j = {{"serial", display_serial(r.serial_hex)},
            {"cn", d.cn},
            {"subject", r.subject},
            {"purpose", pki::purpose_name(d.purpose)},
            {"not_before", unix_seconds(r.not_before)},
            {"not_after", unix_seconds(r.not_after)},
            {"status", state_of(r, now)}};
  if (r.revoked_at) j["revoked_at"] = unix_seconds(*r.revoked_at);
  if (r.revocation_reason) j["reason"] = ca::revocation_reason_name(*r.revocation_reason);
  return j;
}

// The session's customer, or the error response.
std::optional<std::string> customer_of(const Request& req, ra::Bank& bank, Response* err) {
  auto tok = bearer(req);
  if (!tok) {
    *err = error_response({Errc::wrong_password, "missing bearer session token"});
    return std::nullopt;
  }
  auto customer = bank.verified_customer(*tok);
  if (!customer.ok()) {
    *err = error_response(customer.error());
    return std::nullopt;
  }
  return std::move(customer).value();
}

// The customer's own certificate named by the body's "serial", or the error response.
std::optional<ca::CertificateRecord> own_certificate(const json& body, const std::string& customer,
                                                     ca::Registry& registry, Response* err) {
  auto text = field(body, "serial", err);
  if (!text) return std::nullopt;
  auto serial = ca::parse_serial(*text);
  if (!serial.ok()) {
    *err = error_response(serial.error());
    return std::nullopt;
  }
  auto r = registry.find(*serial);
  if (!r.ok() && r.error().code != Errc::not_found) {
    *err = error_response(r.error());
    return std::nullopt;
  }
  if (!r.ok() || r->customer_id != customer) {
    *err = error_response(
        {Errc::not_found, "no certificate with serial " + *text + " among your certificates"});
    return std::nullopt;
  }
  return std::move(r).value();
}

// The body and the customer's own certificate it names: what every change acts on.
struct Target {
  json body;
  ca::CertificateRecord record;
};
std::optional<Target> target_of(const Request& req, ra::Bank& bank, ca::Registry& registry,
                                Response* err) {
  auto customer = customer_of(req, bank, err);
  if (!customer) return std::nullopt;
  auto body = parse_object(req, err);
  if (!body) return std::nullopt;
  auto record = own_certificate(*body, *customer, registry, err);
  if (!record) return std::nullopt;
  return Target{std::move(*body), std::move(*record)};
}

// The reasons a holder may give through the bank; the CA's own reasons and
// certificateHold (use suspend) are not among them.
Result<ca::RevocationReason> holder_reason(const json& body) {
  auto it = body.find("reason");
  if (it == body.end()) return ca::RevocationReason::key_compromise;  // the phone is lost
  if (!it->is_string()) return Error{Errc::usage, "\"reason\" must be a string"};
  DOJANG_ASSIGN(ca::RevocationReason reason, ca::parse_revocation_reason(it->get<std::string>()));
  switch (reason) {
    case ca::RevocationReason::unspecified:
    case ca::RevocationReason::key_compromise:
    case ca::RevocationReason::affiliation_changed:
    case ca::RevocationReason::superseded:
    case ca::RevocationReason::cessation_of_operation:
    case ca::RevocationReason::privilege_withdrawn:
      return reason;
    case ca::RevocationReason::certificate_hold:
      return Error{Errc::usage, "certificateHold is a suspension: use the suspend endpoint"};
    default:
      return Error{Errc::usage, std::string(ca::revocation_reason_name(reason)) +
                                    " is not a reason a holder can give"};
  }
}

store::Purpose store_purpose(pki::Purpose p) {
  return p == pki::Purpose::general ? store::Purpose::general : store::Purpose::bank_insurance;
}

}  // namespace

void register_lifecycle_api(Router& router, ra::Bank& bank, ca::Registry& registry,
                            const Clock& clock) {
  ra::Bank* b = &bank;
  ca::Registry* reg = &registry;
  const Clock* clk = &clock;
  RouteOptions small{PathMatch::exact, kSmallBody, true};  // blocking: database work

  // The customer's certificates: Bearer verified session -> {"certificates": [...]}
  router.handle("GET", "/api/v1/bank/certificates", [b, reg, clk](const Request& req) {
    Response err;
    auto customer = customer_of(req, *b, &err);
    if (!customer) return err;
    auto records = reg->list_for_customer(*customer);
    if (!records.ok()) return error_response(records.error());
    json list = json::array();
    const TimePoint now = clk->now();
    for (const auto& r : *records) list.push_back(record_json(r, now));
    return json_response(200, {{"customer", *customer}, {"certificates", list}});
  }, small);

  // A state change on one of the customer's certificates; ends the session on success.
  enum class Change { revoke, suspend, resume };
  auto change = [b, reg, clk](Change what) {
    return [b, reg, clk, what](const Request& req) {
      Response err;
      auto target = target_of(req, *b, *reg, &err);
      if (!target) return err;
      auto& [body, record] = *target;
      Status st;
      if (what == Change::resume) {
        st = reg->unhold(record.serial_hex);
      } else {
        auto reason = what == Change::suspend ? Result<ca::RevocationReason>(
                                                    ca::RevocationReason::certificate_hold)
                                              : holder_reason(body);
        if (!reason.ok()) return error_response(reason.error());
        if (record.status == ca::CertStatus::confirmed && clk->now() >= record.not_after)
          return error_response({Errc::policy, "certificate " + display_serial(record.serial_hex) +
                                                   " has expired; there is nothing to revoke"});
        st = reg->revoke(record.serial_hex, *reason, clk->now());
      }
      if (!st.ok()) return error_response(st.error());
      (void)b->logout(*bearer(req));  // one change per identity verification
      auto now = reg->find(record.serial_hex);
      if (!now.ok()) return error_response(now.error());
      return json_response(200, record_json(*now, clk->now()));
    };
  };
  router.handle("POST", "/api/v1/bank/certificates/revoke", change(Change::revoke), small);
  router.handle("POST", "/api/v1/bank/certificates/suspend", change(Change::suspend), small);
  router.handle("POST", "/api/v1/bank/certificates/resume", change(Change::resume), small);

  // Re-issue: a reissue application for one of the customer's certificates.
  // The CA issues the new certificate until the old one's notAfter and revokes
  // the old one (superseded) when the new one is confirmed.
  router.handle("POST", "/api/v1/bank/certificates/reissue", [b, reg, clk](const Request& req) {
    Response err;
    auto target = target_of(req, *b, *reg, &err);
    if (!target) return err;
    auto& [body, record] = *target;
    if (record.status != ca::CertStatus::confirmed)
      return error_response({Errc::policy, "certificate " + display_serial(record.serial_hex) + " is " +
                                               ca::cert_status_name(record.status) +
                                               ": only an issued certificate can be re-issued"});
    if (record.revocation_reason == ca::RevocationReason::superseded)
      return error_response({Errc::policy, "certificate " + display_serial(record.serial_hex) +
                                               " has already been replaced (superseded)"});
    const TimePoint now = clk->now();
    // The remaining validity carries over; an expired certificate gets a full new term.
    ra::ReissueOf of{record.serial_hex, record.not_after};
    const bool expired = now >= record.not_after;
    auto ticket = expired ? b->open_application(*bearer(req), store_purpose(describe(record).purpose),
                                                ra::ApplicationKind::reissue)
                          : b->open_reissue_application(
                                *bearer(req), store_purpose(describe(record).purpose), of);
    if (!ticket.ok()) return error_response(ticket.error());
    (void)b->logout(*bearer(req));
    json j = {{"reference", ticket->ref},
              {"authorization_code", std::string(ticket->auth_code.view())},
              {"expires_at", unix_seconds(ticket->expires_at)},
              {"replaces", display_serial(record.serial_hex)},
              {"purpose", pki::purpose_name(describe(record).purpose)}};
    if (!expired) j["not_after"] = unix_seconds(record.not_after);
    return json_response(201, j);
  }, small);
}

}  // namespace dojang::service
