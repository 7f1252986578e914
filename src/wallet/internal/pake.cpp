#include "wallet/internal/pake.hpp"

#include <cstdint>
#include <mutex>
#include <string>

namespace dojang::wallet::internal {

namespace {

constexpr std::string_view kGeneratorDsi = "DojangCPace255";
constexpr std::string_view kIskDsi = "DojangCPace255-ISK";

Status sodium_ready() {
  static int rc = ::sodium_init();  // thread-safe, idempotent; -1 only on failure
  if (rc < 0) return Error{Errc::crypto, "libsodium could not be initialised"};
  return {};
}

// Appends a length-prefixed field (2-byte big-endian length).
void lv(Bytes& out, ByteView field) {
  out.push_back(static_cast<std::uint8_t>(field.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(field.size() & 0xff));
  out.insert(out.end(), field.begin(), field.end());
}

ByteView bytes_of(std::string_view s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

// Keyed BLAKE2b-256(key, label).
Bytes keyed(const SecretBytes& key, std::string_view label) {
  Bytes out(32);
  ::crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(label.data()),
                       label.size(), key.data(), key.size());
  return out;
}

}  // namespace

Result<Pake> Pake::start(PakeRole role, std::string_view sid, const SecretString& prs) {
  DOJANG_TRY(sodium_ready());
  if (sid.empty() || prs.empty()) return Error{Errc::usage, "the copy code is empty"};
  // g = map_to_group(H(DSI || lv(PRS) || lv(sid)))
  SecretBytes input;
  {
    Bytes in(kGeneratorDsi.begin(), kGeneratorDsi.end());
    lv(in, prs.bytes());
    lv(in, bytes_of(sid));
    input = SecretBytes(in);
    secure_wipe(in.data(), in.size());
  }
  SecretBytes hash(crypto_core_ristretto255_HASHBYTES);
  ::crypto_generichash(hash.data(), hash.size(), input.data(), input.size(), nullptr, 0);
  SecretBytes g(crypto_core_ristretto255_BYTES);
  if (::crypto_core_ristretto255_from_hash(g.data(), hash.data()) != 0)
    return Error{Errc::crypto, "hash to ristretto255 failed"};

  Pake p(role, std::string(sid));
  p.scalar_ = SecretBytes(crypto_core_ristretto255_SCALARBYTES);
  p.message_.resize(crypto_core_ristretto255_BYTES);
  for (int attempt = 0; attempt < 8; ++attempt) {
    ::crypto_core_ristretto255_scalar_random(p.scalar_.data());
    if (::crypto_scalarmult_ristretto255(p.message_.data(), p.scalar_.data(), g.data()) == 0) return p;
  }
  return Error{Errc::crypto, "could not compute the PAKE message"};
}

Result<PakeKeys> Pake::finish(ByteView peer) const {
  if (peer.size() != kPakeMessageBytes || ::crypto_core_ristretto255_is_valid_point(peer.data()) != 1)
    return Error{Errc::invalid_input, "the other device's PAKE message is not a valid group element"};
  SecretBytes k(crypto_core_ristretto255_BYTES);
  if (::crypto_scalarmult_ristretto255(k.data(), scalar_.data(), peer.data()) != 0)
    return Error{Errc::invalid_input, "the other device's PAKE message is degenerate"};

  const ByteView y_receiver = role_ == PakeRole::receiver ? ByteView(message_) : peer;
  const ByteView y_sender = role_ == PakeRole::receiver ? peer : ByteView(message_);
  PakeKeys keys;
  lv(keys.transcript, bytes_of(sid_));
  lv(keys.transcript, y_receiver);
  lv(keys.transcript, y_sender);

  SecretBytes isk(crypto_generichash_BYTES_MAX);  // 64
  {
    Bytes in(kIskDsi.begin(), kIskDsi.end());
    lv(in, bytes_of(sid_));
    in.insert(in.end(), k.data(), k.data() + k.size());
    lv(in, y_receiver);
    lv(in, y_sender);
    ::crypto_generichash(isk.data(), isk.size(), in.data(), in.size(), nullptr, 0);
    secure_wipe(in.data(), in.size());
  }
  Bytes bundle_key = keyed(isk, "dojang copy bundle key");
  keys.bundle_key = SecretBytes(bundle_key);
  secure_wipe(bundle_key.data(), bundle_key.size());
  keys.sender_tag = keyed(isk, "dojang copy sender confirmation");
  keys.receiver_tag = keyed(isk, "dojang copy receiver confirmation");
  return keys;
}

bool tags_equal(ByteView a, ByteView b) noexcept {
  return a.size() == b.size() && ::sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace dojang::wallet::internal
