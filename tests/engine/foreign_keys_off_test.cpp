// The "-- strata: foreign-keys off" directive on both engines: on SQLite the
// migrator turns foreign keys off around the migration's transaction and
// checks them before its commit; on PostgreSQL it is accepted and does
// nothing.
#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using test::error_from;
using test::table_exists;

class ForeignKeysOffTest : public test::MigrationsTest {
 protected:
  void add_parent_and_child(const char* on_delete) {
    add("0001_tables.sql",
        std::string("CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n"
                    "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id)") +
            on_delete +
            ");\n"
            "INSERT INTO parent (id, name) VALUES (1, 'p');\n"
            "INSERT INTO child (id, parent_id) VALUES (1, 1);\n");
  }
  std::int64_t count(Connection& c, const std::string& table) {
    return c.fetch_value<std::int64_t>("SELECT count(*) FROM " + Connection::quote_identifier(table));
  }
  void expect_foreign_keys_on(Connection& c) {
    if (engine() == Engine::sqlite) EXPECT_EQ(c.fetch_value<std::int64_t>("PRAGMA foreign_keys"), 1);
  }
};

// SQLite's table rebuild: dropping the referenced table with foreign keys on
// would run ON DELETE CASCADE and empty the child table.
TEST_P(ForeignKeysOffTest, RebuildKeepsTheRowsThatReferenceTheTable) {
  add_parent_and_child(" ON DELETE CASCADE");
  const std::string body =
      engine() == Engine::sqlite
          ? "CREATE TABLE new_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\n"
            "INSERT INTO new_parent (id, name) SELECT id, COALESCE(name, '') FROM parent;\n"
            "DROP TABLE parent;\n"
            "ALTER TABLE new_parent RENAME TO parent;\n"
          : "ALTER TABLE parent ALTER COLUMN name SET NOT NULL;\n";
  add("0002_rebuild.sql", "-- strata: foreign-keys off\n" + body);
  add("0003_after.sql", "CREATE TABLE after_it (id INTEGER);\n");
  auto c = db().connect();
  UpOptions options;
  options.group = true;  // the directive's migration runs apart from the group
  EXPECT_EQ(Migrator(*c, load()).up(options).applied.size(), 3u);
  EXPECT_EQ(count(*c, "child"), 1);
  EXPECT_EQ(count(*c, "parent"), 1);
  EXPECT_TRUE(table_exists(*c, "after_it"));
  expect_foreign_keys_on(*c);
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2, 3}));
}

TEST_P(ForeignKeysOffTest, AViolationFailsTheMigrationAndCommitsNothing) {
  add_parent_and_child("");
  add("0002_orphan.sql",
      "-- strata: foreign-keys off\n"
      "CREATE TABLE marker (id INTEGER);\n"
      "DELETE FROM parent;\n");
  auto c = db().connect();
  const Error e = error_from([&] { Migrator(*c, load()).up(); });
  if (engine() == Engine::sqlite) {
    // Foreign keys were off: the DELETE ran, the check before the commit failed.
    EXPECT_EQ(e.kind(), ErrorKind::sql);
    EXPECT_NE(std::string(e.what()).find("table child rowid 1 references a missing row of parent"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("nothing was committed"), std::string::npos) << e.what();
  } else {
    EXPECT_EQ(e.engine_code(), "23503") << e.what();  // PostgreSQL enforced the key as always
  }
  EXPECT_EQ(count(*c, "parent"), 1);
  EXPECT_FALSE(table_exists(*c, "marker"));
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1}));
  expect_foreign_keys_on(*c);
  // Foreign keys are on again for what follows.
  if (engine() == Engine::sqlite) {
    EXPECT_THROW(c->execute("INSERT INTO child (id, parent_id) VALUES (2, 99)"), Error);
  }
}

TEST_P(ForeignKeysOffTest, ScriptShowsThePragmas) {
  add_parent_and_child("");
  add("0002_x.sql", "-- strata: foreign-keys off\nCREATE TABLE x (id INTEGER);\n");
  auto c = db().connect();
  const std::string script = Migrator(*c, load()).script({});
  const bool shown = script.find("PRAGMA foreign_keys = OFF;\n") != std::string::npos &&
                     script.find("PRAGMA foreign_key_check;") != std::string::npos &&
                     script.find("PRAGMA foreign_keys = ON;\n") != std::string::npos;
  EXPECT_EQ(shown, engine() == Engine::sqlite) << script;
}

STRATA_INSTANTIATE_ENGINES(ForeignKeysOffTest);

}  // namespace
}  // namespace strata
