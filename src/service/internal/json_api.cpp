#include "service/internal/json_api.hpp"

#include "dojang/service/bank_api.hpp"

namespace dojang::service::internal {

Response json_response(int status, const nlohmann::json& j) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump();
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response error_response(const Error& e) {
  return json_response(http_status_for(e.code), {{"error", errc_name(e.code)}, {"message", e.message}});
}

// Parses the body as a JSON object; nullopt and *err set when it is not one.
std::optional<nlohmann::json> parse_object(const Request& req, Response* err) {
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *err = error_response({Errc::usage, "the body must be a JSON object"});
    return std::nullopt;
  }
  return j;
}

// A required string field; sets *err when missing.
std::optional<std::string> field(const nlohmann::json& j, const char* name, Response* err) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) {
    *err = error_response({Errc::usage, std::string("missing string field \"") + name + "\""});
    return std::nullopt;
  }
  return it->get<std::string>();
}

// The bearer token of "Authorization: Bearer <token>".
std::optional<std::string_view> bearer(const Request& req) {
  auto h = req.header("Authorization");
  if (!h || !h->starts_with("Bearer ")) return std::nullopt;
  return h->substr(7);
}

}  // namespace dojang::service::internal
