// --history-format mautrix on both engines: mautrix-go's upgrade directory
// as the source (headers, shortcut files, split dialect files, transaction
// modes) and its one-row `version (version, compat)` table as the history,
// read and written as go.mau.fi/util/dbutil does, so the bridge keeps
// accepting a database strata upgraded.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
using test::RunResult;

class MautrixLayout : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url(), "--history-format", "mautrix"});
    return test::run_strata(dir(), args);
  }
  // The tree of a bridge at v3: a latest-schema shortcut from v0, upgrades
  // from v1 (no file ends at v1: an older shortcut's target).
  void tree() {
    add("00-latest.sql",
        "-- v0 -> v3 (compatible with v2+): Latest revision\n"
        "CREATE TABLE a (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, note TEXT);\n");
    add("02-add-b.sql",
        "-- v2: Add b\n"
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n");
    add("03-add-c.sql",
        "-- v3 (compatible with v2+): Add c\n"
        "CREATE TABLE c (id INTEGER PRIMARY KEY);\n"
        "-- only: postgres\n"
        "ALTER TABLE c ADD COLUMN note TEXT;\n"
        "-- only: sqlite (line commented)\n"
        "-- ALTER TABLE c ADD COLUMN note TEXT;\n");
  }
  // The row of mautrix's table: {version, compat}.
  std::pair<std::int64_t, std::int64_t> version_row() {
    auto c = db().connect();
    auto rows = c->query("SELECT version, compat FROM version").rows;
    EXPECT_EQ(rows.size(), 1u);
    if (rows.size() != 1) return {-1, -1};
    return {rows[0].get<std::int64_t>(0), rows[0].get<std::int64_t>(1)};
  }
  // A database as the bridge left it at `version` (tables a..).
  void bridge_at(int version, int compat) {
    auto c = db().connect();
    c->execute("CREATE TABLE version (version INTEGER, compat INTEGER)");
    c->execute("INSERT INTO version (version, compat) VALUES (" + std::to_string(version) + ", " +
               std::to_string(compat) + ")");
    c->execute("CREATE TABLE a (id INTEGER PRIMARY KEY)");
  }
};

TEST_P(MautrixLayout, FreshDatabaseTakesTheLatestSchemaInOneStep) {
  tree();
  RunResult dry = run({"up", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("00-latest.sql"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("02-add-b.sql"), std::string::npos) << dry.out;

  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err << up.out;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{3}, std::int64_t{2}));
  {
    auto c = db().connect();
    for (const char* t : {"a", "b", "c"}) EXPECT_TRUE(test::table_exists(*c, t)) << t;
  }
  RunResult status = run({"status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  const auto j = nlohmann::json::parse(status.out);  // kept alive for the loop
  for (const auto& m : j["migrations"]) EXPECT_EQ(m["state"], "applied") << status.out;
  RunResult again = run({"up"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("up to date"), std::string::npos) << again.out;
  EXPECT_EQ(run({"validate"}).code, 0);
}

TEST_P(MautrixLayout, OlderDatabaseTakesEachUpgradeAndTheRowMovesWithIt) {
  tree();
  bridge_at(1, 1);
  RunResult status = run({"status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err << up.out;
  EXPECT_EQ(up.out.find("Latest revision"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("Applied 2 Add b"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("Applied 3 Add c"), std::string::npos) << up.out;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{3}, std::int64_t{2}));
  auto c = db().connect();
  EXPECT_NO_THROW(c->query("SELECT id, a_id FROM b"));
  EXPECT_NO_THROW(c->query("SELECT id, note FROM c"));  // the uncommented line ran on SQLite
}

TEST_P(MautrixLayout, TargetStopsBetweenUpgradesButNotInsideAShortcut) {
  tree();
  RunResult inside = run({"up", "--target", "2"});
  EXPECT_EQ(inside.code, 2) << inside.out << inside.err;
  EXPECT_NE(inside.err.find("00-latest.sql"), std::string::npos) << inside.err;
  EXPECT_FALSE(test::table_exists(*db().connect(), "a"));

  bridge_at(1, 1);
  RunResult to2 = run({"up", "--target", "2"});
  ASSERT_EQ(to2.code, 0) << to2.err;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{2}, std::int64_t{2}));
}

TEST_P(MautrixLayout, SplitDialectFilesAndTransactionModes) {
  tree();
  add("04-rebuild.postgres.sql",
      "-- v4: Rebuild c\n"
      "-- transaction: off\n"
      "BEGIN;\n"
      "ALTER TABLE c ADD COLUMN pg_only TEXT;\n"
      "COMMIT;\n");
  add("04-rebuild.sqlite.sql",
      "-- v4: Rebuild c\n"
      "-- transaction: off\n"
      "BEGIN;\n"
      "ALTER TABLE c ADD COLUMN lite_only TEXT;\n"
      "COMMIT;\n");
  add("05-keys-off.sql",
      "-- v5: Rebuild b with foreign keys off\n"
      "-- transaction: sqlite-fkey-off\n"
      "CREATE TABLE b_new (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));\n"
      "INSERT INTO b_new SELECT id, a_id FROM b;\n"
      "DROP TABLE b;\n"
      "ALTER TABLE b_new RENAME TO b;\n");
  bridge_at(3, 2);
  {
    auto c = db().connect();
    c->execute("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id))");
    c->execute("CREATE TABLE c (id INTEGER PRIMARY KEY, note TEXT)");
    c->execute("INSERT INTO a (id) VALUES (1)");
    c->execute("INSERT INTO b (id, a_id) VALUES (10, 1)");
  }
  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err << up.out;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{5}, std::int64_t{5}));
  auto c = db().connect();
  const bool lite = engine() == Engine::sqlite;
  EXPECT_NO_THROW(c->query(lite ? "SELECT lite_only FROM c" : "SELECT pg_only FROM c"));
  EXPECT_ANY_THROW(c->query(lite ? "SELECT pg_only FROM c" : "SELECT lite_only FROM c"));
  EXPECT_EQ(c->query("SELECT a_id FROM b WHERE id = 10").rows.at(0).get<std::int64_t>(0), 1);
}

TEST_P(MautrixLayout, BrokenTreesAreSourceErrorsNamingTheFile) {
  tree();
  add("04-half.postgres.sql", "-- v4: Half\nSELECT 1;\n");
  add("05-noheader.sql", "CREATE TABLE x (id INTEGER);\n");
  add("06-twice.sql", "-- v3: Again from v2\nSELECT 1;\n");
  add("07-short.sql", "-- v7: No second line");
  RunResult up = run({"up"});
  EXPECT_EQ(up.code, 4) << up.out << up.err;
  EXPECT_NE(up.err.find("04-half.postgres.sql: a split upgrade needs both dialects"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("05-noheader.sql:1: line 1 must be the header"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("both upgrade from v2"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("07-short.sql:1: too short"), std::string::npos) << up.err;
  EXPECT_FALSE(test::table_exists(*db().connect(), "version"));
}

TEST_P(MautrixLayout, SplitHeadersMustMatch) {
  tree();
  add("04-x.postgres.sql", "-- v4: One thing\nSELECT 1;\n");
  add("04-x.sqlite.sql", "-- v4 (compatible with v3+): Another\nSELECT 1;\n");
  RunResult up = run({"up"});
  EXPECT_EQ(up.code, 4) << up.out << up.err;
  EXPECT_NE(up.err.find("the two dialects' headers differ"), std::string::npos) << up.err;
}

TEST_P(MautrixLayout, NewerDatabaseIsRefusedUnlessItsFloorAllowsThisCode) {
  tree();
  bridge_at(9, 9);
  RunResult refused = run({"up"});
  EXPECT_NE(refused.code, 0) << refused.out;
  EXPECT_NE((refused.out + refused.err).find("9"), std::string::npos) << refused.err;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{9}, std::int64_t{9}));

  auto c = db().connect();
  c->execute("UPDATE version SET compat = 3");
  RunResult compatible = run({"up"});
  EXPECT_EQ(compatible.code, 0) << compatible.err;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{9}, std::int64_t{3}));
}

TEST_P(MautrixLayout, PreCompatTableIsRead) {
  tree();
  {
    auto c = db().connect();
    c->execute("CREATE TABLE version (version INTEGER)");  // mautrix-go before 2022
    c->execute("INSERT INTO version (version) VALUES (2)");
    c->execute("CREATE TABLE a (id INTEGER PRIMARY KEY)");
    c->execute("CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id))");
  }
  RunResult status = run({"status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  int pending = 0;
  for (const auto& m : j["migrations"]) pending += m["state"] == "pending";
  EXPECT_EQ(pending, 1) << status.out;
  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{3}, std::int64_t{2}));  // compat column added
}

TEST_P(MautrixLayout, DownIsRefusedBeforeAnythingRuns) {
  tree();
  ASSERT_EQ(run({"up"}).code, 0);
  RunResult down = run({"down"});
  EXPECT_EQ(down.code, 2) << down.out << down.err;
  EXPECT_NE(down.err.find("cannot record a revert"), std::string::npos) << down.err;
  EXPECT_EQ(version_row(), std::make_pair(std::int64_t{3}, std::int64_t{2}));
}

TEST_P(MautrixLayout, OfflineScriptWritesTheVersionRow) {
  tree();
  RunResult sql = run({"up", "--sql"});
  ASSERT_EQ(sql.code, 0) << sql.err;
  EXPECT_NE(sql.out.find("INSERT INTO"), std::string::npos) << sql.out;
  EXPECT_NE(sql.out.find("(version, compat) VALUES (3, 2)"), std::string::npos) << sql.out;
}

STRATA_INSTANTIATE_ENGINES(MautrixLayout);

}  // namespace
}  // namespace strata
