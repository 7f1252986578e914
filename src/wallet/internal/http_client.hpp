// The wallet's JSON-over-HTTP client (on internal/http.hpp's libcurl client):
// the bank's REST API and the device-copy relay. Bounded responses, wiped buffers, no redirects,
// plain http only to loopback.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet::internal {

struct JsonReply {
  long status = 0;
  nlohmann::json body;  // the JSON object of a 2xx answer (null for 204)
};

class JsonHttp {
 public:
  // Checks the URL: http(s) only, plain http only to a loopback address, no
  // user info, query or fragment. `peer` names the server in messages ("the bank").
  static Result<JsonHttp> create(const std::string& url, const std::string& ca_file, int timeout_seconds,
                                 std::string peer);

  // One request to base + path; body (JSON) for POST, bearer token when given.
  // A 2xx answer must be a JSON object (or empty for 204). A non-2xx answer is
  // an Error with the Errc its "error" field names and its "message"; 5xx,
  // connection failures and oversized answers are io.
  Result<JsonReply> request(std::string_view method, std::string_view path, const SecretString* body,
                            const SecretString* bearer) const;

  const std::string& base() const noexcept { return base_; }

 private:
  JsonHttp() = default;
  std::string base_;  // scheme://host[:port][/prefix] without a trailing '/'
  std::string ca_file_;
  long timeout_ = 30;
  std::string peer_;
};

// Serialises an object and wipes the copies of its string values.
SecretString dump_and_wipe(nlohmann::json& j);

}  // namespace dojang::wallet::internal
