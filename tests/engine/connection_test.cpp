// Connections, values, errors and transactions, on both engines.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/transaction.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using test::error_from;

using namespace std::chrono_literals;
namespace fs = std::filesystem;

::testing::AssertionResult contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" is not in:\n" << text;
}

::testing::AssertionResult lacks(const std::string& text, std::string_view part) {
  if (text.find(part) == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" is in:\n" << text;
}

// Runs `f`, which must throw strata::Error, and returns the error.
std::int64_t count(Connection& c, const std::string& table) {
  return c.query("SELECT COUNT(*) FROM " + table).rows.at(0).get<std::int64_t>(0);
}

class ConnectionTest : public test::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    c_ = db().connect();
  }
  void TearDown() override {
    c_.reset();
    EngineTest::TearDown();
  }
  Connection& c() { return *c_; }
  Value roundtrip(const Value& v) {
    auto rs = c().query("SELECT $1 AS v", {v});
    EXPECT_EQ(rs.rows.size(), 1u);
    return rs.rows.at(0)[0];
  }
  std::string blob_type() const { return engine() == Engine::sqlite ? "BLOB" : "BYTEA"; }

 private:
  std::unique_ptr<Connection> c_;
};

TEST_P(ConnectionTest, ReportsItsEngine) {
  EXPECT_EQ(c().engine(), engine());
  EXPECT_TRUE(c().transactional_ddl());
  EXPECT_EQ(c().transaction_depth(), 0);
  EXPECT_FALSE(c().in_transaction());
}

// A parameterised query reuses its prepared statement (SQLite keeps up to 16):
// the statement must follow schema changes, hold nothing that blocks DDL or
// another connection's writes between calls, and a failure must not stick.
TEST_P(ConnectionTest, RepeatedParameterisedQueriesFollowSchemaChanges) {
  c().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  const std::string insert = "INSERT INTO t (id, name) VALUES ($1, $2)";
  const std::string select = "SELECT * FROM t WHERE id >= $1 ORDER BY id";
  for (int i = 1; i <= 3; ++i) c().execute(insert, {i, "n" + std::to_string(i)});
  EXPECT_EQ(c().query(select, {2}).rows.size(), 2u);
  // A constraint failure, then the same statement again.
  EXPECT_EQ(test::error_from([&] { c().execute(insert, {1, "dup"}); }).kind(), ErrorKind::sql);
  c().execute(insert, {4, "n4"});
  // DDL on the same connection is not blocked by the kept statements ...
  c().execute("DROP TABLE t");
  c().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, extra TEXT DEFAULT 'x')");
  c().execute(insert, {7, "n7"});
  auto rs = c().query(select, {0});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.columns.size(), 3u);  // * sees the new column
  EXPECT_EQ(rs.rows[0].get<std::string>(2), "x");
  // ... nor another connection's writes and DDL.
  auto other = db().connect();
  other->execute("ALTER TABLE t ADD COLUMN more INTEGER");
  other->execute(insert, {8, "n8"});
  EXPECT_EQ(c().query(select, {0}).rows.size(), 2u);
  EXPECT_EQ(c().query(select, {0}).columns.size(), 4u);
  // More distinct statements than are kept still all work.
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(c().fetch_value<std::int64_t>("SELECT $1 + " + std::to_string(i), {1}), 1 + i);
  }
  EXPECT_EQ(c().query(select, {8}).rows.size(), 1u);
}

TEST_P(ConnectionTest, IntegersRoundTrip) {
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{42}, std::numeric_limits<std::int64_t>::max(),
                         std::numeric_limits<std::int64_t>::min()}) {
    Value got = roundtrip(Value(static_cast<long long>(v)));
    EXPECT_EQ(got, Value(static_cast<long long>(v)));
    EXPECT_EQ(got.as<std::int64_t>(), v);
  }
}

TEST_P(ConnectionTest, DoublesRoundTrip) {
  for (double v : {0.0, 0.1, -1.5, 1e300, -2.2250738585072014e-308, 3.141592653589793}) {
    Value got = roundtrip(Value(v));
    EXPECT_EQ(got, Value(v)) << v;
  }
}

TEST_P(ConnectionTest, TextRoundTrips) {
  for (std::string v : {std::string(), std::string("plain"), std::string("it's \"quoted\" \\ back`tick"),
                        std::string("ünïcødé ✓ 🙂 日本語"), std::string("$1 and ? and :x"), std::string(10000, 'x')}) {
    Value got = roundtrip(Value(v));
    EXPECT_EQ(got, Value(v));
  }
}

TEST_P(ConnectionTest, BlobsRoundTrip) {
  Blob zeros{std::byte{0}, std::byte{1}, std::byte{0}, std::byte{0xff}, std::byte{'\\'}, std::byte{'x'}, std::byte{0}};
  EXPECT_EQ(roundtrip(Value(zeros)), Value(zeros));
  EXPECT_EQ(roundtrip(Value(Blob{})), Value(Blob{}));
  Blob all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::byte>(i);
  EXPECT_EQ(roundtrip(Value(all)).as<Blob>(), all);
}

TEST_P(ConnectionTest, BoolsAndNullRoundTrip) {
  EXPECT_TRUE(roundtrip(Value(true)).as<bool>());
  EXPECT_FALSE(roundtrip(Value(false)).as<bool>());
  EXPECT_TRUE(roundtrip(Value(Null{})).is_null());
  EXPECT_TRUE(roundtrip(Value(std::optional<int>{})).is_null());
  EXPECT_EQ(roundtrip(Value(std::optional<int>{7})).as<int>(), 7);
}

TEST_P(ConnectionTest, TimestampsRoundTrip) {
  using namespace std::chrono;
  Timestamp t = sys_days{2025y / 4 / 10} + 12h + 3min + 4s + 567890us;
  EXPECT_EQ(roundtrip(Value(t)).as<Timestamp>(), t);
  Timestamp whole = sys_days{1999y / 12 / 31} + 23h + 59min + 59s;
  EXPECT_EQ(roundtrip(Value(whole)).as<Timestamp>(), whole);
}

TEST_P(ConnectionTest, EveryTypeRoundTripsThroughATable) {
  using namespace std::chrono;
  std::string ts_type = engine() == Engine::sqlite ? "TEXT" : "TIMESTAMPTZ";
  c().execute("CREATE TABLE v (id INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b " + blob_type() +
              ", f BOOLEAN, ts " + ts_type + ", n TEXT)");
  Timestamp t = sys_days{2024y / 2 / 29} + 1h + 2min + 3s + 4us;
  Blob blob{std::byte{0}, std::byte{0x80}, std::byte{0}};
  EXPECT_EQ(c().execute("INSERT INTO v (id, i, d, t, b, f, ts, n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        {1, std::numeric_limits<long long>::min(), 2.5, "ä'b", blob, true, t, Null{}}),
            1);
  auto rs = c().query("SELECT i, d, t, b, f, ts, n FROM v WHERE id = $1", {1});
  ASSERT_EQ(rs.rows.size(), 1u);
  const Row& r = rs.rows[0];
  EXPECT_EQ(r.get<std::int64_t>(0), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(r.get<double>(1), 2.5);
  EXPECT_EQ(r.get<std::string>(2), "ä'b");
  EXPECT_EQ(r.get<Blob>(3), blob);
  EXPECT_TRUE(r.get<bool>(4));
  EXPECT_EQ(r.get<Timestamp>(5), t);
  EXPECT_EQ(r.get<std::optional<std::string>>(6), std::nullopt);
  EXPECT_EQ(rs.columns, (std::vector<std::string>{"i", "d", "t", "b", "f", "ts", "n"}));
}

TEST_P(ConnectionTest, ParametersMayComeInAnyOrder) {
  auto rs = c().query("SELECT $2 AS a, $1 AS b", {"first", "second"});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0].get<std::string>(0), "second");
  EXPECT_EQ(rs.rows[0].get<std::string>(1), "first");
}

TEST_P(ConnectionTest, ParametersMayRepeat) {
  auto rs = c().query("SELECT $1 AS a, $1 + 1 AS b, $2 AS c, $1 * $2 AS d", {20, 3});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0].get<std::int64_t>(0), 20);
  EXPECT_EQ(rs.rows[0].get<std::int64_t>(1), 21);
  EXPECT_EQ(rs.rows[0].get<std::int64_t>(2), 3);
  EXPECT_EQ(rs.rows[0].get<std::int64_t>(3), 60);
}

TEST_P(ConnectionTest, ParameterLookalikesInStringsAndCommentsAreNotParameters) {
  auto rs = c().query("SELECT $1 AS a, '$2' AS b /* $3 */ -- $4\n", {5});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0].get<std::int64_t>(0), 5);
  EXPECT_EQ(rs.rows[0].get<std::string>(1), "$2");
}

TEST_P(ConnectionTest, WrongParameterCountIsAUsageError) {
  Error few = error_from([&] { c().query("SELECT $1, $2", {1}); });
  EXPECT_EQ(few.kind(), ErrorKind::usage);
  EXPECT_TRUE(contains(few.what(), "2 parameter"));
  EXPECT_TRUE(contains(few.what(), "1 value"));
  EXPECT_EQ(few.sql(), "SELECT $1, $2");

  Error many = error_from([&] { c().query("SELECT $1", {1, 2}); });
  EXPECT_EQ(many.kind(), ErrorKind::usage);

  Error none_used = error_from([&] { c().query("SELECT 1", {1}); });
  EXPECT_EQ(none_used.kind(), ErrorKind::usage);

  // With no values at all, PostgreSQL itself reports the missing parameter
  // (08P01, "bind message supplies 0 parameters ...").
  Error none_given = error_from([&] { c().query("SELECT $1"); });
  EXPECT_EQ(none_given.kind(), ErrorKind::usage);
}

TEST_P(ConnectionTest, SyntaxErrorCarriesEngineCodeSqlAndOffset) {
  const std::string sql = "SELECT 'é', , 2";
  Error e = error_from([&] { c().query(sql); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code(), engine() == Engine::sqlite ? "SQLITE_ERROR (1)" : "42601");
  EXPECT_EQ(e.sql(), sql);
  EXPECT_EQ(e.sql_offset(), 13);  // the second ',', in bytes (é is two)
  EXPECT_TRUE(contains(e.what(), "SQL error " + e.engine_code() + ": "));
  EXPECT_TRUE(contains(e.what(), e.engine_message().substr(0, e.engine_message().find('\n'))));
  EXPECT_TRUE(contains(e.what(), "  1 | SELECT 'é', , 2\n    |             ^"));
  EXPECT_FALSE(e.engine_message().empty());
}

TEST_P(ConnectionTest, ErrorOffsetOnALaterLine) {
  const std::string sql = "SELECT 1\n  FROM\n  WHERE x";
  Error e = error_from([&] { c().query(sql); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.sql_offset(), static_cast<int>(sql.find("WHERE")));
  EXPECT_TRUE(contains(e.what(), "  3 |   WHERE x\n    |   ^"));
}

TEST_P(ConnectionTest, UnknownTableIsASqlError) {
  Error e = error_from([&] { c().query("SELECT * FROM no_such_table"); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code(), engine() == Engine::sqlite ? "SQLITE_ERROR (1)" : "42P01");
  EXPECT_TRUE(contains(e.what(), "no_such_table"));
}

TEST_P(ConnectionTest, UniqueViolationCode) {
  c().execute("CREATE TABLE u (a INTEGER UNIQUE)");
  c().execute("INSERT INTO u (a) VALUES ($1)", {1});
  Error e = error_from([&] { c().execute("INSERT INTO u (a) VALUES ($1)", {1}); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code(), engine() == Engine::sqlite ? "SQLITE_CONSTRAINT_UNIQUE (2067)" : "23505");
  EXPECT_EQ(e.sql_offset(), -1);
  if (engine() == Engine::postgres) EXPECT_TRUE(contains(e.what(), "\nDETAIL: Key (a)=(1) already exists."));
}

TEST_P(ConnectionTest, NotNullViolationCode) {
  c().execute("CREATE TABLE nn (a INTEGER NOT NULL)");
  Error e = error_from([&] { c().execute("INSERT INTO nn (a) VALUES ($1)", {Null{}}); });
  EXPECT_EQ(e.engine_code(), engine() == Engine::sqlite ? "SQLITE_CONSTRAINT_NOTNULL (1299)" : "23502");
}

TEST_P(ConnectionTest, ForeignKeysAreEnforced) {
  c().execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
  c().execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent (id))");
  c().execute("INSERT INTO parent (id) VALUES (1)");
  c().execute("INSERT INTO child (id, parent_id) VALUES (1, 1)");
  Error e = error_from([&] { c().execute("INSERT INTO child (id, parent_id) VALUES (2, 99)"); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code(), engine() == Engine::sqlite ? "SQLITE_CONSTRAINT_FOREIGNKEY (787)" : "23503");
  Error d = error_from([&] { c().execute("DELETE FROM parent WHERE id = 1"); });
  EXPECT_EQ(d.kind(), ErrorKind::sql);
  EXPECT_EQ(count(c(), "child"), 1);
}

TEST_P(ConnectionTest, AffectedCounts) {
  EXPECT_EQ(c().execute("CREATE TABLE a (x INTEGER)"), 0);
  EXPECT_EQ(c().execute("INSERT INTO a (x) VALUES (1), (2), (3)"), 3);
  EXPECT_EQ(c().execute("UPDATE a SET x = x + 10 WHERE x >= $1", {2}), 2);
  EXPECT_EQ(c().execute("UPDATE a SET x = 0 WHERE x > 100"), 0);
  EXPECT_EQ(c().query("SELECT x FROM a").affected, 0);
  EXPECT_EQ(c().execute("CREATE INDEX a_x ON a (x)"), 0);
  EXPECT_EQ(c().execute("DELETE FROM a WHERE x = 1"), 1);
  auto returning = c().query("DELETE FROM a RETURNING x");
  EXPECT_EQ(returning.rows.size(), 2u);
  EXPECT_EQ(returning.affected, 2);
}

TEST_P(ConnectionTest, ColumnsAreNamedAndRowsOrdered) {
  auto rs = c().query("SELECT 1 AS one, 'two' AS \"Two\" UNION ALL SELECT 3, 'four' ORDER BY 1");
  EXPECT_EQ(rs.columns, (std::vector<std::string>{"one", "Two"}));
  ASSERT_EQ(rs.rows.size(), 2u);
  EXPECT_EQ(rs.rows[1].get<int>(0), 3);
  EXPECT_EQ(rs.rows[1].get<std::string>(1), "four");
}

TEST_P(ConnectionTest, BlankSqlRunsNothing) {
  EXPECT_TRUE(c().query("").rows.empty());
  EXPECT_TRUE(c().query("  -- nothing\n /* here */ ").columns.empty());
}

TEST_P(ConnectionTest, TrailingSemicolonAndCommentsAreFine) {
  EXPECT_EQ(c().query("SELECT 1; -- done\n").rows.size(), 1u);
}

TEST_P(ConnectionTest, QueryRunsOneStatementOnly) {
  Error e = error_from([&] { c().query("SELECT 1; SELECT 2"); });
  if (engine() == Engine::sqlite) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_TRUE(contains(e.what(), "execute_script"));
    EXPECT_EQ(e.sql_offset(), 10);
  } else {
    EXPECT_EQ(e.kind(), ErrorKind::sql);  // "cannot insert multiple commands into a prepared statement"
    EXPECT_EQ(e.engine_code(), "42601");
  }
}

TEST_P(ConnectionTest, ExecuteScriptRunsSeveralStatements) {
  c().execute_script(
      "CREATE TABLE s (a INTEGER);\n"
      "-- a comment; with a semicolon\n"
      "INSERT INTO s (a) VALUES (1);\n"
      "INSERT INTO s (a) VALUES (length('x;y'));\n"
      "/* trailing */");
  EXPECT_EQ(count(c(), "s"), 2);
  c().execute_script("");
  c().execute_script("SELECT 1");
}

TEST_P(ConnectionTest, ExecuteScriptErrorsPointIntoTheScript) {
  const std::string script = "CREATE TABLE s2 (a INTEGER);\nSELEC 1;\n";
  Error e = error_from([&] { c().execute_script(script); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.sql(), script);
  EXPECT_EQ(e.sql_offset(), static_cast<int>(script.find("SELEC ")));
  EXPECT_TRUE(contains(e.what(), "  2 | SELEC 1;"));
}

TEST_P(ConnectionTest, QuotedIdentifiersWork) {
  std::string name = Connection::quote_identifier("we\"ird table");
  EXPECT_EQ(name, "\"we\"\"ird table\"");
  c().execute("CREATE TABLE " + name + " (" + Connection::quote_identifier("select") + " INTEGER)");
  c().execute("INSERT INTO " + name + " VALUES (1)");
  EXPECT_EQ(count(c(), name), 1);
  EXPECT_THROW(Connection::quote_identifier(""), Error);
  EXPECT_THROW(Connection::quote_identifier(std::string_view("a\0b", 3)), Error);
}

TEST_P(ConnectionTest, CommittedTransactionKeepsItsWork) {
  c().execute("CREATE TABLE t (a INTEGER)");
  {
    Transaction tx(c());
    EXPECT_EQ(c().transaction_depth(), 1);
    EXPECT_TRUE(c().in_transaction());
    c().execute("INSERT INTO t VALUES (1)");
    tx.commit();
    EXPECT_FALSE(tx.active());
  }
  EXPECT_EQ(c().transaction_depth(), 0);
  EXPECT_FALSE(c().in_transaction());
  EXPECT_EQ(count(c(), "t"), 1);
}

TEST_P(ConnectionTest, SavepointRollbackKeepsTheOuterWork) {
  c().execute("CREATE TABLE t (a INTEGER)");
  {
    Transaction outer(c());
    c().execute("INSERT INTO t VALUES (1)");
    {
      Transaction inner(c());
      EXPECT_EQ(c().transaction_depth(), 2);
      c().execute("INSERT INTO t VALUES (2)");
      inner.rollback();
      EXPECT_EQ(c().transaction_depth(), 1);
    }
    {
      Transaction inner(c());
      c().execute("INSERT INTO t VALUES (3)");
      inner.commit();
    }
    outer.commit();
  }
  auto rs = c().query("SELECT a FROM t ORDER BY a");
  ASSERT_EQ(rs.rows.size(), 2u);
  EXPECT_EQ(rs.rows[0].get<int>(0), 1);
  EXPECT_EQ(rs.rows[1].get<int>(0), 3);
}

TEST_P(ConnectionTest, SavepointRecoversFromAFailedStatement) {
  c().execute("CREATE TABLE t (a INTEGER UNIQUE)");
  Transaction outer(c());
  c().execute("INSERT INTO t VALUES (1)");
  {
    Transaction inner(c());
    EXPECT_THROW(c().execute("INSERT INTO t VALUES (1)"), Error);
    // inner's destructor rolls back to its savepoint: on PostgreSQL that
    // also clears the aborted-transaction state.
  }
  c().execute("INSERT INTO t VALUES (2)");
  outer.commit();
  EXPECT_EQ(count(c(), "t"), 2);
}

TEST_P(ConnectionTest, OuterRollbackDiscardsEverything) {
  c().execute("CREATE TABLE t (a INTEGER)");
  {
    Transaction outer(c());
    c().execute("INSERT INTO t VALUES (1)");
    {
      Transaction inner(c());
      c().execute("INSERT INTO t VALUES (2)");
      inner.commit();
    }
    outer.rollback();
    EXPECT_FALSE(outer.active());
  }
  EXPECT_EQ(count(c(), "t"), 0);
  EXPECT_EQ(c().transaction_depth(), 0);
}

TEST_P(ConnectionTest, DestructorRollsBack) {
  c().execute("CREATE TABLE t (a INTEGER)");
  {
    Transaction outer(c());
    c().execute("INSERT INTO t VALUES (1)");
    Transaction inner(c());
    c().execute("INSERT INTO t VALUES (2)");
  }
  EXPECT_EQ(c().transaction_depth(), 0);
  EXPECT_FALSE(c().in_transaction());
  EXPECT_EQ(count(c(), "t"), 0);
}

TEST_P(ConnectionTest, DdlIsTransactional) {
  {
    Transaction tx(c());
    c().execute("CREATE TABLE gone (a INTEGER)");
  }
  EXPECT_THROW(c().query("SELECT * FROM gone"), Error);
}

TEST_P(ConnectionTest, OnlyTheInnermostTransactionMayFinish) {
  Transaction outer(c());
  Transaction inner(c());
  Error e = error_from([&] { outer.commit(); });
  EXPECT_EQ(e.kind(), ErrorKind::usage);
  inner.commit();
  outer.commit();
  EXPECT_THROW(outer.commit(), Error);
  EXPECT_THROW(outer.rollback(), Error);
}

TEST_P(ConnectionTest, FailedCommitLeavesTheConnectionUsable) {
  c().execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
  c().execute(
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY "
      "DEFERRED)");
  {
    Transaction tx(c());
    c().execute("INSERT INTO child (id, parent_id) VALUES (1, 42)");
    Error e = error_from([&] { tx.commit(); });
    EXPECT_EQ(e.kind(), ErrorKind::sql);
    EXPECT_EQ(e.engine_code(), engine() == Engine::sqlite ? "SQLITE_CONSTRAINT_FOREIGNKEY (787)" : "23503");
  }
  EXPECT_EQ(c().transaction_depth(), 0);
  EXPECT_FALSE(c().in_transaction());
  EXPECT_EQ(count(c(), "child"), 0);
  Transaction again(c());
  again.commit();
}

TEST_P(ConnectionTest, TwoConnectionsSeeCommittedData) {
  c().execute("CREATE TABLE shared (a INTEGER)");
  auto other = db().connect();
  c().execute("INSERT INTO shared VALUES (7)");
  EXPECT_EQ(count(*other, "shared"), 1);
}

TEST_P(ConnectionTest, RedactedUrl) {
  EXPECT_EQ(c().redacted_url(), DatabaseUrl::parse(db().url()).redacted());
}

STRATA_INSTANTIATE_ENGINES(ConnectionTest);

// ---------------------------------------------------------------- SQLite only

class SqliteConnection : public ::testing::Test {
 protected:
  void SetUp() override { db_ = std::make_unique<test::TestDatabase>(Engine::sqlite); }
  fs::path file() const { return DatabaseUrl::parse(db_->url()).sqlite_path; }
  std::unique_ptr<test::TestDatabase> db_;
};

TEST_F(SqliteConnection, FilesUseWal) {
  auto c = db_->connect();
  EXPECT_EQ(c->query("PRAGMA journal_mode").rows.at(0).get<std::string>(0), "wal");
  EXPECT_EQ(c->query("PRAGMA foreign_keys").rows.at(0).get<int>(0), 1);
}

TEST_F(SqliteConnection, MemoryDatabasesWork) {
  auto c = connect("sqlite::memory:");
  EXPECT_EQ(c->query("PRAGMA foreign_keys").rows.at(0).get<int>(0), 1);
  c->execute("CREATE TABLE m (a INTEGER)");
  EXPECT_EQ(c->execute("INSERT INTO m VALUES (1)"), 1);
}

TEST_F(SqliteConnection, NewFilesAreMode0600WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    SCOPED_TRACE(mask);
    fs::path path = db_->dir() / ("umask" + std::to_string(mask) + ".db");
    mode_t old = ::umask(mask);
    {
      auto c = connect("sqlite:" + path.string());
      c->execute("CREATE TABLE t (a INTEGER)");
      c->execute("INSERT INTO t VALUES (1)");
      for (const char* suffix : {"", "-wal", "-shm"}) {
        struct stat st {};
        std::string p = path.string() + suffix;
        ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
        EXPECT_EQ(st.st_mode & 0777, 0600u) << p;
      }
    }
    ::umask(old);
  }
}

TEST_F(SqliteConnection, ExistingFilesKeepTheirMode) {
  fs::path path = db_->dir() / "existing.db";
  test::write_file(path, "");
  ::chmod(path.c_str(), 0640);
  auto c = connect("sqlite:" + path.string());
  c->execute("CREATE TABLE t (a INTEGER)");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(SqliteConnection, MissingDirectoryIsAConnectionError) {
  Error e = error_from([&] { connect("sqlite:" + (db_->dir() / "no/such/dir/x.db").string()); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_TRUE(contains(e.what(), "no/such/dir/x.db"));
}

TEST_F(SqliteConnection, NotADatabaseIsAConnectionError) {
  fs::path path = db_->dir() / "junk.db";
  test::write_file(path, std::string(4096, 'j'));
  Error e = error_from([&] { connect("sqlite:" + path.string()); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_EQ(e.engine_code(), "SQLITE_NOTADB (26)");
  EXPECT_TRUE(contains(e.what(), "file is not a database"));
}

TEST_F(SqliteConnection, FailedOpenLeavesExistingFilesAlone) {
  fs::path dir = db_->dir() / "sub";
  fs::create_directories(dir);
  fs::path path = dir / "x.db";
  test::write_file(path, std::string(4096, 'j'));
  EXPECT_THROW(connect("sqlite:" + path.string()), Error);
  EXPECT_TRUE(fs::exists(path));  // not ours: left alone
}

TEST_F(SqliteConnection, ManyConnectionsMayOpenANewFileAtOnce) {
  for (int round = 0; round < 10; ++round) {
    std::string url = "sqlite:" + (db_->dir() / ("race" + std::to_string(round) + ".db")).string();
    std::atomic<bool> go{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&, i] {
        while (!go) std::this_thread::yield();
        try {
          auto c = connect(url);
          c->execute("CREATE TABLE IF NOT EXISTS t" + std::to_string(i) + " (a INTEGER)");
          if (c->query("PRAGMA journal_mode").rows.at(0).get<std::string>(0) != "wal") ++failures;
        } catch (const Error& e) {
          ++failures;
          ADD_FAILURE() << e.what();
        }
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures, 0);
  }
}

TEST_F(SqliteConnection, OnlyDollarNumberParameters) {
  auto c = db_->connect();
  for (const char* sql : {"SELECT ?", "SELECT :name", "SELECT @name", "SELECT $name", "SELECT ?1", "SELECT $01"}) {
    Error e = error_from([&] { c->query(sql, {1}); });
    EXPECT_EQ(e.kind(), ErrorKind::usage) << sql;
    EXPECT_TRUE(contains(e.what(), "$1")) << sql;
  }
}

TEST_F(SqliteConnection, BusyTimeoutComesFromTheOptions) {
  auto holder = db_->connect();
  ConnectOptions options;
  options.busy_timeout = 100ms;
  auto waiter = connect(db_->url(), options);
  Transaction held(*holder);
  auto start = std::chrono::steady_clock::now();
  Error e = error_from([&] { Transaction blocked(*waiter); });
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code().rfind("SQLITE_BUSY", 0), 0u) << e.engine_code();
  EXPECT_GE(waited, 90ms);
  EXPECT_LT(waited, 3s);
  EXPECT_EQ(waiter->transaction_depth(), 0);
}

// ---------------------------------------------------------------- PostgreSQL only

std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    ADD_FAILURE() << name << " is not set: run the tests under scripts/with-postgres";
    return {};
  }
  return v;
}

// The URL with its password replaced.
std::string with_password(const std::string& url, const std::string& password) {
  auto start = url.find("://") + 3;
  auto at = url.find('@', start);
  auto colon = url.find(':', start);
  if (at == std::string::npos) return url;
  if (colon == std::string::npos || colon > at) return url.substr(0, at) + ":" + password + url.substr(at);
  return url.substr(0, colon + 1) + password + url.substr(at);
}

TEST(PostgresConnection, ClosedPortIsAConnectionErrorWithoutThePassword) {
  ConnectOptions options;
  options.connect_timeout = 5s;
  Error e = error_from([&] { connect("postgresql://strata:hunter2@127.0.0.1:1/db", options); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_TRUE(lacks(e.what(), "hunter2"));
  EXPECT_TRUE(contains(e.what(), "postgresql://strata:***@127.0.0.1:1/db"));
  EXPECT_TRUE(contains(e.what(), "refused"));
  EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
}

TEST(PostgresConnection, ConninfoPasswordIsNotShownEither) {
  Error e = error_from([&] { connect("host=127.0.0.1 port=1 user=strata password=hunter2 dbname=db"); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_TRUE(lacks(e.what(), "hunter2"));
  EXPECT_TRUE(contains(e.what(), "password=***"));
}

TEST(PostgresConnection, WrongPasswordIsAConnectionErrorWithoutThePassword) {
  std::string url = required_env("STRATA_TEST_POSTGRES_PASSWORD_URL");
  ASSERT_FALSE(url.empty());
  std::string bad = with_password(url, "hunter2wrong");
  ASSERT_NE(bad, url);
  Error e = error_from([&] { connect(bad); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_TRUE(lacks(e.what(), "hunter2"));
  EXPECT_TRUE(contains(e.what(), "password authentication failed"));
}

TEST(PostgresConnection, RightPasswordConnectsAndIsNotShown) {
  std::string url = required_env("STRATA_TEST_POSTGRES_PASSWORD_URL");
  ASSERT_FALSE(url.empty());
  auto c = connect(url);
  EXPECT_EQ(c->query("SELECT current_user").rows.at(0).get<std::string>(0), "strata_pw");
  EXPECT_TRUE(contains(c->redacted_url(), ":***@"));
  EXPECT_TRUE(lacks(c->redacted_url(), "strata_pw_test"));
  Error e = error_from([&] { c->query("SELEC"); });
  EXPECT_TRUE(lacks(e.what(), "strata_pw_test"));
}

TEST(PostgresConnection, UnknownDatabaseIsAConnectionError) {
  Error e = error_from([&] { connect(test::postgres_url_for("strata_no_such_database")); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_TRUE(contains(e.what(), "strata_no_such_database"));
}

TEST(PostgresConnection, ApplicationNameComesFromTheOptions) {
  test::TestDatabase db(Engine::postgres);
  ConnectOptions options;
  options.application_name = "strata-test-app";
  auto c = connect(db.url(), options);
  EXPECT_EQ(c->query("SHOW application_name").rows.at(0).get<std::string>(0), "strata-test-app");
  EXPECT_EQ(connect(db.url())->query("SHOW application_name").rows.at(0).get<std::string>(0), "strata");
}

TEST(PostgresConnection, LostConnectionIsAConnectionError) {
  test::TestDatabase db(Engine::postgres);
  auto victim = db.connect();
  auto pid = victim->query("SELECT pg_backend_pid()").rows.at(0).get<std::int64_t>(0);
  auto killer = db.connect();
  // int8 parameters need a cast where an int4 argument is wanted.
  EXPECT_TRUE(killer->query("SELECT pg_terminate_backend($1::int)", {pid}).rows.at(0).get<bool>(0));
  std::this_thread::sleep_for(100ms);
  Error e = error_from([&] { victim->query("SELECT 1"); });
  EXPECT_EQ(e.kind(), ErrorKind::connection);
}

TEST(PostgresConnection, DollarQuotesAndEscapeStringsHideParameters) {
  test::TestDatabase db(Engine::postgres);
  auto c = db.connect();
  auto rs = c->query("SELECT $1::int AS \"x$5\", $$ $2 $$ AS a, $tag$ $3 $$ $tag$ AS b, E'\\' $4' AS c", {1});
  ASSERT_EQ(rs.rows.size(), 1u);
  EXPECT_EQ(rs.rows[0].get<int>(0), 1);
  EXPECT_EQ(rs.rows[0].get<std::string>(1), " $2 ");
  EXPECT_EQ(rs.rows[0].get<std::string>(3), "' $4");
  // A function body's $1 is not a statement parameter.
  c->execute("CREATE FUNCTION add_one(int) RETURNS int LANGUAGE sql RETURN $1 + 1");
  EXPECT_EQ(c->query("SELECT add_one($1::int)", {41}).rows.at(0).get<int>(0), 42);
}

TEST(PostgresConnection, NoticesAreNotPrinted) {
  test::TestDatabase db(Engine::postgres);
  auto c = db.connect();
  ::testing::internal::CaptureStderr();
  c->execute("DO $$ BEGIN RAISE NOTICE 'loud notice'; RAISE WARNING 'loud warning'; END $$");
  c->execute("DROP TABLE IF EXISTS not_there");
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(lacks(err, "loud"));
  EXPECT_TRUE(lacks(err, "not_there"));
}

TEST(PostgresConnection, ErrorsFromPlpgsqlCarryTheirContext) {
  test::TestDatabase db(Engine::postgres);
  auto c = db.connect();
  Error e = error_from([&] {
    c->execute("DO $$ BEGIN RAISE EXCEPTION 'custom failure' USING ERRCODE = '22012', HINT = 'try again'; END $$");
  });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code(), "22012");
  EXPECT_TRUE(contains(e.what(), "SQL error 22012: custom failure\nHINT: try again\nCONTEXT: "));
}

TEST(PostgresConnection, CopyIsRefusedAndTheConnectionStaysUsable) {
  test::TestDatabase db(Engine::postgres);
  auto c = db.connect();
  c->execute("CREATE TABLE cp (a int)");
  Error in = error_from([&] { c->execute("COPY cp FROM STDIN"); });
  EXPECT_EQ(in.kind(), ErrorKind::usage);
  c->execute("INSERT INTO cp VALUES (1)");
  Error out = error_from([&] { c->execute("COPY cp TO STDOUT"); });
  EXPECT_EQ(out.kind(), ErrorKind::usage);
  EXPECT_EQ(count(*c, "cp"), 1);
}

TEST(PostgresConnection, NumericAndOtherTypesReadAsText) {
  test::TestDatabase db(Engine::postgres);
  auto c = db.connect();
  auto rs = c->query(
      "SELECT 1.50::numeric, '2025-01-02'::date, '{\"a\": 1}'::jsonb, 2::smallint, 3::oid, 1.5::real, "
      "'NaN'::float8, '-Infinity'::float8");
  const Row& r = rs.rows.at(0);
  EXPECT_EQ(r[0], Value("1.50"));
  EXPECT_EQ(r[1], Value("2025-01-02"));
  EXPECT_EQ(r[2], Value("{\"a\": 1}"));
  EXPECT_EQ(r[3], Value(2));
  EXPECT_EQ(r[4], Value(3));
  EXPECT_EQ(r[5], Value(1.5));
  EXPECT_TRUE(std::isnan(r[6].as<double>()));
  EXPECT_EQ(r[7].as<double>(), -std::numeric_limits<double>::infinity());
}

TEST(PostgresConnection, TimestampsAreReadInAnySessionTimeZone) {
  using namespace std::chrono;
  test::TestDatabase db(Engine::postgres);
  auto c = db.connect();
  c->execute("SET TimeZone = 'Asia/Kolkata'");
  Timestamp t = sys_days{2025y / 4 / 10} + 12h + 30min;
  auto text = c->query("SELECT $1::timestamptz", {t}).rows.at(0).get<std::string>(0);
  EXPECT_EQ(text, "2025-04-10 18:00:00+05:30");
  EXPECT_EQ(Value(text).as<Timestamp>(), t);
}

}  // namespace
}  // namespace strata
