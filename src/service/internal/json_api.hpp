// Shared plumbing of the JSON REST handlers under /api/v1/ (bank, relay).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/service/http.hpp"

namespace dojang::service::internal {

// A JSON response with Cache-Control: no-store.
Response json_response(int status, const nlohmann::json& j);
// {"error": <errc name>, "message": ...} with the status http_status_for() gives.
Response error_response(const Error& e);
// The body as a JSON object; nullopt and *err set when it is not one.
std::optional<nlohmann::json> parse_object(const Request& req, Response* err);
// A required string field; nullopt and *err set when missing.
std::optional<std::string> field(const nlohmann::json& j, const char* name, Response* err);
// The token of "Authorization: Bearer <token>".
std::optional<std::string_view> bearer(const Request& req);

}  // namespace dojang::service::internal
