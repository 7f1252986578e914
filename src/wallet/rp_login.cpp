#include "dojang/wallet/rp_login.hpp"

#include <nlohmann/json.hpp>

#include "dojang/pki/signing.hpp"
#include "wallet/internal/http.hpp"

namespace dojang::wallet {

namespace {

using nlohmann::json;

Result<json> exchange(const RpLoginOptions& o, const std::string& url, bool post, ByteView body,
                      long& status) {
  internal::HttpRequest req;
  req.url = url;
  req.post = post;
  req.body = body;
  req.ca_file = o.ca_file;
  req.timeout_seconds = o.timeout_seconds;
  req.headers = {"Accept: application/json"};
  if (post) req.headers.push_back("Content-Type: application/pkcs7-signature");
  std::string out;
  auto reply = internal::http_perform(req, out);
  if (!reply.ok()) {
    if (reply.error().code != Errc::io) return reply.error();
    return Error{Errc::io,
                 "cannot reach the relying party at " + url + ": " + reply.error().message};
  }
  status = reply->status;
  json j = json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error{Errc::invalid_input,
                 "the relying party's answer is not JSON (HTTP " + std::to_string(status) + ")"};
  return j;
}

std::string string_field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<RpLoginResult> rp_login(const RpLoginOptions& o, const UnlockedCredential& cred,
                               const Clock& clock) {
  DOJANG_ASSIGN(std::string base, internal::checked_base_url(o.server));
  if (o.include_random && !cred.key.random_num)
    return Error{Errc::usage, "--include-random: the key file holds no randomNum (R)"};
  long status = 0;
  DOJANG_ASSIGN(json ch, exchange(o, base + "/challenge", false, {}, status));
  std::string challenge = string_field(ch, "challenge");
  if (status != 200 || challenge.empty())
    return Error{Errc::invalid_input,
                 "the relying party gave no challenge (HTTP " + std::to_string(status) + ")"};

  pki::CmsSignOptions so;
  so.random_num = o.include_random ? &*cred.key.random_num : nullptr;
  DOJANG_ASSIGN(Bytes sig,
                pki::sign_cms(cred.key.key, cred.cert,
                              ByteView(reinterpret_cast<const std::uint8_t*>(challenge.data()),
                                       challenge.size()),
                              so, clock));
  DOJANG_ASSIGN(json verdict, exchange(o, base + "/login", true, sig, status));
  std::string reason = string_field(verdict, "reason");
  if (status == 200) return RpLoginResult{string_field(verdict, "user"), reason};
  if (reason.empty()) reason = "HTTP " + std::to_string(status);
  std::string message = "the relying party refused the login: " + reason;
  switch (status) {
    case 401:
      return Error{Errc::bad_signature, message};
    case 403:
      return Error{Errc::policy, message};
    case 503:
      return Error{Errc::io, message};
    default:
      return Error{Errc::invalid_input, message};
  }
}

}  // namespace dojang::wallet
