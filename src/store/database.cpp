#include "dojang/store/database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "store/internal/sqlite.hpp"

namespace dojang::store {

namespace internal {

void CloseDb::operator()(sqlite3* db) const noexcept {
  ::sqlite3_close_v2(db);
}
void FinalizeStmt::operator()(sqlite3_stmt* s) const noexcept {
  ::sqlite3_finalize(s);
}

Status check(int rc, sqlite3* db, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return {};
  std::string msg(what);
  msg += ": ";
  // sqlite3_errmsg describes the connection's last failure, which is rc's
  // when the caller checks right after the call.
  msg += db != nullptr ? ::sqlite3_errmsg(db) : ::sqlite3_errstr(rc);
  Errc code = Errc::io;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    code = Errc::already_exists;
  } else if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT) {
    code = Errc::invalid_input;
  }
  return Error{code, std::move(msg)};
}

}  // namespace internal

std::int64_t to_unix(TimePoint t) noexcept {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

TimePoint from_unix(std::int64_t seconds) noexcept {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(seconds)));
}

// ---------------------------------------------------------------------------
// Statement

Statement::Statement(Connection& conn, sqlite3_stmt* stmt, bool* in_use, internal::StmtPtr owned)
    : conn_(&conn), stmt_(stmt), in_use_(in_use), owned_(std::move(owned)) {}

Statement::Statement(Statement&& o) noexcept
    : conn_(o.conn_),
      stmt_(std::exchange(o.stmt_, nullptr)),
      in_use_(std::exchange(o.in_use_, nullptr)),
      owned_(std::move(o.owned_)),
      bind_rc_(o.bind_rc_),
      bind_index_(o.bind_index_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  reset();
  if (in_use_ != nullptr) *in_use_ = false;
}

void Statement::reset() noexcept {
  ::sqlite3_reset(stmt_);
  ::sqlite3_clear_bindings(stmt_);
  bind_rc_ = 0;
  bind_index_ = 0;
}

void Statement::note_bind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == 0) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

Statement& Statement::bind(int index, std::int64_t value) {
  note_bind(::sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  note_bind(
      ::sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index);
  return *this;
}

Statement& Statement::bind(int index, ByteView blob) {
  // A zero-length blob with a null pointer would bind NULL.
  static const std::uint8_t kEmpty = 0;
  const void* p = blob.empty() ? &kEmpty : blob.data();
  note_bind(::sqlite3_bind_blob64(stmt_, index, p, blob.size(), SQLITE_TRANSIENT), index);
  return *this;
}

Statement& Statement::bind_null(int index) {
  note_bind(::sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Statement::step() {
  if (bind_rc_ != 0)
    return conn_->check(bind_rc_, "binding parameter " + std::to_string(bind_index_)).error();
  int rc = ::sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = ::sqlite3_sql(stmt_);
  std::string what = "running SQL";
  if (sql != nullptr) {
    std::string_view head(sql);
    what += " '" + std::string(head.substr(0, 60)) + (head.size() > 60 ? "...'" : "'");
  }
  return conn_->check(rc, what).error();
}

Status Statement::run() {
  for (;;) {
    DOJANG_ASSIGN(bool row, step());
    if (!row) return {};
  }
}

std::int64_t Statement::int64(int col) const {
  return ::sqlite3_column_int64(stmt_, col);
}

std::string Statement::text(int col) const {
  const auto* p = ::sqlite3_column_text(stmt_, col);
  int n = ::sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

Bytes Statement::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(::sqlite3_column_blob(stmt_, col));
  int n = ::sqlite3_column_bytes(stmt_, col);
  if (p == nullptr) return {};
  return Bytes(p, p + n);
}

bool Statement::is_null(int col) const {
  return ::sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// ---------------------------------------------------------------------------
// Connection

Status Connection::check(int rc, std::string_view what) const {
  return internal::check(rc, db_.get(), what);
}

Result<Statement> Connection::prepare(std::string_view sql) {
  auto prepare_one = [&]() -> Result<internal::StmtPtr> {
    if (sql.size() > INT_MAX) return Error{Errc::usage, "SQL text too long"};
    sqlite3_stmt* raw = nullptr;
    int rc = ::sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    internal::StmtPtr owned(raw);
    DOJANG_TRY(check(rc, "preparing SQL '" + std::string(sql.substr(0, 60)) + "'"));
    if (!owned) return Error{Errc::usage, "empty SQL statement"};
    return owned;
  };

  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    DOJANG_ASSIGN(internal::StmtPtr fresh, prepare_one());
    it = cache_.emplace(std::string(sql), CachedStatement{std::move(fresh), false}).first;
  }
  if (it->second.in_use) {
    // The same SQL is already running further up the stack: use a private copy.
    DOJANG_ASSIGN(internal::StmtPtr fresh, prepare_one());
    sqlite3_stmt* raw = fresh.get();
    return Statement(*this, raw, nullptr, std::move(fresh));
  }
  it->second.in_use = true;
  return Statement(*this, it->second.stmt.get(), &it->second.in_use, nullptr);
}

Status Connection::exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  char* err = nullptr;
  int rc = ::sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &err);
  std::string msg = err != nullptr ? err : "";
  ::sqlite3_free(err);
  if (rc == SQLITE_OK) return {};
  Status s = check(rc, "running SQL");
  return Error{s.error().code, "running SQL: " + (msg.empty() ? s.error().message : msg)};
}

std::int64_t Connection::changes() const noexcept {
  return ::sqlite3_changes64(db_.get());
}

std::int64_t Connection::last_insert_rowid() const noexcept {
  return ::sqlite3_last_insert_rowid(db_.get());
}

bool Connection::in_transaction() const noexcept {
  return ::sqlite3_get_autocommit(db_.get()) == 0;
}

// ---------------------------------------------------------------------------
// Transaction

Result<Transaction> Transaction::begin(Connection& conn) {
  DOJANG_ASSIGN(Statement st, conn.prepare("BEGIN IMMEDIATE"));
  DOJANG_TRY(st.run());
  return Transaction(conn);
}

Status Transaction::commit() {
  if (conn_ == nullptr) return Error{Errc::usage, "transaction already finished"};
  DOJANG_ASSIGN(Statement st, conn_->prepare("COMMIT"));
  DOJANG_TRY(st.run());
  conn_ = nullptr;
  return {};
}

Transaction::~Transaction() {
  if (conn_ == nullptr) return;
  // A failed statement may already have rolled the transaction back.
  if (!conn_->in_transaction()) return;
  auto st = conn_->prepare("ROLLBACK");
  if (st.ok()) (void)st->run();
}

// ---------------------------------------------------------------------------
// Database

namespace {

// Creates the file with mode 0600 so that SQLite's -wal and -shm files, which
// copy the database's permissions, are private too.
Status create_private(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Error{Errc::io, "cannot open database " + path.string() + ": " + std::strerror(errno)};
  ::close(fd);
  return {};
}

}  // namespace

Result<std::shared_ptr<Database>> Database::open(const std::filesystem::path& path,
                                                 const Options& options) {
  if (::sqlite3_threadsafe() == 0)
    return Error{Errc::io, "this SQLite library was built without thread support"};
  DOJANG_TRY(create_private(path));

  std::shared_ptr<Database> db(new Database());
  db->path_ = path;
  db->busy_timeout_ = options.busy_timeout;
  Connection& c = db->conn_;
  DOJANG_TRY(configure(c, path, options.busy_timeout));
  {
    DOJANG_ASSIGN(Statement st, c.prepare("PRAGMA journal_mode=WAL"));
    DOJANG_ASSIGN(bool row, st.step());
    if (!row || st.text(0) != "wal")
      return Error{Errc::io, "database " + path.string() + " cannot use WAL journaling"};
  }
  DOJANG_TRY(c.exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"));
  {
    // journal_mode does not read the file header; make sure it is a database.
    DOJANG_ASSIGN(Statement st, c.prepare("SELECT count(*) FROM sqlite_schema"));
    DOJANG_TRY(st.run());
  }
  return db;
}

// Opens path on c (NOMUTEX: whoever holds c serialises its use).
Status Database::configure(Connection& c, const std::filesystem::path& path,
                           std::chrono::milliseconds busy_timeout) {
  sqlite3* raw = nullptr;
  int rc =
      ::sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  c.db_.reset(raw);  // sqlite3_open_v2 allocates a handle even on failure
  DOJANG_TRY(internal::check(rc, raw, "opening database " + path.string()));
  ::sqlite3_extended_result_codes(raw, 1);
  return internal::check(::sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout.count())), raw,
                         "setting the busy timeout");
}

Database::~Database() = default;

// ---------------------------------------------------------------------------
// Readers

Database::Reader::Reader(Database& db, std::unique_ptr<Connection> conn)
    : db_(&db), conn_(std::move(conn)) {}

Database::Reader::Reader(Reader&& o) noexcept
    : db_(o.db_), conn_(std::move(o.conn_)) {}

Database::Reader::~Reader() {
  if (!conn_) return;
  // One left inside an explicit BEGIN is closed rather than reused.
  if (conn_->in_transaction()) return;
  std::lock_guard<std::mutex> lock(db_->readers_mu_);
  db_->idle_readers_.push_back(std::move(conn_));
}

Result<Database::Reader> Database::read() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(*this, std::move(c));
    }
  }
  std::unique_ptr<Connection> c(new Connection());
  DOJANG_TRY(configure(*c, path_, busy_timeout_));
  DOJANG_TRY(c->exec("PRAGMA query_only=1; PRAGMA foreign_keys=ON;"));
  return Reader(*this, std::move(c));
}

// ---------------------------------------------------------------------------
// Group commit

namespace {
// Enough to amortise an fsync; small enough that a group's members do not
// wait long behind each other.
constexpr int kMaxGroup = 256;
}  // namespace

struct Database::Group {
  int members = 0;
  bool done = false;
  Status outcome;
};

Database::Lease Database::lease() {
  std::unique_lock<std::mutex> lock(mu_);
  ++lease_waiters_;
  turn_cv_.wait(lock, [&] { return !group_; });
  // A transaction() may be waiting for the leases to go first.
  if (--lease_waiters_ == 0) turn_cv_.notify_all();
  return Lease(std::move(lock), conn_);
}

Database::Stats Database::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Database::decide(const std::shared_ptr<Group>& group, Status outcome) {
  group->outcome = std::move(outcome);
  group->done = true;
  if (group_ == group) group_.reset();
  // Each condition variable has its own waiters (see database.hpp): waking
  // only those keeps a group of N members at O(N) wake-ups, not O(N^2).
  done_cv_.notify_all();
  leader_cv_.notify_all();
  turn_cv_.notify_all();
}

Status Database::Member::enter() {
  Database& db = *db_;
  db.pending_.fetch_add(1);
  lock_ = std::unique_lock<std::mutex>(db.mu_);
  // The leader waits for the callers already queued; the last one wakes it.
  if (db.pending_.fetch_sub(1) == 1) db.leader_cv_.notify_one();
  // Between groups, waiting leases go first (readers are not starved).
  db.turn_cv_.wait(lock_, [&] { return db.group_ || db.lease_waiters_ == 0; });
  if (!db.group_) {
    DOJANG_ASSIGN(Statement begin, db.conn_.prepare("BEGIN IMMEDIATE"));
    DOJANG_TRY(begin.run());
    db.group_ = std::make_shared<Group>();
    leader_ = true;
  }
  group_ = db.group_;
  if (++group_->members >= kMaxGroup) db.leader_cv_.notify_one();
  ++db.stats_.transactions;
  if (Status s = db.conn_.exec("SAVEPOINT dojang_member"); !s.ok()) {
    // Cannot happen inside an open transaction short of a broken connection:
    // give up the whole group rather than run unprotected.
    if (db.conn_.in_transaction()) (void)db.conn_.exec("ROLLBACK");
    db.decide(group_, s);
    return s;
  }
  inside_ = true;
  return {};
}

Status Database::Member::leave(bool ok) {
  Database& db = *db_;
  Connection& c = db.conn_;
  inside_ = false;
  if (c.in_transaction()) {
    Status s =
        c.exec(ok ? "RELEASE dojang_member" : "ROLLBACK TO dojang_member; RELEASE dojang_member");
    if (!s.ok()) {
      if (c.in_transaction()) (void)c.exec("ROLLBACK");
      db.decide(group_, Error{s.error().code, "transaction rolled back: " + s.error().message});
    }
  } else if (!group_->done) {
    // SQLite rolled the whole transaction back (I/O error, disk full, ...):
    // the work of every member of the group is gone.
    db.decide(group_, Error{Errc::io, "transaction rolled back by SQLite: " +
                                          std::string(::sqlite3_errmsg(c.db_.get()))});
  }

  if (!leader_) {
    if (!ok) return {};  // our own work is rolled back; nothing to wait for
    db.done_cv_.wait(lock_, [&] { return group_->done; });
    return group_->outcome;
  }
  // The leader lets the callers already queued join, then commits for all.
  db.leader_cv_.wait(lock_, [&] {
    return group_->done || db.pending_.load() == 0 || group_->members >= kMaxGroup;
  });
  if (!group_->done) {
    Status s = [&]() -> Status {
      DOJANG_ASSIGN(Statement commit, c.prepare("COMMIT"));
      return commit.run();
    }();
    if (s.ok()) {
      ++db.stats_.commits;
    } else if (c.in_transaction()) {
      (void)c.exec("ROLLBACK");
    }
    db.decide(group_, std::move(s));
  }
  return group_->outcome;
}

Database::Member::~Member() {
  if (inside_) (void)leave(false);  // the body threw
}

Result<int> Database::schema_version(std::string_view module) {
  Lease c = lease();
  DOJANG_ASSIGN(
      Statement exists,
      c->prepare("SELECT 1 FROM sqlite_schema WHERE type='table' AND name='schema_version'"));
  DOJANG_ASSIGN(bool has_table, exists.step());
  if (!has_table) return 0;
  DOJANG_ASSIGN(Statement st, c->prepare("SELECT version FROM schema_version WHERE module = ?"));
  st.bind(1, module);
  DOJANG_ASSIGN(bool row, st.step());
  return row ? static_cast<int>(st.int64(0)) : 0;
}

Status Database::migrate(std::string_view module, std::span<const Migration> steps) {
  for (std::size_t i = 0; i < steps.size(); ++i)
    if (steps[i].version != static_cast<int>(i + 1))
      return Error{Errc::usage, "migrations of '" + std::string(module) +
                                    "' must be numbered 1, 2, 3, ...: step " +
                                    std::to_string(i + 1) + " says " +
                                    std::to_string(steps[i].version)};
  const int latest = static_cast<int>(steps.size());

  for (;;) {
    // One transaction per step; the version is re-read inside it, so two
    // processes migrating at once apply each step exactly once.
    Result<bool> applied = transaction([&](Connection& c) -> Result<bool> {
      DOJANG_TRY(
          c.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                 " module TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at INTEGER NOT NULL) "
                 "STRICT"));
      DOJANG_ASSIGN(Statement get,
                    c.prepare("SELECT version FROM schema_version WHERE module = ?"));
      get.bind(1, module);
      DOJANG_ASSIGN(bool row, get.step());
      const int current = row ? static_cast<int>(get.int64(0)) : 0;
      if (current > latest)
        return Error{Errc::foreign_format,
                     "the database's '" + std::string(module) + "' schema is version " +
                         std::to_string(current) + ", newer than this program knows (" +
                         std::to_string(latest) + "); use the dojangd that wrote it"};
      if (current == latest) return false;

      const Migration& step = steps[static_cast<std::size_t>(current)];
      Status s = c.exec(step.sql);
      if (!s.ok())
        return Error{s.error().code, "migration " + std::string(module) + "/" +
                                         std::to_string(step.version) + " (" +
                                         std::string(step.name) + "): " + s.error().message};
      DOJANG_ASSIGN(Statement put,
                    c.prepare("INSERT INTO schema_version (module, version, applied_at) "
                              "VALUES (?, ?, CAST(strftime('%s','now') AS INTEGER)) "
                              "ON CONFLICT (module) DO UPDATE SET version = excluded.version, "
                              "applied_at = excluded.applied_at"));
      put.bind_all(module, std::int64_t{step.version});
      DOJANG_TRY(put.run());
      return true;
    });
    if (!applied.ok()) return std::move(applied).error();
    if (!*applied) return {};
  }
}

}  // namespace dojang::store
