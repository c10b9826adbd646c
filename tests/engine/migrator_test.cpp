// The migrator on both engines: one test body each, run on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/source.hpp"
#include "strata/transaction.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::error_from;
using test::table_exists;
using test::write_file;

class MigratorTest : public test::MigrationsTest {
 protected:
  std::int64_t count(Connection& c, const std::string& table) {
    return c.query("SELECT count(*) FROM " + Connection::quote_identifier(table)).rows.at(0).get<std::int64_t>(0);
  }
  // Runs up and returns the error it throws (fails the test if none).
  Error up_error(Connection& c, const MigrationSet& set, MigratorOptions options = {}) {
    try {
      Migrator(c, set, options).up();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected up() to fail";
    return Error(ErrorKind::internal, "no error");
  }
};

TEST_P(MigratorTest, AppliesInOrderAndRecordsHistory) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));");
  add("10_c.sql", "INSERT INTO a (id) VALUES (1); INSERT INTO b (id, a_id) VALUES (1, 1);");
  auto c = db().connect();
  auto set = load();
  std::vector<Version> seen;
  UpOptions options;
  options.on_applied = [&](const AppliedStep& s) { seen.push_back(s.version); };
  auto result = Migrator(*c, set).up(options);
  EXPECT_EQ(result.applied.size(), 3u);
  EXPECT_EQ(seen, (std::vector<Version>{1, 2, 10}));
  EXPECT_EQ(count(*c, "b"), 1);

  auto history = History(*c, {}).read();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[2].version, 10);
  EXPECT_EQ(history[2].description, "c");
  EXPECT_EQ(history[2].checksum, set.find(10)->checksum);
  EXPECT_TRUE(history[2].success);
  EXPECT_FALSE(history[2].applied_at.empty());

  for (const auto& st : Migrator(*c, set).status().migrations) {
    EXPECT_EQ(st.state, MigrationState::applied) << st.version;
  }
}

TEST_P(MigratorTest, SecondRunChangesNothing) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER); INSERT INTO a VALUES (1);");
  auto c = db().connect();
  auto set = load();
  EXPECT_EQ(Migrator(*c, set).up().applied.size(), 1u);
  EXPECT_TRUE(Migrator(*c, set).up().applied.empty());
  EXPECT_EQ(count(*c, "a"), 1);
}

TEST_P(MigratorTest, NewMigrationsApplyOnTopOfOld) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  auto c = db().connect();
  Migrator(*c, load()).up();
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);");
  auto set = load();
  auto status = Migrator(*c, set).status();
  ASSERT_EQ(status.migrations.size(), 2u);
  EXPECT_EQ(status.migrations[1].state, MigrationState::pending);
  EXPECT_EQ(Migrator(*c, set).up().applied.size(), 1u);
  EXPECT_TRUE(table_exists(*c, "b"));
}

TEST_P(MigratorTest, TrickyFilesApplyOnTheirEngine) {
  auto c = db().connect();
  auto set = load_directory(fs::path(STRATA_TEST_DATA_DIR) / "migrations" / "tricky", engine());
  Migrator(*c, set).up();
  EXPECT_EQ(count(*c, "users"), 3);
  EXPECT_EQ(c->query("SELECT name FROM users WHERE id = 1").rows.at(0).get<std::string>(0), "O'Brien; Jr.");
  EXPECT_EQ(c->query("SELECT name FROM users WHERE id = 2").rows.at(0).get<std::string>(0), "zoë ünïcödé");
  // The trigger (SQLite) or trigger function (PostgreSQL) ran for user 3.
  auto audit = c->query("SELECT what FROM audit ORDER BY what").rows;
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].get<std::string>(0), "second; statement");
  EXPECT_EQ(audit[1].get<std::string>(0), "semi;colon");
  EXPECT_EQ(count(*c, "odd;name"), 3);
  EXPECT_EQ(c->query("SELECT n FROM user_total").rows.at(0).get<std::int64_t>(0), 3);
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2, 3, 4}));
}

TEST_P(MigratorTest, FailureNamesFileAndLineAndKeepsEarlierMigrations) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES (1);\n");
  add("0002_b.sql",
      "CREATE TABLE b (id INTEGER);\n"
      "INSERT INTO b VALUES (1);\n"
      "INSERT INTO b VALUS (2);\n");
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\n");
  auto c = db().connect();
  Error e = up_error(*c, load());
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_FALSE(e.engine_code().empty());
  EXPECT_EQ(e.position().line, 3);
  EXPECT_EQ(e.position().statement, 3);
  EXPECT_NE(e.position().file.find("0002_b.sql"), std::string::npos);
  std::string what = e.what();
  EXPECT_NE(what.find("0002_b.sql:3:"), std::string::npos) << what;
  EXPECT_NE(what.find("VALUS"), std::string::npos) << what;

  // Exactly as after migration 1: b rolled back, nothing recorded for 2, 3 not run.
  EXPECT_EQ(recorded(*c), std::vector<Version>{1});
  EXPECT_TRUE(table_exists(*c, "a"));
  EXPECT_FALSE(table_exists(*c, "b"));
  EXPECT_FALSE(table_exists(*c, "c"));
  EXPECT_EQ(count(*c, "a"), 1);
}

TEST_P(MigratorTest, ErrorColumnPointsIntoTheStatement) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n  SELECT * FROM\n    nope;\n");
  auto c = db().connect();
  Error e = up_error(*c, load());
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.position().statement, 2);
  // Both engines report the unknown table; PostgreSQL gives its position.
  if (engine() == Engine::postgres) {
    EXPECT_EQ(e.position().line, 3) << e.what();
    EXPECT_EQ(e.position().column, 5) << e.what();
  } else {
    EXPECT_GE(e.position().line, 2) << e.what();
  }
}

TEST_P(MigratorTest, UnsplittableFileIsASourceErrorBeforeAnythingRuns) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES ('unterminated);\n");
  auto c = db().connect();
  Error e = up_error(*c, load());
  EXPECT_EQ(e.kind(), ErrorKind::source);
  EXPECT_EQ(e.position().line, 2) << e.what();
  EXPECT_FALSE(table_exists(*c, "a"));
  EXPECT_TRUE(recorded(*c).empty());
}

TEST_P(MigratorTest, ChangedAppliedFileIsRefused) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  auto c = db().connect();
  Migrator(*c, load()).up();
  add("0001_a.sql", "CREATE TABLE a (id INTEGER, extra TEXT);\n");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
  Error e = up_error(*c, load());
  EXPECT_EQ(e.kind(), ErrorKind::validation);
  EXPECT_NE(std::string(e.what()).find("0001_a.sql"), std::string::npos);
  EXPECT_FALSE(table_exists(*c, "b"));
  EXPECT_EQ(Migrator(*c, load()).status().migrations[0].state, MigrationState::changed);
}

TEST_P(MigratorTest, CrlfCheckoutOfAnAppliedFileIsNotChanged) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES (1);\n");
  auto c = db().connect();
  Migrator(*c, load()).up();
  add("0001_a.sql", "\xEF\xBB\xBF" "CREATE TABLE a (id INTEGER);\r\nINSERT INTO a VALUES (1);\r\n");
  EXPECT_EQ(Migrator(*c, load()).status().migrations[0].state, MigrationState::applied);
  EXPECT_TRUE(Migrator(*c, load()).up().applied.empty());
}

TEST_P(MigratorTest, NoTransactionFailureLeavesDirtyRecord) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  add("0002_b.sql", "-- strata: no-transaction\nCREATE TABLE b (id INTEGER);\nSELEC 1;\n");
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\n");
  auto c = db().connect();
  Error e = up_error(*c, load());
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_TRUE(table_exists(*c, "b"));  // ran outside a transaction: its effect stays
  auto history = History(*c, {}).read();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_FALSE(history[1].success);
  EXPECT_NE(history[1].failure.find("0002_b.sql:3"), std::string::npos) << history[1].failure;

  Error again = up_error(*c, load());
  EXPECT_EQ(again.kind(), ErrorKind::dirty);
  EXPECT_NE(std::string(again.what()).find("repair"), std::string::npos);
  EXPECT_FALSE(table_exists(*c, "c"));
}

TEST_P(MigratorTest, NoTransactionSuccessIsRecordedApplied) {
  add("0001_a.sql", "-- no-transaction\nCREATE TABLE a (id INTEGER);\nCREATE INDEX a_id ON a (id);\n");
  auto c = db().connect();
  Migrator(*c, load()).up();
  auto history = History(*c, {}).read();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(history[0].success);
}

TEST_P(MigratorTest, TargetStopsThere) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);");
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);");
  auto c = db().connect();
  UpOptions options;
  options.target = 2;
  EXPECT_EQ(Migrator(*c, load()).up(options).applied.size(), 2u);
  EXPECT_FALSE(table_exists(*c, "c"));
}

TEST_P(MigratorTest, CodeMigrationsMixWithSqlAndSeeTheEngine) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER, engine TEXT);");
  add("0003_c.sql", "INSERT INTO a VALUES (3, 'sql');");
  auto files = load();
  std::vector<Migration> all = files.all();
  Migration code;
  code.version = 2;
  code.description = "insert from code";
  code.kind = MigrationKind::code;
  code.checksum = "code:2";
  code.up = [](Connection& c, Engine e) { c.execute("INSERT INTO a VALUES ($1, $2)", {2, to_string(e)}); };
  all.push_back(code);
  all[1].parents = {2};  // 0003 follows the code migration
  all.back().parents = {1};
  MigrationSet set(std::move(all));
  auto c = db().connect();
  Migrator(*c, set).up();
  auto rows = c->query("SELECT id, engine FROM a ORDER BY id").rows;
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get<std::string>(1), to_string(engine()));
  EXPECT_EQ(rows[1].get<std::int64_t>(0), 3);
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2, 3}));
}

TEST_P(MigratorTest, CustomHistoryTableAndHostileNames) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  auto c = db().connect();
  MigratorOptions options;
  options.history.table = "app_schema_history";
  Migrator(*c, load(), options).up();
  EXPECT_TRUE(table_exists(*c, "app_schema_history"));
  EXPECT_FALSE(table_exists(*c, "strata_migrations"));

  options.history.table = "x\"; DROP TABLE a; --";
  try {
    Migrator(*c, load(), options).up();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
  }
  EXPECT_TRUE(table_exists(*c, "a"));
}

// An absent history table (or, on PostgreSQL, an absent schema) reads as
// empty and not existing, whether read outside a transaction (PostgreSQL
// then reads without asking the catalog) or inside one, which the read
// must leave usable; status() and a no-op check agree.
TEST_P(MigratorTest, AbsentHistoryReadsAsEmptyInAndOutOfATransaction) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  auto c = db().connect();
  HistoryOptions in_missing_schema;
  in_missing_schema.table = "no_such_history";
  if (c->engine() == Engine::postgres) in_missing_schema.schema = "no_such_schema";
  for (const HistoryOptions& options : {HistoryOptions{}, in_missing_schema}) {
    History outside(*c, options);
    EXPECT_TRUE(outside.read().empty());
    EXPECT_FALSE(outside.exists());
    Transaction tx(*c);
    History inside(*c, options);
    EXPECT_TRUE(inside.read().empty());
    EXPECT_EQ(c->query("SELECT 1").rows.size(), 1u);  // the transaction is not aborted
    tx.commit();
  }
  const auto status = Migrator(*c, load()).status();
  EXPECT_FALSE(status.history_exists);
  ASSERT_EQ(status.migrations.size(), 1u);
  EXPECT_EQ(status.migrations[0].state, MigrationState::pending);
  EXPECT_FALSE(Migrator(*c, load()).validate().status.history_exists);
  EXPECT_EQ(Migrator(*c, load()).up().applied.size(), 1u);
  History after(*c, {});
  EXPECT_EQ(after.read().size(), 1u);
  EXPECT_TRUE(Migrator(*c, load()).status().history_exists);
}

// --group: the pending migrations commit together, so a failure rolls back
// the whole run (and says which migrations went with it).
TEST_P(MigratorTest, GroupAppliesAllOrNothing) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES (1);\n");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\nINSERT INTO c VALUES (1);\nINSERT INTO c VALUS (2);\n");
  auto c = db().connect();
  UpOptions grouped;
  grouped.group = true;
  std::vector<Version> seen;
  grouped.on_applied = [&](const AppliedStep& s) { seen.push_back(s.version); };
  try {
    Migrator(*c, load()).up(grouped);
    FAIL() << "expected the group to fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::sql);
    EXPECT_EQ(e.position().line, 3);
    std::string what = e.what();
    EXPECT_NE(what.find("0003_c.sql:3:"), std::string::npos) << what;
    EXPECT_NE(what.find("the 2 migrations applied before it in the same transaction (1 a, 2 b) were rolled back"),
              std::string::npos)
        << what;
  }
  EXPECT_TRUE(seen.empty());
  EXPECT_TRUE(recorded(*c).empty());
  EXPECT_FALSE(table_exists(*c, "a"));
  EXPECT_FALSE(table_exists(*c, "b"));
  EXPECT_FALSE(table_exists(*c, "c"));

  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\nINSERT INTO c VALUES (1);\nINSERT INTO c VALUES (2);\n");
  auto result = Migrator(*c, load()).up(grouped);
  EXPECT_EQ(result.applied.size(), 3u);
  EXPECT_EQ(seen, (std::vector<Version>{1, 2, 3}));
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2, 3}));
  EXPECT_EQ(count(*c, "c"), 2);
  EXPECT_TRUE(Migrator(*c, load()).up(grouped).applied.empty());
}

// A no-transaction migration cannot join a group: it commits the group before
// it, runs alone, and a later group that fails leaves both standing.
TEST_P(MigratorTest, GroupIsSplitByANoTransactionMigration) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
  // On PostgreSQL CONCURRENTLY proves the migration really runs outside the group's transaction.
  add("0003_idx.sql", std::string("-- strata: no-transaction\nCREATE INDEX ") +
                          (engine() == Engine::postgres ? "CONCURRENTLY " : "") + "a_id ON a (id);\n");
  add("0004_d.sql", "CREATE TABLE d (id INTEGER);\n");
  add("0005_e.sql", "CREATE TABLE e (id INTEGER);\nSELECT no_such_function();\n");
  auto c = db().connect();
  UpOptions grouped;
  grouped.group = true;
  auto set = load();
  std::string script = Migrator(*c, set).script(grouped);
  const std::string begin = engine() == Engine::sqlite ? "BEGIN IMMEDIATE;" : "BEGIN;";
  auto occurrences = [&](const std::string& needle) {
    std::size_t n = 0;
    for (auto at = script.find(needle); at != std::string::npos; at = script.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(occurrences(begin), 2u) << script;  // 1-2, then 4-5
  EXPECT_EQ(occurrences("COMMIT;"), 2u) << script;
  EXPECT_LT(script.find("COMMIT;"), script.find("no-transaction")) << script;

  try {
    Migrator(*c, set).up(grouped);
    FAIL() << "expected migration 5 to fail";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("0005_e.sql"), std::string::npos) << what;
    EXPECT_NE(what.find("(4 d) was rolled back"), std::string::npos) << what;
  }
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2, 3}));
  EXPECT_TRUE(table_exists(*c, "b"));
  EXPECT_FALSE(table_exists(*c, "d"));
  EXPECT_FALSE(table_exists(*c, "e"));
}

STRATA_INSTANTIATE_ENGINES(MigratorTest);

}  // namespace
}  // namespace strata
