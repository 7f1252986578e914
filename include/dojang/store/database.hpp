// The embedded SQLite database of dojangd: one file shared by every module
// (bank, CA, ...), with per-module versioned schema migrations.
//
// Threading: a Database owns ONE sqlite3 connection guarded by a mutex, so it
// may be shared by any number of threads. transaction() group-commits:
// transactions of threads that arrive while one is running join the same
// BEGIN IMMEDIATE ... COMMIT, each inside its own SAVEPOINT (a failing one is
// rolled back alone), and every member returns only after the shared COMMIT
// is durable - one fsync for the whole group instead of one each. lease()
// gives exclusive use of the connection between groups (for explicit
// Transactions and anything else that must not run beside a group); waiting
// leases go before the next group. read() gives a separate, query-only
// connection from a pool, for plain reads that need not wait for a group's
// COMMIT. Never call transaction() or lease() while holding a lease or inside
// a transaction() body: that deadlocks. A body sees the
// writes of the group's earlier members (they commit together or not at all).
// Several processes may open the same file (dojangd serve and the dojangd bank
// commands): writers take the file's write lock with BEGIN IMMEDIATE and wait
// up to Options::busy_timeout for it.
//
// Durability: WAL journal with synchronous=FULL, so a committed transaction
// survives a crash or power loss. foreign_keys=ON, secure_delete=ON (deleted
// rows are overwritten). The file is created with mode 0600.
//
// Migrations: each module owns an ordered list of steps and registers it with
// migrate("<module>", steps). The table schema_version(module, version,
// applied_at) holds one row per module; step N (1-based, steps[N-1].version ==
// N) runs in its own transaction together with the bump of the module's row to
// N. A module only ever appends steps; published steps never change. Table
// names are prefixed with the module name (bank_customers, ca_certificates).
//
//   constexpr store::Migration kCaMigrations[] = {
//       {1, "certificates", "CREATE TABLE ca_certificates (...);"},
//   };
//   DOJANG_TRY(db->migrate("ca", kCaMigrations));
//
// Errors from SQLite are mapped once (src/store/internal/sqlite.hpp):
// UNIQUE / PRIMARY KEY violations -> already_exists, a file that is not a
// database or is corrupt -> invalid_input, everything else -> io; the message
// is "<what we were doing>: <sqlite message>".
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dojang/pki/clock.hpp"
#include "dojang/pki/result.hpp"
#include "dojang/pki/secret.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace dojang::store {

namespace internal {
struct CloseDb {
  void operator()(sqlite3* db) const noexcept;
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const noexcept;
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;
}  // namespace internal

// Times are stored as INTEGER seconds since the Unix epoch.
std::int64_t to_unix(TimePoint t) noexcept;
TimePoint from_unix(std::int64_t seconds) noexcept;

struct Migration {
  int version;            // 1, 2, 3, ... in order
  std::string_view name;  // for error messages
  std::string_view sql;   // one or more statements, transactional DDL/DML only
};

class Connection;

// A prepared statement borrowed from its connection's cache. Parameters are
// 1-based; a failed bind is reported by the next step(). Destroying the
// statement resets it and clears its bindings.
class Statement {
 public:
  Statement(Statement&& o) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);  // copied
  Statement& bind(int index, ByteView blob);          // copied
  Statement& bind_null(int index);
  // Binds args to parameters 1, 2, ...
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // Runs the statement to its next row: true when a row is ready, false when done.
  Result<bool> step();
  // Runs the statement to completion, discarding any rows.
  Status run();
  // Makes the statement ready to be bound and run again.
  void reset() noexcept;

  // Columns of the current row (0-based). NULL reads as 0 / "" / {}.
  std::int64_t int64(int col) const;
  std::string text(int col) const;
  Bytes blob(int col) const;
  bool is_null(int col) const;

 private:
  friend class Connection;
  Statement(Connection& conn, sqlite3_stmt* stmt, bool* in_use, internal::StmtPtr owned);
  void note_bind(int rc, int index);

  Connection* conn_;
  sqlite3_stmt* stmt_;
  bool* in_use_;             // the cache slot this statement borrows, or null
  internal::StmtPtr owned_;  // set when the cache slot was busy
  int bind_rc_ = 0;          // first failed bind
  int bind_index_ = 0;
};

// The one connection of a Database; reachable only through a Lease.
class Connection {
 public:
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Prepares sql (cached by its text). Errors: io (syntax, unknown table).
  Result<Statement> prepare(std::string_view sql);
  // Runs one or more parameterless statements.
  Status exec(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  std::int64_t changes() const noexcept;
  std::int64_t last_insert_rowid() const noexcept;
  // Whether a transaction is open (false again after SQLite rolled one back
  // on its own, e.g. after an I/O error).
  bool in_transaction() const noexcept;

 private:
  friend class Database;
  friend class Statement;
  friend class Transaction;
  Connection() = default;
  Status check(int rc, std::string_view what) const;

  struct CachedStatement {
    internal::StmtPtr stmt;
    bool in_use = false;
  };
  internal::DbPtr db_;
  std::unordered_map<std::string, CachedStatement> cache_;  // destroyed before db_
};

// BEGIN IMMEDIATE ... COMMIT; rolled back on destruction unless committed.
class Transaction {
 public:
  // Errors: io (e.g. the database stayed locked by another process for longer
  // than the busy timeout).
  static Result<Transaction> begin(Connection& conn);
  Transaction(Transaction&& o) noexcept : conn_(std::exchange(o.conn_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Connection& conn) : conn_(&conn) {}
  Connection* conn_;
};

class Database {
 public:
  struct Options {
    // How long a writer waits for another process's write lock.
    std::chrono::milliseconds busy_timeout{10000};
  };

  // Opens (creating if needed) the database file at path. Errors: io (cannot
  // open or create, WAL unavailable), invalid_input (not a SQLite database).
  static Result<std::shared_ptr<Database>> open(const std::filesystem::path& path,
                                                const Options& options);
  static Result<std::shared_ptr<Database>> open(const std::filesystem::path& path) {
    return open(path, Options{});
  }

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Exclusive use of the connection for as long as the lease lives.
  class Lease {
   public:
    Connection& operator*() const noexcept { return *conn_; }
    Connection* operator->() const noexcept { return conn_; }

   private:
    friend class Database;
    Lease(std::unique_lock<std::mutex> lock, Connection& conn)
        : lock_(std::move(lock)), conn_(&conn) {}
    std::unique_lock<std::mutex> lock_;
    Connection* conn_;
  };
  Lease lease();

  // A connection of its own for reading (SELECT only: it is query_only), from
  // a pool opened on demand. Readers run beside the group commit instead of
  // waiting for it (WAL lets readers and one writer work at once), and see
  // every transaction() that has returned. Return it soon: each one held keeps
  // an SQLite connection open. Errors: io (cannot open another connection).
  class Reader {
   public:
    Reader(Reader&& o) noexcept;
    Reader& operator=(Reader&&) = delete;
    ~Reader();
    Connection& operator*() const noexcept { return *conn_; }
    Connection* operator->() const noexcept { return conn_.get(); }

   private:
    friend class Database;
    Reader(Database& db, std::unique_ptr<Connection> conn);
    Database* db_;
    std::unique_ptr<Connection> conn_;
  };
  Result<Reader> read();

  // Runs fn(Connection&) -> Result<T> (or Status) atomically: its writes are
  // committed and durable when it succeeds, rolled back when it fails (see
  // the header comment for the group commit). Errors: fn's, or io when the
  // shared COMMIT fails (then nothing of fn is kept).
  template <class F>
  auto transaction(F&& fn) -> std::invoke_result_t<F&, Connection&> {
    Member member(*this);
    if (Status s = member.enter(); !s.ok()) return std::move(s).error();
    auto r = fn(conn_);
    Status committed = member.leave(r.ok());
    if (!r.ok()) return r;
    if (!committed.ok()) return std::move(committed).error();
    return r;
  }

  struct Stats {
    std::uint64_t transactions = 0;  // transaction() bodies run
    std::uint64_t commits = 0;       // COMMITs (groups) that succeeded
  };
  Stats stats();

  // Brings module's schema up to date with steps (see the header comment).
  // Applies nothing when it is current. Errors: foreign_format (the database
  // is newer than steps: written by a newer dojangd), usage (steps not
  // numbered 1..N), io (a step failed; that step is rolled back, earlier ones
  // stay applied).
  Status migrate(std::string_view module, std::span<const Migration> steps);

  // The module's schema version (0 when it has none).
  Result<int> schema_version(std::string_view module);

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct Group;  // one shared BEGIN ... COMMIT
  // One transaction() call taking part in a group.
  class Member {
   public:
    explicit Member(Database& db) : db_(&db) {}
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;
    ~Member();
    // Joins the open group (or opens one) and sets a savepoint.
    Status enter();
    // Releases or rolls back the savepoint, then waits for (or, as the group's
    // leader, performs) the COMMIT. Returns the group's outcome when ok.
    Status leave(bool ok);

   private:
    Database* db_;
    std::unique_lock<std::mutex> lock_;
    std::shared_ptr<Group> group_;
    bool leader_ = false;
    bool inside_ = false;
  };
  void decide(const std::shared_ptr<Group>& group, Status outcome);

  Database() = default;
  static Status configure(Connection& c, const std::filesystem::path& path,
                          std::chrono::milliseconds busy_timeout);
  std::filesystem::path path_;
  std::chrono::milliseconds busy_timeout_{0};
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;
  std::mutex mu_;
  std::condition_variable turn_cv_;    // enter() and lease() waiting for their turn
  std::condition_variable leader_cv_;  // a group's leader waiting for the queued callers
  std::condition_variable done_cv_;    // members waiting for their group's COMMIT
  std::atomic<int> pending_{0};   // transaction() callers not yet in a group
  int lease_waiters_ = 0;         // lease() callers waiting for the group to end
  std::shared_ptr<Group> group_;  // the open group, if any
  Stats stats_;
  Connection conn_;
};

}  // namespace dojang::store
