#include "wallet/internal/http_client.hpp"

#include <array>

#include "wallet/internal/http.hpp"

#include "dojang/wallet/bank_client.hpp"

namespace dojang::wallet::internal {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxResponse = 128 * 1024;  // the relay's bundle is the largest answer

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

}  // namespace

// Serialises an object and wipes the copies of its string values.
SecretString dump_and_wipe(nlohmann::json& j) {
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

Result<JsonHttp> JsonHttp::create(const std::string& url, const std::string& ca_file, int timeout_seconds,
                                  std::string peer) {
  if (timeout_seconds < 0) return Error{Errc::usage, "negative timeout"};
  JsonHttp h;
  DOJANG_ASSIGN(h.base_, checked_base_url(url));
  h.ca_file_ = ca_file;
  h.timeout_ = timeout_seconds;
  h.peer_ = std::move(peer);
  return h;
}

Result<JsonReply> JsonHttp::request(std::string_view method, std::string_view path, const SecretString* body,
                                    const SecretString* token) const {
  HttpRequest req;
  req.url = base_ + std::string(path);
  req.post = method == "POST";
  const std::string method_text(method);
  if (!req.post && method != "GET") req.method = method_text.c_str();
  if (body != nullptr) req.body = body->bytes();
  req.ca_file = ca_file_;
  req.timeout_seconds = timeout_;
  req.max_response = kMaxResponse;
  req.headers = {"Content-Type: application/json", "Accept: application/json"};
  if (token != nullptr) req.headers.push_back("Authorization: Bearer " + std::string(token->view()));
  std::string response;
  auto performed = http_perform(req, response);
  SecretString keep(std::move(response));  // wipes the response whatever happens
  if (token != nullptr) secure_wipe(req.headers.back().data(), req.headers.back().size());
  if (!performed.ok()) {
    const Error& e = performed.error();
    if (e.code != Errc::io) return e;
    if (e.message.starts_with("the answer is larger")) return Error{Errc::io, peer_ + "'s " + e.message.substr(4)};
    return Error{Errc::io, "cannot reach " + peer_ + " at " + base_ + ": " + e.message};
  }
  JsonReply reply;
  reply.status = performed->status;
  if (reply.status == 204) return reply;
  reply.body = json::parse(keep.view(), nullptr, false);
  if (reply.status >= 200 && reply.status < 300) {
    if (reply.body.is_discarded() || !reply.body.is_object())
      return Error{Errc::invalid_input, peer_ + "'s answer is not a JSON object (HTTP " +
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
  if (reply.status >= 500) message = peer_ + "'s server failed: " + message;
  return Error{code, message};
}

}  // namespace dojang::wallet::internal
