#include "dojang/service/relay_api.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include <mutex>
#include <string>
#include <unordered_map>

#include "dojang/pki/aead.hpp"
#include "dojang/pki/hex.hpp"
#include "dojang/pki/random.hpp"
#include "service/internal/json_api.hpp"

namespace dojang::service {

using internal::bearer;
using internal::error_response;
using internal::field;
using internal::json_response;
using internal::parse_object;
using nlohmann::json;

namespace {

constexpr std::string_view kSessionsPath = "/api/v1/relay/sessions";
constexpr std::size_t kPakeMessageBytes = 32;  // a ristretto255 element
constexpr std::size_t kConfirmBytes = 32;
constexpr std::size_t kTokenBytes = 32;

std::optional<Bytes> unhex(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out(s.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

ByteView view(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

bool valid_session_id(std::string_view id) {
  if (id.size() != kRelaySessionDigits) return false;
  for (char c : id)
    if (c < '0' || c > '9') return false;
  return true;
}

// The relay keys sessions by a hash of the id, so its database holds no digit of the code.
Result<Bytes> id_hash(std::string_view id) { return pki::sha256(view("dojang-relay-session:" + std::string(id))); }

std::int64_t unix_of(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A hex field of exactly `size` bytes (or at most max_size when size is 0).
std::optional<Bytes> hex_field(const json& j, const char* name, std::size_t size, std::size_t max_size,
                               Response* err) {
  auto text = field(j, name, err);
  if (!text) return std::nullopt;
  if (text->size() > 2 * std::max(size, max_size)) {
    *err = error_response({Errc::usage, std::string("field \"") + name + "\" is too large"});
    return std::nullopt;
  }
  auto bytes = unhex(*text);
  if (!bytes || (size != 0 && bytes->size() != size) || bytes->empty()) {
    *err = error_response({Errc::usage, std::string("field \"") + name + "\" must be " +
                                            (size != 0 ? std::to_string(size) + " bytes of hex" : "hex")});
    return std::nullopt;
  }
  return bytes;
}

class Relay {
 public:
  Relay(store::RelayStore& store, const Clock& clock, RelayOptions options)
      : store_(&store), clock_(&clock), options_(options) {}

  Response create(const Request& req) const {
    if (auto wait = throttled(req.remote_address, clock_->now())) {
      Response r = json_response(
          429, {{"error", "rate_limited"},
                {"message", "too many copy sessions opened from this address; try again in " +
                                std::to_string(*wait) + " s"}});
      r.headers.emplace_back("Retry-After", std::to_string(*wait));
      return r;
    }
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto id = field(*j, "session", &err);
    if (!id) return err;
    if (!valid_session_id(*id))
      return error_response({Errc::usage, "session must be " + std::to_string(kRelaySessionDigits) + " digits"});
    auto message = hex_field(*j, "message", kPakeMessageBytes, 0, &err);
    if (!message) return err;
    const TimePoint now = clock_->now();
    (void)store_->purge_expired(now);
    auto token = pki::random_bytes(kTokenBytes);
    if (!token.ok()) return error_response(token.error());
    store::RelaySessionRecord r;
    auto h = id_hash(*id);
    auto th = pki::sha256(*token);
    if (!h.ok() || !th.ok()) return error_response({Errc::crypto, "hashing failed"});
    r.id_hash = *h;
    r.token_hash = *th;
    r.created_at = now;
    r.expires_at = now + options_.ttl;
    r.receiver_message = std::move(*message);
    auto st = store_->create(r);
    if (!st.ok()) return error_response(st.error());
    return json_response(201, {{"token", pki::to_hex(*token)},
                               {"expires_at", unix_of(r.expires_at)},
                               {"ttl", options_.ttl.count()}});
  }

  // Counts an opening by `address` in its current one-minute window; the
  // seconds until the window ends when the address is over its limit.
  std::optional<std::int64_t> throttled(std::string_view address, TimePoint now) const {
    constexpr std::int64_t kWindow = 60;
    const std::int64_t t = unix_of(now);
    std::lock_guard<std::mutex> lock(opens_mu_);
    if (opens_.size() > 4096)  // forget finished windows before the map grows further
      std::erase_if(opens_, [&](const auto& e) { return t - e.second.start >= kWindow; });
    Window& w = opens_[std::string(address)];
    if (t - w.start >= kWindow) w = Window{t, 0};
    if (w.count >= options_.max_opens_per_minute) return w.start + kWindow - t;
    ++w.count;
    return std::nullopt;
  }

  // /api/v1/relay/sessions/ID[/offer|/failure]
  Response dispatch(const Request& req) const {
    std::string_view rest = req.path.substr(kSessionsPath.size() + 1);
    std::string_view id = rest.substr(0, rest.find('/'));
    std::string_view action = id.size() < rest.size() ? rest.substr(id.size() + 1) : std::string_view();
    if (!valid_session_id(id)) return error_response({Errc::not_found, "no such copy session"});
    auto session = live(id);
    if (!session.ok()) return error_response(session.error());
    const std::string method(req.method);
    if (action.empty() && (method == "GET" || method == "HEAD")) return status(*session);
    if (action == "offer" && method == "POST") return offer(req, *session);
    if (action.empty() && method == "DELETE") return pickup(req, *session);
    if (action == "offer" && method == "GET") return read_offer(req, *session);
    if (action == "failure" && method == "POST") return failure(req, *session);
    return error_response({Errc::not_found, "no such relay endpoint"});
  }

 private:
  // The session, unless it is missing or expired (then it is deleted).
  Result<store::RelaySessionRecord> live(std::string_view id) const {
    DOJANG_ASSIGN(Bytes h, id_hash(id));
    DOJANG_ASSIGN(store::RelaySessionRecord r, store_->find(h));
    if (clock_->now() >= r.expires_at) {
      (void)store_->remove(h);
      return Error{Errc::not_found, "the copy session expired"};
    }
    return r;
  }

  static Response locked(const store::RelaySessionRecord& r) {
    return json_response(403, {{"error", "policy"},
                               {"state", "locked"},
                               {"failures", r.failures},
                               {"message", "the copy session is locked after " + std::to_string(r.failures) +
                                               " wrong codes"}});
  }

  Response status(const store::RelaySessionRecord& r) const {
    if (r.state == store::RelayState::locked) return locked(r);
    return json_response(200, {{"state", store::to_string(r.state)},
                               {"failures", r.failures},
                               {"message", pki::to_hex(r.receiver_message)},
                               {"expires_at", unix_of(r.expires_at)}});
  }

  Response offer(const Request& req, const store::RelaySessionRecord& r) const {
    if (r.state == store::RelayState::locked) return locked(r);
    Response err;
    auto j = parse_object(req, &err);
    if (!j) return err;
    auto message = hex_field(*j, "message", kPakeMessageBytes, 0, &err);
    auto confirm = message ? hex_field(*j, "confirm", kConfirmBytes, 0, &err) : std::nullopt;
    auto bundle = confirm ? hex_field(*j, "bundle", 0, options_.max_bundle_bytes, &err) : std::nullopt;
    if (!bundle) return err;
    auto st = store_->offer(r.id_hash, {std::move(*message), std::move(*confirm), std::move(*bundle)});
    if (!st.ok()) {
      // A second upload while one waits is a conflict, not a policy refusal.
      if (st.error().code == Errc::policy && r.state != store::RelayState::locked)
        return json_response(409, {{"error", "already_exists"}, {"message", st.error().message}});
      return error_response(st.error());
    }
    return json_response(201, {{"state", "offered"}});
  }

  // Only the device that opened the session (holder of its token) reads the
  // offer, reports a failure or deletes the session.
  bool receiver(const Request& req, const store::RelaySessionRecord& r) const {
    auto tok = bearer(req);
    if (!tok) return false;
    auto raw = unhex(*tok);
    if (!raw) return false;
    auto h = pki::sha256(*raw);
    return h.ok() && h->size() == r.token_hash.size() &&
           CRYPTO_memcmp(h->data(), r.token_hash.data(), h->size()) == 0;
  }
  static Response not_receiver() {
    return error_response({Errc::wrong_password, "only the receiving device may do this"});
  }

  Response read_offer(const Request& req, const store::RelaySessionRecord& r) const {
    if (!receiver(req, r)) return not_receiver();
    if (r.state == store::RelayState::locked) return locked(r);
    if (!r.offer) return json_response(200, {{"state", "waiting"}, {"failures", r.failures}});
    return json_response(200, {{"state", "offered"},
                               {"failures", r.failures},
                               {"message", pki::to_hex(r.offer->message)},
                               {"confirm", pki::to_hex(r.offer->confirm)},
                               {"bundle", pki::to_hex(r.offer->bundle)}});
  }

  Response failure(const Request& req, const store::RelaySessionRecord& r) const {
    if (!receiver(req, r)) return not_receiver();
    auto after = store_->fail(r.id_hash, options_.max_failures);
    if (!after.ok()) return error_response(after.error());
    return json_response(200, {{"state", store::to_string(after->state)}, {"failures", after->failures}});
  }

  Response pickup(const Request& req, const store::RelaySessionRecord& r) const {
    if (!receiver(req, r)) return not_receiver();
    auto st = store_->remove(r.id_hash);
    if (!st.ok()) return error_response(st.error());
    Response resp;
    resp.status = 204;
    resp.headers.emplace_back("Cache-Control", "no-store");
    return resp;
  }

  store::RelayStore* store_;
  const Clock* clock_;
  RelayOptions options_;
  struct Window {
    std::int64_t start = 0;  // unix seconds
    int count = 0;
  };
  mutable std::mutex opens_mu_;
  mutable std::unordered_map<std::string, Window> opens_;  // by peer address
};

}  // namespace

void register_relay_api(Router& router, store::RelayStore& store, const Clock& clock, RelayOptions options) {
  auto relay = std::make_shared<Relay>(store, clock, options);
  // Hex doubles the ciphertext; JSON adds a little.
  const std::size_t max_body = 2 * options.max_bundle_bytes + 4096;
  // Every route commits to the relay database: blocking (RouteOptions::blocking).
  router.handle("POST", std::string(kSessionsPath),
                [relay](const Request& req) { return relay->create(req); }, {PathMatch::exact, 4096, true});
  const std::string prefix = std::string(kSessionsPath) + "/";
  auto d = [relay](const Request& req) { return relay->dispatch(req); };
  router.handle("GET", prefix, d, {PathMatch::prefix, 1024, true});
  router.handle("POST", prefix, d, {PathMatch::prefix, max_body, true});
  router.handle("DELETE", prefix, d, {PathMatch::prefix, 1024, true});
}

}  // namespace dojang::service
