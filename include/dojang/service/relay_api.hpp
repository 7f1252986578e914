// The device-copy relay under /api/v1/relay/ (docs/api.md): a mailbox for one
// end-to-end encrypted bundle between two devices that share a one-time code.
// The relay sees the session id (the code's first 6 digits), the two PAKE
// messages, the sender's key-confirmation tag and the ciphertext; it stores
// hashes of the id and of the receiver's token, never the code's secret part.
//
//   POST   /api/v1/relay/sessions             receiver: {"session", "message"} -> 201 {"token", "expires_at"}
//   GET    /api/v1/relay/sessions/ID          anyone:   {"state", "failures", "message", "expires_at"}
//   POST   /api/v1/relay/sessions/ID/offer    sender:   {"message", "confirm", "bundle"} -> 201
//   GET    /api/v1/relay/sessions/ID/offer    receiver (Bearer token): the offer, or {"state": "waiting"}
//   POST   /api/v1/relay/sessions/ID/failure  receiver (Bearer token): key confirmation failed
//   DELETE /api/v1/relay/sessions/ID          receiver (Bearer token): picked up -> 204
//
// Sessions expire ttl after creation, hold one upload at a time, lock after
// max_failures failed key confirmations and are deleted after pickup.
#pragma once

#include <chrono>
#include <cstddef>

#include "dojang/pki/clock.hpp"
#include "dojang/service/http.hpp"
#include "dojang/store/relay_store.hpp"

namespace dojang::service {

struct RelayOptions {
  std::chrono::seconds ttl{300};
  int max_failures = 5;
  std::size_t max_bundle_bytes = 32 * 1024;  // ciphertext, before hex encoding
  // Sessions one peer address may open per minute (429 beyond: a flood would
  // otherwise take the 6-digit ids other people's copies need). Behind a
  // reverse proxy every request has the proxy's address: raise it there.
  int max_opens_per_minute = 30;
};

// Number of digits of a session id (the public part of the copy code).
inline constexpr std::size_t kRelaySessionDigits = 6;

// Registers the routes; store and clock must outlive the router.
void register_relay_api(Router& router, store::RelayStore& store, const Clock& clock,
                        RelayOptions options = {});

}  // namespace dojang::service
