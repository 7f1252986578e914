// BankStore on SQLite. Every write runs in Database::transaction (BEGIN
// IMMEDIATE, group-committed), so each method is atomic across threads and
// processes and durable when it returns; reads use a lease.
#include <string>
#include <utility>

#include "dojang/store/bank_store.hpp"
#include "dojang/store/database.hpp"
#include "store/internal/bank_schema.hpp"

namespace dojang::store {

const char* to_string(Purpose p) noexcept {
  switch (p) {
    case Purpose::general:
      return "general";
    case Purpose::bank_insurance:
      return "bank_insurance";
  }
  return "?";
}

const char* to_string(ApplicationKind k) noexcept {
  switch (k) {
    case ApplicationKind::issue:
      return "issue";
    case ApplicationKind::reissue:
      return "reissue";
  }
  return "?";
}

const char* to_string(Channel c) noexcept {
  switch (c) {
    case Channel::app:
      return "app";
    case Channel::teller:
      return "teller";
  }
  return "?";
}

const char* to_string(ApplicationState s) noexcept {
  switch (s) {
    case ApplicationState::open:
      return "open";
    case ApplicationState::used:
      return "used";
    case ApplicationState::locked:
      return "locked";
  }
  return "?";
}

namespace {

template <class E, std::size_t N>
Result<E> parse_enum(const std::string& text, const E (&values)[N], const char* what) {
  for (E v : values)
    if (text == to_string(v)) return v;
  return Error{Errc::invalid_input,
               std::string("corrupt bank database: unknown ") + what + " '" + text + "'"};
}

constexpr Purpose kPurposes[] = {Purpose::general, Purpose::bank_insurance};
constexpr ApplicationKind kKinds[] = {ApplicationKind::issue, ApplicationKind::reissue};
constexpr Channel kChannels[] = {Channel::app, Channel::teller};
constexpr ApplicationState kStates[] = {ApplicationState::open, ApplicationState::used,
                                        ApplicationState::locked};

std::optional<TimePoint> optional_time(const Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return from_unix(st.int64(col));
}

void bind_optional_time(Statement& st, int index, const std::optional<TimePoint>& t) {
  if (t) {
    st.bind(index, to_unix(*t));
  } else {
    st.bind_null(index);
  }
}

constexpr std::string_view kCustomerColumns =
    "customer_id, real_name, idn_sealed, idn_mac, phone, bank_code, password_hash, failed_logins, "
    "created_at";

CustomerRecord read_customer(const Statement& st) {
  CustomerRecord c;
  c.customer_id = st.text(0);
  c.real_name = st.text(1);
  c.idn_sealed = st.blob(2);
  c.idn_mac = st.blob(3);
  c.phone = st.text(4);
  c.bank_code = st.text(5);
  c.password_hash = st.text(6);
  c.failed_logins = static_cast<int>(st.int64(7));
  c.created_at = from_unix(st.int64(8));
  return c;
}

constexpr std::string_view kSessionColumns =
    "token_hash, customer_id, created_at, expires_at, idn_failures, otp_sends, verified_at";

SessionRecord read_session(const Statement& st) {
  SessionRecord s;
  s.token_hash = st.blob(0);
  s.customer_id = st.text(1);
  s.created_at = from_unix(st.int64(2));
  s.expires_at = from_unix(st.int64(3));
  s.idn_failures = static_cast<int>(st.int64(4));
  s.otp_sends = static_cast<int>(st.int64(5));
  s.verified_at = optional_time(st, 6);
  return s;
}

constexpr std::string_view kApplicationColumns =
    "id, ref, customer_id, purpose, kind, channel, auth_code_sealed, state, mac_failures, "
    "created_at, "
    "expires_at, used_at, replaces_serial, not_after";

Result<ApplicationRecord> read_application(const Statement& st) {
  ApplicationRecord a;
  a.id = st.int64(0);
  a.ref = st.text(1);
  a.customer_id = st.text(2);
  DOJANG_ASSIGN(a.purpose, parse_enum(st.text(3), kPurposes, "purpose"));
  DOJANG_ASSIGN(a.kind, parse_enum(st.text(4), kKinds, "application kind"));
  DOJANG_ASSIGN(a.channel, parse_enum(st.text(5), kChannels, "channel"));
  a.auth_code_sealed = st.blob(6);
  DOJANG_ASSIGN(a.state, parse_enum(st.text(7), kStates, "application state"));
  a.mac_failures = static_cast<int>(st.int64(8));
  a.created_at = from_unix(st.int64(9));
  a.expires_at = from_unix(st.int64(10));
  a.used_at = optional_time(st, 11);
  if (!st.is_null(12)) a.replaces_serial = st.text(12);
  a.not_after = optional_time(st, 13);
  return a;
}

// SELECT ... FROM table WHERE key = ? for one row.
template <class Key, class Read>
auto find_one(Connection& c, std::string_view sql, const Key& key, Read read,
              std::string_view not_found)
    -> Result<std::decay_t<decltype(read(std::declval<const Statement&>()))>> {
  DOJANG_ASSIGN(Statement st, c.prepare(sql));
  st.bind(1, key);
  DOJANG_ASSIGN(bool row, st.step());
  if (!row) return Error{Errc::not_found, std::string(not_found)};
  return read(st);
}

// Counts one failure in counter_col of the row key_col = key unless it has
// reached max: "reserve an attempt before checking it", so that parallel
// guesses cannot overshoot the limit.
template <class Key>
Result<Attempt> reserve_attempt(Database& db, std::string_view table, std::string_view key_col,
                                std::string_view counter_col, const Key& key, int max,
                                std::string_view not_found) {
  const std::string col(counter_col);
  const std::string where = " WHERE " + std::string(key_col) + " = ?";
  const std::string update = "UPDATE " + std::string(table) + " SET " + col + " = " + col + " + 1" +
                             where + " AND " + col + " < ? RETURNING " + col;
  const std::string select = "SELECT " + col + " FROM " + std::string(table) + where;
  return db.transaction([&](Connection& c) -> Result<Attempt> {
    {
      DOJANG_ASSIGN(Statement st, c.prepare(update));
      st.bind(1, key).bind(2, std::int64_t{max});
      DOJANG_ASSIGN(bool row, st.step());
      if (row) {
        Attempt a{true, static_cast<int>(st.int64(0))};
        DOJANG_TRY(st.run());
        return a;
      }
    }
    DOJANG_ASSIGN(Statement st, c.prepare(select));
    st.bind(1, key);
    DOJANG_ASSIGN(bool row, st.step());
    if (!row) return Error{Errc::not_found, std::string(not_found)};
    return Attempt{false, static_cast<int>(st.int64(0))};
  });
}

constexpr std::string_view kNoCustomer = "no such customer";
constexpr std::string_view kNoSession = "no such session";
constexpr std::string_view kNoOtp = "no code was sent in this session";
constexpr std::string_view kNoApplication = "no application with this reference number";

class SqliteBankStore final : public BankStore {
 public:
  explicit SqliteBankStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Status insert_customer(const CustomerRecord& r) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(Statement st,
                    c.prepare("INSERT INTO bank_customers (" + std::string(kCustomerColumns) +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      st.bind_all(r.customer_id, r.real_name, r.idn_sealed, r.idn_mac, r.phone, r.bank_code,
                  r.password_hash, std::int64_t{r.failed_logins}, to_unix(r.created_at));
      Status s = st.run();
      if (!s.ok() && s.error().code == Errc::already_exists)
        return Error{Errc::already_exists, "customer '" + r.customer_id + "' already exists"};
      return s;
    });
  }

  Result<CustomerRecord> find_customer(std::string_view id) override {
    DOJANG_ASSIGN(auto c, db_->read());
    return find_one(
        *c,
        "SELECT " + std::string(kCustomerColumns) + " FROM bank_customers WHERE customer_id = ?",
        id, read_customer, kNoCustomer);
  }

  Result<Attempt> reserve_login_attempt(std::string_view id, int max_failures) override {
    return reserve_attempt(*db_, "bank_customers", "customer_id", "failed_logins", id, max_failures,
                           kNoCustomer);
  }

  Status reset_login_failures(std::string_view id) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(Statement st,
                    c.prepare("UPDATE bank_customers SET failed_logins = 0 WHERE customer_id = ?"));
      st.bind(1, id);
      DOJANG_TRY(st.run());
      if (c.changes() == 0) return Error{Errc::not_found, std::string(kNoCustomer)};
      return {};
    });
  }

  Status insert_session(const SessionRecord& r) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(Statement st,
                    c.prepare("INSERT INTO bank_sessions (" + std::string(kSessionColumns) +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?)"));
      st.bind_all(r.token_hash, r.customer_id, to_unix(r.created_at), to_unix(r.expires_at),
                  std::int64_t{r.idn_failures}, std::int64_t{r.otp_sends});
      bind_optional_time(st, 7, r.verified_at);
      return st.run();
    });
  }

  Result<SessionRecord> find_session(ByteView token_hash) override {
    DOJANG_ASSIGN(auto c, db_->read());
    return find_one(
        *c, "SELECT " + std::string(kSessionColumns) + " FROM bank_sessions WHERE token_hash = ?",
        token_hash, read_session, kNoSession);
  }

  Status delete_session(ByteView token_hash) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(Statement st, c.prepare("DELETE FROM bank_sessions WHERE token_hash = ?"));
      st.bind(1, token_hash);
      return st.run();
    });
  }

  Status purge_sessions(TimePoint before) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(Statement st, c.prepare("DELETE FROM bank_sessions WHERE expires_at < ?"));
      st.bind(1, to_unix(before));
      return st.run();
    });
  }

  Result<Attempt> reserve_idn_attempt(ByteView token_hash, int max_failures) override {
    return reserve_attempt(*db_, "bank_sessions", "token_hash", "idn_failures", token_hash,
                           max_failures, kNoSession);
  }

  Status reset_idn_failures(ByteView token_hash) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(Statement st,
                    c.prepare("UPDATE bank_sessions SET idn_failures = 0 WHERE token_hash = ?"));
      st.bind(1, token_hash);
      DOJANG_TRY(st.run());
      if (c.changes() == 0) return Error{Errc::not_found, std::string(kNoSession)};
      return {};
    });
  }

  Status mark_session_verified(ByteView token_hash, TimePoint at) override {
    return db_->transaction([&](Connection& c) -> Status {
      {
        DOJANG_ASSIGN(Statement st,
                      c.prepare("UPDATE bank_sessions SET verified_at = ? WHERE token_hash = ?"));
        st.bind_all(to_unix(at), token_hash);
        DOJANG_TRY(st.run());
        if (c.changes() == 0) return Error{Errc::not_found, std::string(kNoSession)};
      }
      DOJANG_ASSIGN(Statement del, c.prepare("DELETE FROM bank_otps WHERE token_hash = ?"));
      del.bind(1, token_hash);
      return del.run();
    });
  }

  Result<bool> put_otp(ByteView token_hash, const OtpRecord& otp, int max_sends) override {
    return db_->transaction([&](Connection& c) -> Result<bool> {
      {
        DOJANG_ASSIGN(Statement st, c.prepare("UPDATE bank_sessions SET otp_sends = otp_sends + 1 "
                                              "WHERE token_hash = ? AND otp_sends < ?"));
        st.bind_all(token_hash, std::int64_t{max_sends});
        DOJANG_TRY(st.run());
      }
      if (c.changes() == 0) {
        DOJANG_ASSIGN(Statement st, c.prepare("SELECT 1 FROM bank_sessions WHERE token_hash = ?"));
        st.bind(1, token_hash);
        DOJANG_ASSIGN(bool exists, st.step());
        if (!exists) return Error{Errc::not_found, std::string(kNoSession)};
        return false;
      }
      DOJANG_ASSIGN(Statement st,
                    c.prepare("INSERT INTO bank_otps (token_hash, code_mac, expires_at, failures) "
                              "VALUES (?, ?, ?, 0) ON CONFLICT (token_hash) DO UPDATE SET "
                              "code_mac = excluded.code_mac, expires_at = excluded.expires_at, "
                              "failures = 0"));
      st.bind_all(token_hash, otp.code_mac, to_unix(otp.expires_at));
      DOJANG_TRY(st.run());
      return true;
    });
  }

  Result<OtpRecord> find_otp(ByteView token_hash) override {
    DOJANG_ASSIGN(auto c, db_->read());
    return find_one(
        *c, "SELECT code_mac, expires_at, failures FROM bank_otps WHERE token_hash = ?", token_hash,
        [](const Statement& st) {
          return OtpRecord{st.blob(0), from_unix(st.int64(1)), static_cast<int>(st.int64(2))};
        },
        kNoOtp);
  }

  Result<Attempt> reserve_otp_attempt(ByteView token_hash, int max_failures) override {
    return reserve_attempt(*db_, "bank_otps", "token_hash", "failures", token_hash, max_failures,
                           kNoOtp);
  }

  Result<std::int64_t> insert_application(const ApplicationRecord& r,
                                          TimePoint ref_busy_after) override {
    return db_->transaction([&](Connection& c) -> Result<std::int64_t> {
      DOJANG_ASSIGN(
          Statement st,
          c.prepare("INSERT INTO bank_applications (ref, customer_id, purpose, kind, channel, "
                    "auth_code_sealed, state, mac_failures, created_at, expires_at, used_at, "
                    "replaces_serial, not_after) "
                    "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS ("
                    "SELECT 1 FROM bank_applications WHERE ref = ? AND expires_at > ?)"));
      st.bind_all(r.ref, r.customer_id, std::string_view(to_string(r.purpose)),
                  std::string_view(to_string(r.kind)), std::string_view(to_string(r.channel)),
                  r.auth_code_sealed, std::string_view(to_string(r.state)),
                  std::int64_t{r.mac_failures}, to_unix(r.created_at), to_unix(r.expires_at));
      bind_optional_time(st, 11, r.used_at);
      if (r.replaces_serial) {
        st.bind(12, std::string_view(*r.replaces_serial));
      } else {
        st.bind_null(12);
      }
      bind_optional_time(st, 13, r.not_after);
      st.bind(14, r.ref).bind(15, to_unix(ref_busy_after));
      DOJANG_TRY(st.run());
      if (c.changes() == 0)
        return Error{Errc::already_exists, "reference number " + r.ref + " is in use"};
      return c.last_insert_rowid();
    });
  }

  Result<ApplicationRecord> find_application(std::string_view ref) override {
    DOJANG_ASSIGN(auto c, db_->read());
    return find_application(*c, ref);
  }

  Result<ApplicationRecord> record_mac_failure(std::string_view ref, int max_failures) override {
    return db_->transaction([&](Connection& c) -> Result<ApplicationRecord> {
      {
        DOJANG_ASSIGN(
            Statement st,
            c.prepare("UPDATE bank_applications SET mac_failures = mac_failures + 1, "
                      "state = CASE WHEN mac_failures + 1 >= ? THEN 'locked' ELSE state END "
                      "WHERE id = (SELECT max(id) FROM bank_applications WHERE ref = ?) "
                      "AND state = 'open'"));
        st.bind_all(std::int64_t{max_failures}, ref);
        DOJANG_TRY(st.run());
      }
      return find_application(c, ref);
    });
  }

  Result<bool> mark_application_used(std::string_view ref, TimePoint now) override {
    return db_->transaction([&](Connection& c) -> Result<bool> {
      {
        DOJANG_ASSIGN(Statement st,
                      c.prepare("UPDATE bank_applications SET state = 'used', used_at = ? "
                                "WHERE id = (SELECT max(id) FROM bank_applications WHERE ref = ?) "
                                "AND state = 'open' AND expires_at > ?"));
        st.bind_all(to_unix(now), ref, to_unix(now));
        DOJANG_TRY(st.run());
      }
      if (c.changes() == 1) return true;
      DOJANG_ASSIGN(Statement st, c.prepare("SELECT 1 FROM bank_applications WHERE ref = ?"));
      st.bind(1, ref);
      DOJANG_ASSIGN(bool exists, st.step());
      if (!exists) return Error{Errc::not_found, std::string(kNoApplication)};
      return false;
    });
  }

  Status append_sms(const SmsRecord& m) override {
    return db_->transaction([&](Connection& c) -> Status {
      DOJANG_ASSIGN(
          Statement st,
          c.prepare("INSERT INTO bank_sms_outbox (phone, body, sent_at) VALUES (?, ?, ?)"));
      st.bind_all(m.phone, m.body, to_unix(m.sent_at));
      return st.run();
    });
  }

  Result<std::vector<SmsRecord>> list_sms(std::optional<std::string_view> phone) override {
    DOJANG_ASSIGN(auto c, db_->read());
    DOJANG_ASSIGN(Statement st,
                  c->prepare(phone ? "SELECT id, phone, body, sent_at FROM bank_sms_outbox "
                                     "WHERE phone = ? ORDER BY id"
                                   : "SELECT id, phone, body, sent_at FROM bank_sms_outbox "
                                     "ORDER BY id"));
    if (phone) st.bind(1, *phone);
    std::vector<SmsRecord> out;
    for (;;) {
      DOJANG_ASSIGN(bool row, st.step());
      if (!row) break;
      out.push_back(SmsRecord{st.int64(0), st.text(1), st.blob(2), from_unix(st.int64(3))});
    }
    return out;
  }

 private:
  static Result<ApplicationRecord> find_application(Connection& c, std::string_view ref) {
    DOJANG_ASSIGN(Statement st,
                  c.prepare("SELECT " + std::string(kApplicationColumns) +
                            " FROM bank_applications WHERE ref = ? ORDER BY id DESC LIMIT 1"));
    st.bind(1, ref);
    DOJANG_ASSIGN(bool row, st.step());
    if (!row) return Error{Errc::not_found, std::string(kNoApplication)};
    return read_application(st);
  }

  std::shared_ptr<Database> db_;
};

}  // namespace

Result<std::unique_ptr<BankStore>> sqlite_bank_store(std::shared_ptr<Database> db) {
  if (!db) return Error{Errc::usage, "no database"};
  DOJANG_TRY(db->migrate(internal::kBankModule, internal::bank_migrations()));
  return std::unique_ptr<BankStore>(std::make_unique<SqliteBankStore>(std::move(db)));
}

Result<std::unique_ptr<BankStore>> open_sqlite_bank_store(const std::filesystem::path& path) {
  DOJANG_ASSIGN(std::shared_ptr<Database> db, Database::open(path));
  return sqlite_bank_store(std::move(db));
}

}  // namespace dojang::store
