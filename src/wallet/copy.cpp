#include "dojang/wallet/copy.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <thread>

#include "dojang/pki/keyfile.hpp"
#include "wallet/internal/add_once.hpp"
#include "wallet/internal/fs.hpp"
#include "wallet/internal/http_client.hpp"
#include "wallet/internal/pake.hpp"

namespace dojang::wallet {

namespace {

using internal::JsonReply;
using internal::JsonHttp;
using internal::Pake;
using internal::PakeKeys;
using internal::PakeRole;
using nlohmann::json;

constexpr std::string_view kSessions = "/api/v1/relay/sessions";
constexpr std::size_t kMaxCredentialFile = 1u << 20;
constexpr int kBundleVersion = 1;

std::string to_hex(ByteView b) {
  std::string s(b.size() * 2 + 1, '\0');
  ::sodium_bin2hex(s.data(), s.size(), b.data(), b.size());
  s.pop_back();
  return s;
}

std::optional<Bytes> from_hex(std::string_view s) {
  Bytes out(s.size() / 2);
  std::size_t len = 0;
  if (s.size() % 2 != 0 ||
      ::sodium_hex2bin(out.data(), out.size(), s.data(), s.size(), nullptr, &len, nullptr) != 0 ||
      len != out.size())
    return std::nullopt;
  return out;
}

// A hex string field of a relay answer.
Result<Bytes> hex_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string())
    return Error{Errc::invalid_input, std::string("the relay's answer lacks \"") + name + "\""};
  auto b = from_hex(it->get_ref<const std::string&>());
  if (!b) return Error{Errc::invalid_input, std::string("the relay's \"") + name + "\" is not hex"};
  return *b;
}

std::int64_t int_field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::string string_field(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string session_path(std::string_view sid, std::string_view action = {}) {
  std::string p = std::string(kSessions) + "/" + std::string(sid);
  if (!action.empty()) p += "/" + std::string(action);
  return p;
}

SecretString random_digits(std::size_t n) {
  std::string s(n, '0');
  for (char& c : s) c = static_cast<char>('0' + ::randombytes_uniform(10));
  return SecretString(std::move(s));
}

// AEAD associated data: a label and the PAKE transcript.
Bytes associated_data(const PakeKeys& keys) {
  constexpr std::string_view label = "dojang copy bundle v1";
  Bytes ad(label.size() + keys.transcript.size());
  std::memcpy(ad.data(), label.data(), label.size());
  std::copy(keys.transcript.begin(), keys.transcript.end(), ad.begin() + static_cast<long>(label.size()));
  return ad;
}

// nonce(24) || XChaCha20-Poly1305(bundle key, plaintext, ad)
Bytes seal(const PakeKeys& keys, const SecretString& plaintext) {
  Bytes ad = associated_data(keys);
  Bytes out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
            crypto_aead_xchacha20poly1305_ietf_ABYTES);
  ::randombytes_buf(out.data(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long len = 0;
  ::crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &len,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), ad.data(), ad.size(),
      nullptr, out.data(), keys.bundle_key.data());
  out.resize(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len);
  return out;
}

Result<SecretString> open_sealed(const PakeKeys& keys, ByteView sealed) {
  constexpr std::size_t overhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  const Error tampered{Errc::invalid_input,
                       "the copied certificate failed its integrity check (altered on the way): nothing stored"};
  if (sealed.size() < overhead) return tampered;
  Bytes ad = associated_data(keys);
  std::string plain(sealed.size() - overhead, '\0');
  unsigned long long len = 0;
  int rc = ::crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr,
      sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
      sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad.data(), ad.size(), sealed.data(),
      keys.bundle_key.data());
  SecretString out(std::move(plain));
  if (rc != 0) return tampered;
  return out;
}

SecretString encode_bundle(const CopyBundle& b) {
  json j = {{"v", kBundleVersion}, {"sign_cert", to_hex(b.sign_cert)}, {"sign_key", to_hex(b.sign_key)}};
  if (b.km) {
    j["km_cert"] = to_hex(b.km->first);
    j["km_key"] = to_hex(b.km->second);
  }
  return internal::dump_and_wipe(j);
}

Result<CopyBundle> decode_bundle(const SecretString& text) {
  json j = json::parse(text.view(), nullptr, false);
  struct Wipe {
    json& j;
    ~Wipe() { (void)internal::dump_and_wipe(j); }
  } wipe{j};
  const Error bad{Errc::invalid_input, "the copied bundle is malformed"};
  if (!j.is_object() || int_field(j, "v") != kBundleVersion) return bad;
  CopyBundle b;
  auto cert = from_hex(string_field(j, "sign_cert"));
  auto key = from_hex(string_field(j, "sign_key"));
  if (!cert || !key || cert->empty() || key->empty()) return bad;
  b.sign_cert = std::move(*cert);
  b.sign_key = std::move(*key);
  if (j.contains("km_cert") || j.contains("km_key")) {
    auto kc = from_hex(string_field(j, "km_cert"));
    auto kk = from_hex(string_field(j, "km_key"));
    if (!kc || !kk || kc->empty() || kk->empty()) return bad;
    b.km.emplace(std::move(*kc), std::move(*kk));
  }
  return b;
}

Result<JsonHttp> relay_client(const RelayEndpoint& relay) {
  return JsonHttp::create(relay.url, relay.ca_file, relay.timeout_seconds, "the relay");
}

TimePoint from_unix(std::int64_t s) { return TimePoint(std::chrono::seconds(s)); }

}  // namespace

std::string group_code(std::string_view digits) {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += ' ';
    out += digits[i];
  }
  return out;
}

Result<SecretString> parse_code(std::string_view typed) {
  std::string digits;
  for (char c : typed) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != ' ' && c != '-' && c != '\t' && c != '\n' && c != '\r') {
      secure_wipe(digits.data(), digits.size());
      return Error{Errc::usage, "the copy code has only digits (spaces and dashes are ignored)"};
    }
  }
  SecretString code(std::move(digits));
  if (code.size() != kCopyCodeDigits)
    return Error{Errc::usage, "the copy code has " + std::to_string(kCopyCodeDigits) + " digits, not " +
                                  std::to_string(code.size())};
  return code;
}

struct CopyReceiver::Impl {
  JsonHttp http;
  SecretString code;
  std::string sid;
  Pake pake;
  SecretString token;
  TimePoint expires_at;
};

CopyReceiver::CopyReceiver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CopyReceiver::~CopyReceiver() = default;
const SecretString& CopyReceiver::code() const noexcept { return impl_->code; }
TimePoint CopyReceiver::expires_at() const noexcept { return impl_->expires_at; }

Result<std::unique_ptr<CopyReceiver>> CopyReceiver::open(const RelayEndpoint& relay) {
  if (::sodium_init() < 0) return Error{Errc::crypto, "libsodium could not be initialised"};
  DOJANG_ASSIGN(JsonHttp http, relay_client(relay));
  for (int attempt = 0;; ++attempt) {
    SecretString sid = random_digits(kCopySessionDigits);
    SecretString secret = random_digits(kCopySecretDigits);
    DOJANG_ASSIGN(Pake pake, Pake::start(PakeRole::receiver, sid.view(), secret));
    json j = {{"session", std::string(sid.view())}, {"message", to_hex(pake.message())}};
    SecretString body(j.dump());
    auto reply = http.request("POST", kSessions, &body, nullptr);
    if (!reply.ok()) {
      if (reply.error().code == Errc::already_exists && attempt < 5) continue;  // id taken: draw again
      return std::move(reply).error();
    }
    auto tok = reply->body.find("token");
    if (tok == reply->body.end() || !tok->is_string())
      return Error{Errc::invalid_input, "the relay's answer lacks the session token"};
    std::string code_text = std::string(sid.view()) + std::string(secret.view());
    auto impl = std::unique_ptr<Impl>(new Impl{std::move(http), SecretString(std::move(code_text)),
                                                std::string(sid.view()), std::move(pake),
                                                SecretString(tok->get<std::string>()),
                                                from_unix(int_field(reply->body, "expires_at"))});
    return std::unique_ptr<CopyReceiver>(new CopyReceiver(std::move(impl)));
  }
}

Result<CopyBundle> CopyReceiver::receive(std::chrono::milliseconds poll) {
  Impl& s = *impl_;
  int failures = 0;
  const std::string offer_path = session_path(s.sid, "offer");
  for (;;) {
    auto reply = s.http.request("GET", offer_path, nullptr, &s.token);
    if (!reply.ok()) {
      if (reply.error().code == Errc::not_found)
        return Error{Errc::policy, "the copy code expired before a device sent a certificate: start again"};
      return std::move(reply).error();
    }
    if (string_field(reply->body, "state") != "offered") {
      if (std::chrono::system_clock::now() > s.expires_at + std::chrono::seconds(5))
        return Error{Errc::policy, "the copy code expired before a device sent a certificate: start again"};
      std::this_thread::sleep_for(poll);
      continue;
    }
    DOJANG_ASSIGN(Bytes message, hex_field(reply->body, "message"));
    DOJANG_ASSIGN(Bytes confirm, hex_field(reply->body, "confirm"));
    DOJANG_ASSIGN(Bytes sealed, hex_field(reply->body, "bundle"));
    auto keys = s.pake.finish(message);
    if (!keys.ok() || !internal::tags_equal(confirm, keys->sender_tag)) {
      // A wrong code (or a forged upload): tell the relay, which counts it.
      ++failures;
      auto failed = s.http.request("POST", session_path(s.sid, "failure"), nullptr, &s.token);
      if (!failed.ok()) return std::move(failed).error();
      if (string_field(failed->body, "state") == "locked" || failures >= kCopyMaxFailures)
        return Error{Errc::policy, "the copy session is locked after " + std::to_string(kCopyMaxFailures) +
                                       " wrong codes: start again"};
      continue;
    }
    auto plain = open_sealed(*keys, sealed);
    if (!plain.ok()) {
      (void)s.http.request("POST", session_path(s.sid, "failure"), nullptr, &s.token);
      return std::move(plain).error();
    }
    // Picked up: the relay deletes its copy of the ciphertext now.
    DOJANG_TRY(s.http.request("DELETE", session_path(s.sid), nullptr, &s.token));
    return decode_bundle(*plain);
  }
}

Result<StoredCredential> store_bundle(NpkiStore& store, const CopyBundle& bundle, const SecretString& password,
                                      bool overwrite) {
  DOJANG_ASSIGN(pki::Certificate cert, pki::Certificate::from_der(bundle.sign_cert));
  DOJANG_ASSIGN(pki::DecryptedKey key, pki::decrypt_key_file(bundle.sign_key, password));
  if (!cert.matches(key.key))
    return Error{Errc::key_mismatch, "the copied signPri.key does not belong to the copied certificate"};
  if (bundle.km) {
    DOJANG_ASSIGN(pki::Certificate km_cert, pki::Certificate::from_der(bundle.km->first));
    auto km_key = pki::decrypt_key_file(bundle.km->second, password);
    if (!km_key.ok())
      return Error{km_key.error().code, "the copied kmPri.key: " + km_key.error().message};
    if (!km_cert.matches(km_key->key))
      return Error{Errc::key_mismatch, "the copied kmPri.key does not belong to the copied kmCert.der"};
  }
  return internal::add_once(store, bundle.sign_cert, bundle.sign_key, bundle.km, overwrite);
}

Status send_credential(const RelayEndpoint& relay, const StoredCredential& cred, const SecretString& code,
                       std::chrono::milliseconds poll) {
  if (::sodium_init() < 0) return Error{Errc::crypto, "libsodium could not be initialised"};
  if (cred.broken()) return Error{Errc::invalid_input, cred.folder.string() + ": " + cred.broken_reason};
  DOJANG_ASSIGN(SecretString digits, parse_code(code.view()));
  const std::string sid(digits.view().substr(0, kCopySessionDigits));
  const SecretString secret(std::string(digits.view().substr(kCopySessionDigits)));

  CopyBundle bundle;
  DOJANG_ASSIGN(bundle.sign_cert, internal::read_file(cred.cert_path, kMaxCredentialFile));
  DOJANG_ASSIGN(bundle.sign_key, internal::read_file(cred.key_path, kMaxCredentialFile));
  if (cred.km_cert_path && cred.km_key_path) {
    DOJANG_ASSIGN(Bytes kc, internal::read_file(*cred.km_cert_path, kMaxCredentialFile));
    DOJANG_ASSIGN(Bytes kk, internal::read_file(*cred.km_key_path, kMaxCredentialFile));
    bundle.km.emplace(std::move(kc), std::move(kk));
  }

  DOJANG_ASSIGN(JsonHttp http, relay_client(relay));
  auto session = http.request("GET", session_path(sid), nullptr, nullptr);
  if (!session.ok()) {
    if (session.error().code == Errc::not_found)
      return Error{Errc::not_found, "no copy session for this code: it expired, was used, or is mistyped"};
    return std::move(session).error();
  }
  if (string_field(session->body, "state") != "waiting")
    return Error{Errc::policy, "another device is sending to this code right now: try again shortly"};
  const std::int64_t failures_before = int_field(session->body, "failures");
  const TimePoint expires_at = from_unix(int_field(session->body, "expires_at"));
  DOJANG_ASSIGN(Bytes receiver_message, hex_field(session->body, "message"));

  DOJANG_ASSIGN(Pake pake, Pake::start(PakeRole::sender, sid, secret));
  DOJANG_ASSIGN(PakeKeys keys, pake.finish(receiver_message));
  SecretString plain = encode_bundle(bundle);
  Bytes sealed = seal(keys, plain);
  json offer = {{"message", to_hex(pake.message())}, {"confirm", to_hex(keys.sender_tag)}, {"bundle", to_hex(sealed)}};
  SecretString body(offer.dump());
  auto sent = http.request("POST", session_path(sid, "offer"), &body, nullptr);
  if (!sent.ok()) {
    if (sent.error().code == Errc::already_exists)
      return Error{Errc::policy, "another device is sending to this code right now: try again shortly"};
    return std::move(sent).error();
  }

  // Delivered when the receiver deletes the session; a failure count that
  // goes up means the receiver's code differs from ours.
  for (;;) {
    std::this_thread::sleep_for(poll);
    auto st = http.request("GET", session_path(sid), nullptr, nullptr);
    if (!st.ok()) {
      if (st.error().code == Errc::not_found) {
        if (std::chrono::system_clock::now() < expires_at) return {};
        return Error{Errc::policy, "the copy code expired before the other device took the certificate"};
      }
      if (st.error().code == Errc::policy)
        return Error{Errc::policy, "the copy session is locked after too many wrong codes: start again"};
      return std::move(st).error();
    }
    if (int_field(st->body, "failures") > failures_before)
      return Error{Errc::invalid_input,
                   "the receiving device did not accept the code: check it and send again"};
  }
}

}  // namespace dojang::wallet
