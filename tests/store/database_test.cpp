#include "dojang/store/database.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "testing/testing.hpp"

namespace dojang::store {
namespace {

using dojang::testing::TempDir;
using dojang::testing::write_text;

constexpr Migration kTwoSteps[] = {
    {1, "notes",
     "CREATE TABLE test_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE) STRICT;"},
    {2, "tags",
     "CREATE TABLE test_tags (note INTEGER NOT NULL REFERENCES test_notes (id), tag TEXT) STRICT;"},
};

class DatabaseTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::filesystem::path path_ = dir_ / "dojang.db";

  std::shared_ptr<Database> openDb() {
    auto db = Database::open(path_);
    EXPECT_TRUE(db.ok()) << db.error().message;
    return db.ok() ? *db : nullptr;
  }

  static std::string pragma(Database& db, const std::string& name) {
    auto c = db.lease();
    auto st = c->prepare("PRAGMA " + name);
    EXPECT_TRUE(st.ok()) << st.error().message;
    auto row = st->step();
    EXPECT_TRUE(row.ok() && *row);
    return st->text(0);
  }

  static bool hasTable(Database& db, const std::string& name) {
    auto c = db.lease();
    auto st = c->prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?");
    EXPECT_TRUE(st.ok());
    st->bind(1, name);
    auto row = st->step();
    EXPECT_TRUE(row.ok());
    return row.ok() && *row;
  }

  static std::int64_t count(Database& db, const std::string& table) {
    auto c = db.lease();
    auto st = c->prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(st.ok()) << st.error().message;
    auto row = st->step();
    EXPECT_TRUE(row.ok() && *row);
    return st->int64(0);
  }

  static Status insertNote(Connection& c, std::string_view body) {
    DOJANG_ASSIGN(Statement st, c.prepare("INSERT INTO test_notes (body) VALUES (?)"));
    st.bind(1, body);
    return st.run();
  }

  void expectVersion(Database& db, std::string_view module, int want) {
    auto v = db.schema_version(module);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(*v, want) << module;
  }
};

TEST_F(DatabaseTest, OpensWithWalFullSyncForeignKeysAndPrivateMode) {
  auto db = openDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(pragma(*db, "journal_mode"), "wal");
  EXPECT_EQ(pragma(*db, "synchronous"), "2");  // FULL
  EXPECT_EQ(pragma(*db, "foreign_keys"), "1");
  EXPECT_EQ(pragma(*db, "secure_delete"), "1");
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(DatabaseTest, FreshDatabaseGetsEveryStep) {
  auto db = openDb();
  ASSERT_TRUE(db);
  expectVersion(*db, "test", 0);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  expectVersion(*db, "test", 2);
  EXPECT_TRUE(hasTable(*db, "test_notes"));
  EXPECT_TRUE(hasTable(*db, "test_tags"));
}

TEST_F(DatabaseTest, ReopeningAnUpToDateDatabaseAppliesNothing) {
  {
    auto db = openDb();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
    ASSERT_TRUE(db->transaction([](Connection& c) { return insertNote(c, "kept"); }).ok());
  }
  auto db = openDb();
  ASSERT_TRUE(db);
  // The steps would fail if run again (CREATE TABLE without IF NOT EXISTS).
  Status again = db->migrate("test", kTwoSteps);
  ASSERT_TRUE(again.ok()) << again.error().message;
  expectVersion(*db, "test", 2);
  EXPECT_EQ(count(*db, "test_notes"), 1);
}

TEST_F(DatabaseTest, AppendedStepsAreAppliedInOrder) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", std::span(kTwoSteps).first(1)).ok());
  expectVersion(*db, "test", 1);
  EXPECT_FALSE(hasTable(*db, "test_tags"));
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  expectVersion(*db, "test", 2);
  EXPECT_TRUE(hasTable(*db, "test_tags"));
}

TEST_F(DatabaseTest, RefusesADatabaseNewerThanTheCode) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  Status s = db->migrate("test", std::span(kTwoSteps).first(1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::foreign_format);
  EXPECT_NE(s.error().message.find("version 2"), std::string::npos) << s.error().message;
  expectVersion(*db, "test", 2);
}

TEST_F(DatabaseTest, ModulesHaveTheirOwnVersions) {
  constexpr Migration kOther[] = {{1, "other", "CREATE TABLE other_things (x INTEGER) STRICT;"}};
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  ASSERT_TRUE(db->migrate("other", kOther).ok());
  expectVersion(*db, "test", 2);
  expectVersion(*db, "other", 1);
  expectVersion(*db, "nobody", 0);
}

TEST_F(DatabaseTest, AFailingStepIsRolledBackWhole) {
  constexpr Migration kBroken[] = {
      kTwoSteps[0],
      {2, "broken", "CREATE TABLE test_half (x INTEGER); INSERT INTO no_such_table VALUES (1);"},
  };
  auto db = openDb();
  ASSERT_TRUE(db);
  Status s = db->migrate("test", kBroken);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_NE(s.error().message.find("test/2 (broken)"), std::string::npos) << s.error().message;
  expectVersion(*db, "test", 1);
  EXPECT_TRUE(hasTable(*db, "test_notes"));
  EXPECT_FALSE(hasTable(*db, "test_half"));
}

TEST_F(DatabaseTest, StepsMustBeNumberedFromOne) {
  constexpr Migration kGap[] = {{1, "a", "SELECT 1;"}, {3, "c", "SELECT 1;"}};
  auto db = openDb();
  ASSERT_TRUE(db);
  Status s = db->migrate("test", kGap);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::usage);
  expectVersion(*db, "test", 0);
}

TEST_F(DatabaseTest, AFileThatIsNotADatabaseIsInvalidInput) {
  write_text(path_, std::string(4096, 'x'));
  auto db = Database::open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, Errc::invalid_input) << db.error().message;
}

TEST_F(DatabaseTest, AMissingFolderIsAnIoError) {
  auto db = Database::open(dir_ / "no" / "such" / "dojang.db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, Errc::io);
}

TEST_F(DatabaseTest, UniqueViolationIsAlreadyExists) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  auto c = db->lease();
  ASSERT_TRUE(insertNote(*c, "one").ok());
  Status dup = insertNote(*c, "one");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::already_exists) << dup.error().message;
}

TEST_F(DatabaseTest, ForeignKeysAreEnforced) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  auto c = db->lease();
  Status s = c->exec("INSERT INTO test_tags (note, tag) VALUES (42, 'orphan')");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
}

TEST_F(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  {
    auto c = db->lease();
    auto tx = Transaction::begin(*c);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    ASSERT_TRUE(insertNote(*c, "dropped").ok());
  }  // no commit
  EXPECT_EQ(count(*db, "test_notes"), 0);
  {
    auto c = db->lease();
    auto tx = Transaction::begin(*c);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(insertNote(*c, "kept").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  EXPECT_EQ(count(*db, "test_notes"), 1);
}

TEST_F(DatabaseTest, TransactionHelperRollsBackWhenTheBodyFails) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  Result<int> r = db->transaction([](Connection& c) -> Result<int> {
    DOJANG_TRY(insertNote(c, "first"));
    DOJANG_TRY(insertNote(c, "first"));  // duplicate: fails
    return 2;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::already_exists);
  EXPECT_EQ(count(*db, "test_notes"), 0);
}

TEST_F(DatabaseTest, TheSameStatementCanRunNested) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  auto c = db->lease();
  ASSERT_TRUE(insertNote(*c, "a").ok());
  ASSERT_TRUE(insertNote(*c, "b").ok());
  const std::string sql = "SELECT body FROM test_notes ORDER BY id";
  auto outer = c->prepare(sql);
  ASSERT_TRUE(outer.ok());
  std::vector<std::string> seen;
  while (true) {
    auto row = outer->step();
    ASSERT_TRUE(row.ok());
    if (!*row) break;
    auto inner = c->prepare(sql);  // cache slot busy: a private copy
    ASSERT_TRUE(inner.ok()) << inner.error().message;
    ASSERT_TRUE(inner->run().ok());
    seen.push_back(outer->text(0));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
}

TEST_F(DatabaseTest, BindsAndReadsEveryType) {
  auto db = openDb();
  ASSERT_TRUE(db);
  auto c = db->lease();
  ASSERT_TRUE(c->exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n BLOB)").ok());
  auto ins = c->prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  const Bytes blob{0, 1, 2, 0xff};
  ins->bind_all(std::int64_t{-5}, std::string("홍길동"), blob).bind_null(4);
  ASSERT_TRUE(ins->run().ok());
  auto sel = c->prepare("SELECT i, s, b, n FROM t");
  ASSERT_TRUE(sel.ok());
  auto row = sel->step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(sel->int64(0), -5);
  EXPECT_EQ(sel->text(1), "홍길동");
  EXPECT_EQ(sel->blob(2), blob);
  EXPECT_TRUE(sel->is_null(3));
  EXPECT_TRUE(sel->blob(3).empty());
}

TEST_F(DatabaseTest, ABadBindIsReportedByStep) {
  auto db = openDb();
  ASSERT_TRUE(db);
  auto c = db->lease();
  auto st = c->prepare("SELECT ?");
  ASSERT_TRUE(st.ok());
  st->bind(7, std::int64_t{1});  // no parameter 7
  auto row = st->step();
  ASSERT_FALSE(row.ok());
  EXPECT_EQ(row.error().code, Errc::io);
  EXPECT_NE(row.error().message.find("parameter 7"), std::string::npos) << row.error().message;
}

TEST_F(DatabaseTest, CommittedDataSurvivesReopen) {
  {
    auto db = openDb();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
    ASSERT_TRUE(db->transaction([](Connection& c) { return insertNote(c, "durable"); }).ok());
  }
  auto db = openDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(count(*db, "test_notes"), 1);
}

// A process killed right after COMMIT loses nothing it committed.
TEST_F(DatabaseTest, CommittedDataSurvivesKillNine) {
  {
    auto db = openDb();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  }
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = Database::open(path_);
    if (!db.ok()) ::_exit(10);
    for (int i = 0; i < 20; ++i)
      if (!(*db)
               ->transaction([&](Connection& c) { return insertNote(c, "n" + std::to_string(i)); })
               .ok())
        ::_exit(11);
    ::kill(::getpid(), SIGKILL);  // no close, no checkpoint
    ::_exit(12);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto db = openDb();
  ASSERT_TRUE(db);
  EXPECT_EQ(count(*db, "test_notes"), 20);
}

TEST_F(DatabaseTest, ThreadsShareOneDatabase) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  constexpr int kThreads = 4;
  constexpr int kRows = 50;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kRows; ++i) {
        Status s = db->transaction([&](Connection& c) {
          return insertNote(c, std::to_string(t) + "/" + std::to_string(i));
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count(*db, "test_notes"), kThreads * kRows);
}

TEST_F(DatabaseTest, TwoConnectionsWaitForEachOther) {
  auto first = openDb();
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->migrate("test", kTwoSteps).ok());
  auto second = openDb();
  ASSERT_TRUE(second);
  constexpr int kRows = 50;
  std::latch start(2);
  std::atomic<int> failures{0};
  auto writer = [&](std::shared_ptr<Database> db, std::string prefix) {
    start.arrive_and_wait();
    for (int i = 0; i < kRows; ++i)
      if (!db->transaction([&](Connection& c) {
               return insertNote(c, prefix + std::to_string(i));
             }).ok())
        ++failures;
  };
  std::thread a(writer, first, "a");
  std::thread b(writer, second, "b");
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count(*first, "test_notes"), 2 * kRows);
}

TEST_F(DatabaseTest, ConcurrentTransactionsShareCommits) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  const Database::Stats before = db->stats();
  constexpr int kThreads = 8;
  constexpr int kRows = 25;
  std::latch start(kThreads);
  std::atomic<int> failures{0};
  std::atomic<int> duplicates{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kRows; ++i) {
        Status s = db->transaction([&](Connection& c) -> Status {
          DOJANG_TRY(insertNote(c, std::to_string(t) + "/" + std::to_string(i)));
          if (i % 5 == 4) DOJANG_TRY(insertNote(c, "0/0"));  // fails: rolls back this body only
          return {};
        });
        if (s.ok()) continue;
        if (s.error().code == Errc::already_exists) {
          ++duplicates;
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // Every fifth body of each thread failed (thread 0 may have won the race for
  // "0/0" once), and only its own insert was undone.
  const std::int64_t rows = count(*db, "test_notes");
  EXPECT_EQ(rows + duplicates.load(), kThreads * kRows);
  EXPECT_GE(duplicates.load(), kThreads * kRows / 5 - 1);
  const Database::Stats after = db->stats();
  EXPECT_EQ(after.transactions - before.transactions, static_cast<std::uint64_t>(kThreads * kRows));
  EXPECT_LT(after.commits - before.commits, static_cast<std::uint64_t>(kThreads * kRows));
  RecordProperty("commits", static_cast<int>(after.commits - before.commits));
}

TEST_F(DatabaseTest, LeaseWaitsForTheOpenGroup) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i)
      (void)db->transaction([&](Connection& c) { return insertNote(c, "w" + std::to_string(i)); });
  });
  for (int i = 0; i < 20; ++i) {
    auto c = db->lease();
    EXPECT_FALSE(c->in_transaction());  // never inside somebody's open group
    auto tx = Transaction::begin(*c);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    ASSERT_TRUE(insertNote(*c, "lease" + std::to_string(i)).ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  stop = true;
  writer.join();
}

TEST_F(DatabaseTest, ReadersSeeEveryReturnedTransactionAndCannotWrite) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(db->transaction([&](Connection& c) {
                    return insertNote(c, "n" + std::to_string(i));
                  }).ok());
    auto r = db->read();
    ASSERT_TRUE(r.ok()) << r.error().message;
    auto st = (*r)->prepare("SELECT count(*) FROM test_notes");
    ASSERT_TRUE(st.ok());
    auto row = st->step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(st->int64(0), i + 1);  // the transaction that just returned is visible
  }
  auto r = db->read();
  ASSERT_TRUE(r.ok());
  Status s = insertNote(**r, "through a reader");
  ASSERT_FALSE(s.ok());  // query_only
  EXPECT_EQ(s.error().code, Errc::io) << s.error().message;
  EXPECT_EQ(count(*db, "test_notes"), 5);
}

// A read does not wait for the open group: it runs while a transaction body
// (and so the group's COMMIT) is held up, and sees the state before it.
TEST_F(DatabaseTest, ReadersDoNotWaitForTheOpenGroup) {
  auto db = openDb();
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  ASSERT_TRUE(db->transaction([&](Connection& c) { return insertNote(c, "before"); }).ok());
  std::latch inside(1), done_reading(1);
  std::thread writer([&] {
    Status w = db->transaction([&](Connection& c) -> Status {
      DOJANG_TRY(insertNote(c, "held"));
      inside.count_down();
      done_reading.wait();  // the group stays open until the reader is through
      return {};
    });
    EXPECT_TRUE(w.ok());
  });
  inside.wait();
  for (int i = 0; i < 3; ++i) {  // the pool hands out more than one connection
    auto a = db->read();
    auto b = db->read();
    ASSERT_TRUE(a.ok() && b.ok());
    auto st = (*a)->prepare("SELECT count(*) FROM test_notes");
    ASSERT_TRUE(st.ok());
    auto row = st->step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(st->int64(0), 1);  // "held" is not committed yet
  }
  done_reading.count_down();
  writer.join();
  EXPECT_EQ(count(*db, "test_notes"), 2);
}

// Every transaction reported committed is on disk, group commit or not, even
// when the process is killed in the middle of a burst.
TEST_F(DatabaseTest, AcknowledgedTransactionsSurviveKillNineUnderLoad) {
  {
    auto db = openDb();
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->migrate("test", kTwoSteps).ok());
  }
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto db = Database::open(path_);
    if (!db.ok()) ::_exit(10);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 100000; ++i) {
          std::string note = std::to_string(t) + "-" + std::to_string(i);
          if (!(*db)->transaction([&](Connection& c) { return insertNote(c, note); }).ok())
            ::_exit(11);
          note += "\n";
          if (::write(fds[1], note.data(), note.size()) != static_cast<ssize_t>(note.size()))
            ::_exit(12);
        }
      });
    for (auto& th : threads) th.join();
    ::_exit(13);
  }
  ::close(fds[1]);
  std::string acked;
  char buf[4096];
  while (std::count(acked.begin(), acked.end(), '\n') < 200) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    acked.append(buf, static_cast<std::size_t>(n));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ::close(fds[0]);

  auto db = openDb();
  ASSERT_TRUE(db);
  auto c = db->lease();
  auto st = c->prepare("SELECT 1 FROM test_notes WHERE body = ?");
  ASSERT_TRUE(st.ok());
  std::size_t checked = 0;
  for (std::size_t pos = 0, nl; (nl = acked.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    std::string note = acked.substr(pos, nl - pos);
    st->reset();
    st->bind(1, note);
    auto row = st->step();
    ASSERT_TRUE(row.ok()) << row.error().message;
    EXPECT_TRUE(*row) << note << " was acknowledged but is missing";
    ++checked;
  }
  EXPECT_GE(checked, 200u);
}

TEST(UnixTimeTest, RoundTripsWholeSeconds) {
  const TimePoint t = from_unix(1'735'689'600);  // 2025-01-01T00:00:00Z
  EXPECT_EQ(to_unix(t), 1'735'689'600);
  EXPECT_EQ(to_unix(t + std::chrono::milliseconds(999)), 1'735'689'600);
}

}  // namespace
}  // namespace dojang::store
