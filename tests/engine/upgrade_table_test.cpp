// Upgrade tables: C++ and SQL steps beside files, on both engines, run
// through a pooled connection as an application would.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/plan.hpp"
#include "strata/pool.hpp"
#include "strata/source.hpp"
#include "strata/upgrade_table.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using test::error_from;

namespace fs = std::filesystem;

class UpgradeTableTest : public test::MigrationsTest {
 protected:

  // v1, v3 files; v2 a code step that branches on the engine; v4 a
  // non-transactional code step; v5 an SQL step.
  UpgradeTable table() {
    UpgradeTable t("notes_upgrades");
    t.add(2, "fill_from_code", [](Connection& c, Engine e) {
      // Each engine has its own way of saying it; the step picks one.
      c.execute(e == Engine::postgres ? "INSERT INTO notes (id, body) VALUES (2, 'pg:' || version())"
                                      : "INSERT INTO notes (id, body) VALUES (2, 'sqlite:' || sqlite_version())");
    });
    t.add(
        4, "index_outside_transaction",
        [](Connection& c, Engine e) {
          in_transaction_seen = c.in_transaction();
          c.execute(e == Engine::postgres ? "CREATE INDEX CONCURRENTLY notes_body ON notes (body)"
                                          : "CREATE INDEX notes_body ON notes (body)");
        },
        {.transactional = false, .down = [](Connection& c, Engine) { c.execute("DROP INDEX notes_body"); }});
    t.add_sql(5, "sql_step", "ALTER TABLE notes ADD COLUMN title TEXT;\nUPDATE notes SET title = 'untitled';",
              {.down_sql = "ALTER TABLE notes DROP COLUMN title;"});
    return t;
  }
  static inline bool in_transaction_seen = true;
};

TEST_P(UpgradeTableTest, CodeAndSqlStepsMigrateBesideFilesThroughAPool) {
  add("0001_create.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);");
  add("0003_more.sql", "INSERT INTO notes (id, body) VALUES (3, 'file');");
  UpgradeTable t = table();
  MigrationSet set = merge(load(), t);
  ASSERT_EQ(set.all().size(), 5u);
  for (std::size_t i = 1; i < set.all().size(); ++i) {
    EXPECT_EQ(set.all()[i].parents, (std::vector<Version>{set.all()[i - 1].version}));
  }

  Pool pool(db().url(), {.max_connections = 2});
  auto lease = pool.acquire();
  Migrator migrator(*lease, set);
  auto result = migrator.up();
  ASSERT_EQ(result.applied.size(), 5u);
  EXPECT_EQ(result.applied[1].description, "fill_from_code");
  EXPECT_FALSE(in_transaction_seen) << "a non-transactional step ran inside a transaction";

  auto body = lease.fetch_value<std::string>("SELECT body FROM notes WHERE id = 2");
  EXPECT_EQ(body.substr(0, body.find(':')), engine() == Engine::postgres ? "pg" : "sqlite");
  EXPECT_EQ(lease.fetch_value<std::string>("SELECT title FROM notes WHERE id = 3"), "untitled");

  // History and status list them like files.
  auto status = migrator.status();
  ASSERT_EQ(status.migrations.size(), 5u);
  for (const auto& s : status.migrations) EXPECT_EQ(s.state, MigrationState::applied) << s.version;
  EXPECT_EQ(status.migrations[1].description, "fill_from_code");
  EXPECT_EQ(status.migrations[1].applied->checksum, code_checksum(2, "fill_from_code", ""));
  EXPECT_EQ(status.migrations[4].applied->checksum,
            checksum("ALTER TABLE notes ADD COLUMN title TEXT;\nUPDATE notes SET title = 'untitled';"));
  EXPECT_TRUE(migrator.validate().ok());
  EXPECT_TRUE(Migrator(*lease, set).up().applied.empty());

  // Both kinds revert: the SQL step's down script, then the code step's function.
  auto down = migrator.down({.steps = 2});
  ASSERT_EQ(down.reverted.size(), 2u);
  EXPECT_EQ(down.reverted[0].version, 5);
  EXPECT_EQ(down.reverted[1].version, 4);
  EXPECT_EQ(migrator.up().applied.size(), 2u);
}

TEST_P(UpgradeTableTest, ChecksumCoversDescriptionAndRevisionOnly) {
  add("0001_create.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);");
  auto c = db().connect();
  {
    UpgradeTable t;
    t.add(2, "fill", [](Connection& c, Engine) { c.execute("INSERT INTO notes VALUES (2, 'a')"); });
    MigrationSet set = merge(load(), t);
    Migrator(*c, set).up();
  }
  {
    // A new function body with the same identity: still applied.
    UpgradeTable t;
    t.add(2, "fill", [](Connection& c, Engine) { c.execute("INSERT INTO notes VALUES (2, 'b')"); });
    MigrationSet set = merge(load(), t);
    EXPECT_TRUE(Migrator(*c, set).validate().ok());
  }
  {
    // A new revision: reported as changed, naming the code migration.
    UpgradeTable t;
    t.add(2, "fill", [](Connection&, Engine) {}, {.revision = "2"});
    MigrationSet set = merge(load(), t);
    auto report = Migrator(*c, set).validate();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.kind, ErrorKind::validation);
    EXPECT_EQ(report.status.migrations[1].state, MigrationState::changed);
  }
  EXPECT_EQ(code_checksum(2, "fill", ""), checksum("code:2\nfill\n"));
  EXPECT_NE(code_checksum(2, "fill", ""), code_checksum(2, "fill", "2"));
  EXPECT_NE(code_checksum(2, "fill", ""), code_checksum(3, "fill", ""));
}

TEST_P(UpgradeTableTest, FailuresNameTheStep) {
  auto c = db().connect();
  UpgradeTable t("plugin_x");
  t.add_sql(1, "create", "CREATE TABLE t (id INTEGER);");
  t.add(2, "throws", [](Connection&, Engine) { throw std::runtime_error("backfill failed"); });
  Error e = error_from([&] { Migrator(*c, t.migrations()).up(); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_NE(std::string(e.what()).find("code migration 2 threw: backfill failed"), std::string::npos) << e.what();
  EXPECT_EQ(c->fetch_value<int>("SELECT COUNT(*) FROM t"), 0);  // v1 stayed applied

  UpgradeTable bad("plugin_y");
  bad.add_sql(1, "broken", "CREATE TABLE ok (id INTEGER);\nCREATE TABLEX nope (id INTEGER);");
  Error sql = error_from([&] { Migrator(*c, bad.migrations(), {.history = {.table = "y_history"}}).up(); });
  EXPECT_EQ(sql.kind(), ErrorKind::sql);
  EXPECT_EQ(sql.position().file, "plugin_y#1");
  EXPECT_EQ(sql.position().line, 2);
}

TEST_P(UpgradeTableTest, DuplicatesAndBadStepsAreRefused) {
  add("0001_create.sql", "CREATE TABLE notes (id INTEGER);");
  add("0002_more.sql", "SELECT 1;");
  UpgradeTable t("dup");
  t.add_sql(2, "clash", "SELECT 2;");
  t.add(1, "clash_too", [](Connection&, Engine) {});
  Error e = error_from([&] { merge(load(), t); });
  EXPECT_EQ(e.kind(), ErrorKind::source);
  std::string what = e.what();
  EXPECT_NE(what.find("2 problems"), std::string::npos) << what;
  EXPECT_NE(what.find("version 1 is claimed twice: " + (migrations() / "0001_create.sql").string() +
                      " and code migration 1 (clash_too)"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("0002_more.sql and dup#2"), std::string::npos) << what;

  EXPECT_EQ(error_from([&] { t.add_sql(2, "again", "SELECT 1;"); }).kind(), ErrorKind::source);
  EXPECT_EQ(error_from([&] { t.add(0, "zero", [](Connection&, Engine) {}); }).kind(), ErrorKind::usage);
  EXPECT_EQ(error_from([&] { t.add(7, "", [](Connection&, Engine) {}); }).kind(), ErrorKind::usage);
  EXPECT_EQ(error_from([&] { t.add(7, "no_function", MigrationFunction{}); }).kind(), ErrorKind::usage);
}

STRATA_INSTANTIATE_ENGINES(UpgradeTableTest);

}  // namespace
}  // namespace strata
