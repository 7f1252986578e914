// CPace over ristretto255 (after draft-irtf-cfrg-cpace), with libsodium: the
// balanced PAKE of device copy. Both devices know the code's secret part (the
// PRS) and the session id; each sends one group element. Someone who sees
// both messages (the relay) learns nothing that lets it test guesses of the
// PRS offline; an active attacker gets one guess per run, and a wrong guess
// shows as a failed key confirmation.
//
//   g  = map_to_group(H("DojangCPace255" || lv(PRS) || lv(sid)))   -- crypto_core_ristretto255_from_hash
//   Y  = y * g   for a fresh random scalar y                          -- crypto_scalarmult_ristretto255
//   K  = y * Y_peer   (abort when Y_peer is invalid or K is the identity)
//   ISK = H("DojangCPace255-ISK" || lv(sid) || K || lv(Y_receiver) || lv(Y_sender))
//   bundle key, sender tag, receiver tag = keyed H(ISK, label)
// H is BLAKE2b-512 (crypto_generichash).
#pragma once

#include <sodium.h>

#include <array>
#include <string_view>

#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::wallet::internal {

inline constexpr std::size_t kPakeMessageBytes = crypto_core_ristretto255_BYTES;  // 32
inline constexpr std::size_t kPakeTagBytes = 32;

enum class PakeRole { receiver, sender };

struct PakeKeys {
  SecretBytes bundle_key;  // 32 bytes for XChaCha20-Poly1305
  Bytes sender_tag;        // the sender's key confirmation
  Bytes receiver_tag;      // the receiver's key confirmation
  Bytes transcript;        // sid || Y_receiver || Y_sender, the AEAD's associated data
};

class Pake {
 public:
  // Starts one side: derives g from prs and sid, picks y, computes Y.
  // Errors: usage (empty prs or sid), crypto.
  static Result<Pake> start(PakeRole role, std::string_view sid, const SecretString& prs);

  // Y, to send to the peer.
  const Bytes& message() const noexcept { return message_; }

  // Derives the keys from the peer's message. Errors: invalid_input (not a
  // valid ristretto255 element, or an element that gives the identity).
  Result<PakeKeys> finish(ByteView peer_message) const;

 private:
  Pake(PakeRole role, std::string sid) : role_(role), sid_(std::move(sid)) {}
  PakeRole role_;
  std::string sid_;
  SecretBytes scalar_;
  Bytes message_;
};

// Constant-time comparison of two tags.
bool tags_equal(ByteView a, ByteView b) noexcept;

}  // namespace dojang::wallet::internal
