// RelayStore on SQLite: every write in Database::transaction, reads in a lease.
#include "dojang/store/relay_store.hpp"

#include <string>

#include "dojang/store/database.hpp"

namespace dojang::store {

namespace {

constexpr std::string_view kModule = "relay";

// Published steps never change; add new ones at the end.
constexpr Migration kSteps[] = {
    {1, "copy sessions", R"sql(
CREATE TABLE relay_sessions (
  id_hash          BLOB PRIMARY KEY,
  token_hash       BLOB NOT NULL,
  created_at       INTEGER NOT NULL,
  expires_at       INTEGER NOT NULL,
  state            TEXT NOT NULL CHECK (state IN ('waiting', 'offered', 'locked')),
  failures         INTEGER NOT NULL DEFAULT 0,
  receiver_message BLOB NOT NULL,
  sender_message   BLOB,
  sender_confirm   BLOB,
  bundle           BLOB
) STRICT;
CREATE INDEX relay_sessions_expiry ON relay_sessions (expires_at);
)sql"},
};

constexpr std::string_view kNoSession = "no such copy session (it expired or was picked up)";

constexpr std::string_view kColumns =
    "id_hash, token_hash, created_at, expires_at, state, failures, receiver_message, "
    "sender_message, sender_confirm, bundle";

Result<RelayState> parse_state(const std::string& s) {
  for (RelayState v : {RelayState::waiting, RelayState::offered, RelayState::locked})
    if (s == to_string(v)) return v;
  return Error{Errc::invalid_input, "corrupt relay database: unknown state '" + s + "'"};
}

Result<RelaySessionRecord> read(const Statement& st) {
  RelaySessionRecord r;
  r.id_hash = st.blob(0);
  r.token_hash = st.blob(1);
  r.created_at = from_unix(st.int64(2));
  r.expires_at = from_unix(st.int64(3));
  DOJANG_ASSIGN(r.state, parse_state(st.text(4)));
  r.failures = static_cast<int>(st.int64(5));
  r.receiver_message = st.blob(6);
  if (!st.is_null(7)) r.offer = RelayOffer{st.blob(7), st.blob(8), st.blob(9)};
  return r;
}

Result<RelaySessionRecord> find_in(Connection& c, ByteView id_hash) {
  DOJANG_ASSIGN(Statement st, c.prepare("SELECT " + std::string(kColumns) +
                                        " FROM relay_sessions WHERE id_hash = ?"));
  st.bind(1, id_hash);
  DOJANG_ASSIGN(bool row, st.step());
  if (!row) return Error{Errc::not_found, std::string(kNoSession)};
  return read(st);
}

}  // namespace

const char* to_string(RelayState s) noexcept {
  switch (s) {
    case RelayState::waiting:
      return "waiting";
    case RelayState::offered:
      return "offered";
    case RelayState::locked:
      return "locked";
  }
  return "?";
}

Result<std::unique_ptr<RelayStore>> RelayStore::open(std::shared_ptr<Database> db) {
  DOJANG_TRY(db->migrate(kModule, kSteps));
  return std::unique_ptr<RelayStore>(new RelayStore(std::move(db)));
}

Status RelayStore::create(const RelaySessionRecord& r) {
  return db_->transaction([&](Connection& c) -> Status {
    DOJANG_ASSIGN(Statement st,
                  c.prepare("INSERT INTO relay_sessions (id_hash, token_hash, created_at, expires_at, "
                            "state, failures, receiver_message) VALUES (?, ?, ?, ?, 'waiting', 0, ?)"));
    st.bind_all(ByteView(r.id_hash), ByteView(r.token_hash), to_unix(r.created_at),
                to_unix(r.expires_at), ByteView(r.receiver_message));
    Status s = st.run();
    if (!s.ok() && s.error().code == Errc::already_exists)
      return Error{Errc::already_exists, "a copy session with this id exists"};
    return s;
  });
}

Result<RelaySessionRecord> RelayStore::find(ByteView id_hash) {
  DOJANG_ASSIGN(auto c, db_->read());
  return find_in(*c, id_hash);
}

Status RelayStore::offer(ByteView id_hash, const RelayOffer& offer) {
  return db_->transaction([&](Connection& c) -> Status {
    DOJANG_ASSIGN(RelaySessionRecord r, find_in(c, id_hash));
    if (r.state == RelayState::locked)
      return Error{Errc::policy, "the copy session is locked after too many wrong codes"};
    if (r.state == RelayState::offered)
      return Error{Errc::policy, "the copy session already holds an upload"};
    DOJANG_ASSIGN(Statement st,
                  c.prepare("UPDATE relay_sessions SET state = 'offered', sender_message = ?, "
                            "sender_confirm = ?, bundle = ? WHERE id_hash = ? AND state = 'waiting'"));
    st.bind_all(ByteView(offer.message), ByteView(offer.confirm), ByteView(offer.bundle), id_hash);
    return st.run();
  });
}

Result<RelaySessionRecord> RelayStore::fail(ByteView id_hash, int max_failures) {
  return db_->transaction([&](Connection& c) -> Result<RelaySessionRecord> {
    DOJANG_ASSIGN(RelaySessionRecord r, find_in(c, id_hash));
    if (r.state != RelayState::offered)
      return Error{Errc::policy, "the copy session holds no upload to reject"};
    DOJANG_ASSIGN(Statement st,
                  c.prepare("UPDATE relay_sessions SET failures = failures + 1, "
                            "state = CASE WHEN failures + 1 >= ? THEN 'locked' ELSE 'waiting' END, "
                            "sender_message = NULL, sender_confirm = NULL, bundle = NULL "
                            "WHERE id_hash = ?"));
    st.bind_all(std::int64_t{max_failures}, id_hash);
    DOJANG_TRY(st.run());
    return find_in(c, id_hash);
  });
}

Status RelayStore::remove(ByteView id_hash) {
  return db_->transaction([&](Connection& c) -> Status {
    DOJANG_ASSIGN(Statement st, c.prepare("DELETE FROM relay_sessions WHERE id_hash = ?"));
    st.bind(1, id_hash);
    DOJANG_TRY(st.run());
    if (c.changes() == 0) return Error{Errc::not_found, std::string(kNoSession)};
    return {};
  });
}

Result<int> RelayStore::purge_expired(TimePoint now) {
  return db_->transaction([&](Connection& c) -> Result<int> {
    DOJANG_ASSIGN(Statement st, c.prepare("DELETE FROM relay_sessions WHERE expires_at <= ?"));
    st.bind(1, to_unix(now));
    DOJANG_TRY(st.run());
    return static_cast<int>(c.changes());
  });
}

}  // namespace dojang::store
