// The device-copy relay's persistence: one row per copy session, holding only
// what the relay may see — the hash of the session id, the hash of the
// receiver's token, the two PAKE messages, the sender's key-confirmation tag
// and the end-to-end encrypted bundle. Never the code's secret part, never a
// key in clear.
//
// Each method is one atomic step on the database (also across processes).
#pragma once

#include <memory>
#include <optional>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

namespace dojang::store {

class Database;

// waiting: the receiver's message is there, no offer yet (again after a failed
// key confirmation); offered: a sender uploaded; locked: too many failures.
enum class RelayState { waiting, offered, locked };
const char* to_string(RelayState s) noexcept;

struct RelayOffer {
  Bytes message;  // the sender's PAKE message
  Bytes confirm;  // the sender's key-confirmation tag
  Bytes bundle;   // AEAD ciphertext
};

struct RelaySessionRecord {
  Bytes id_hash;     // SHA-256 of the session id
  Bytes token_hash;  // SHA-256 of the receiver's bearer token
  TimePoint created_at{};
  TimePoint expires_at{};
  RelayState state = RelayState::waiting;
  int failures = 0;
  Bytes receiver_message;
  std::optional<RelayOffer> offer;  // set in state offered
};

class RelayStore {
 public:
  // Applies the "relay" migrations. Errors: Database::migrate's.
  static Result<std::unique_ptr<RelayStore>> open(std::shared_ptr<Database> db);

  // Inserts a new session in state waiting. already_exists when the id is taken.
  Status create(const RelaySessionRecord& r);
  // not_found when there is no such session.
  Result<RelaySessionRecord> find(ByteView id_hash);
  // waiting -> offered. not_found; policy "already offered" / "locked".
  Status offer(ByteView id_hash, const RelayOffer& offer);
  // offered -> waiting with one more failure (locked at max_failures), the
  // offer deleted. Returns the session after the step. not_found; policy when
  // there is no offer to fail.
  Result<RelaySessionRecord> fail(ByteView id_hash, int max_failures);
  // Deletes a session. not_found when there is none.
  Status remove(ByteView id_hash);
  // Deletes every session with expires_at <= now; returns how many.
  Result<int> purge_expired(TimePoint now);

 private:
  explicit RelayStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}
  std::shared_ptr<Database> db_;
};

}  // namespace dojang::store
