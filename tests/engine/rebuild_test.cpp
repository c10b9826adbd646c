// schema::rebuild_table on a live database: SQLite rebuilds the table (rows,
// indexes, triggers, the view over it and the foreign key into it survive;
// a foreign key violation rolls everything back); PostgreSQL is refused.
// Also the foreign_keys_off flag of a code migration step.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/schema/rebuild.hpp"
#include "strata/transaction.hpp"
#include "strata/upgrade_table.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using schema::Table;
using test::error_from;

class RebuildTest : public test::MigrationsTest {
 protected:
  // items: 3 indexes, 2 triggers, a view, an incoming FK from orders, and an
  // unenforced category_id (categories holds ids 0..9 only).
  void create(Connection& c, std::int64_t rows) {
    c.execute_script(
        "CREATE TABLE categories (id INTEGER PRIMARY KEY);\n"
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9)\n"
        "  INSERT INTO categories (id) SELECT i FROM n;\n"
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INT, note TEXT,\n"
        "                    category_id INTEGER);\n"
        "CREATE INDEX items_name ON items (name);\n"
        "CREATE INDEX items_qty ON items (qty DESC);\n"
        "CREATE UNIQUE INDEX items_name_qty ON items (name, qty);\n"
        "CREATE TABLE log (item_id INTEGER, what TEXT);\n"
        "CREATE TRIGGER items_ins AFTER INSERT ON items BEGIN INSERT INTO log VALUES (new.id, 'ins'); END;\n"
        "CREATE TRIGGER items_upd AFTER UPDATE OF name ON items BEGIN INSERT INTO log VALUES (new.id, 'upd'); END;\n"
        "CREATE VIEW item_names AS SELECT id, name FROM items;\n"
        "CREATE TABLE orders (id INTEGER PRIMARY KEY,\n"
        "                     item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE);\n");
    c.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)\n"
        "  INSERT INTO items (id, name, qty, note, category_id)\n"
        "  SELECT i, 'item-' || i, i % 1000, 'n' || (i % 7), i % 13 FROM n",
        {Value(rows)});
    c.execute("INSERT INTO orders (id, item_id) SELECT id, id FROM items WHERE id % 100 = 1");
    c.execute("DELETE FROM log");
  }
  // Every row of items and orders, folded into one line per table (the
  // columns every step keeps).
  std::vector<std::string> snapshot(Connection& c) {
    std::vector<std::string> out;
    for (const char* sql :
         {"SELECT count(*), sum(id), sum(qty), sum(category_id), sum(length(name)), "
          "sum(id * 7919 + qty * 31 + length(name) + typeof(qty) = 'integer') FROM items",
          "SELECT count(*), sum(id * 31 + item_id) FROM orders",
          "SELECT count(*), sum(id) FROM item_names"}) {
      std::string line;
      const Row r = c.fetch(sql).at(0);
      for (std::size_t i = 0; i < r.size(); ++i) line += r[i].to_string() + " ";
      out.push_back(line);
    }
    return out;
  }
  // The inspected schema with items replaced by `desired`.
  static schema::Schema with(schema::Schema s, const Table& desired) {
    for (Table& t : s.tables) {
      if (t.name == desired.name) t = desired;
    }
    return s;
  }
  void edit_and_check(Connection& c, const std::function<void(Table&)>& edit, bool rebuilds = true) {
    const schema::Schema before = schema::inspect(c);
    const auto rows = snapshot(c);
    const auto secure_delete = c.fetch_value<std::int64_t>("PRAGMA secure_delete");
    Table desired = *before.find_table("items");
    edit(desired);
    const schema::Diff d = schema::rebuild_table(c, "items", edit);
    ASSERT_FALSE(d.empty());
    EXPECT_EQ(rebuilds, std::any_of(d.changes.begin(), d.changes.end(),
                            [](const schema::Change& ch) { return ch.kind == schema::ChangeKind::rebuild_table; }))
        << d.sql();
    const schema::Schema after = schema::inspect(c);
    EXPECT_EQ(after, with(before, desired)) << d.sql();
    EXPECT_EQ(snapshot(c), rows);
    EXPECT_EQ(c.fetch_value<std::int64_t>("PRAGMA foreign_keys"), 1);
    EXPECT_EQ(c.fetch_value<std::int64_t>("PRAGMA secure_delete"), secure_delete);  // FAST only during the rebuild
    EXPECT_TRUE(c.fetch("PRAGMA foreign_key_check").empty());
  }
  static void drop_note(Table& t) {
    std::erase_if(t.columns, [](const schema::Column& col) { return col.name == "note"; });
  }
  static void retype_qty(Table& t) {
    for (schema::Column& col : t.columns) {
      if (col.name == "qty") col.type.raw = "BIGINT";
    }
  }
  static void add_check(Table& t) { t.checks.push_back({"", "qty >= 0", false, std::nullopt}); }

  void run_all_steps(Connection& c, bool all_at_once) {
    if (all_at_once) {
      edit_and_check(c, [](Table& t) { drop_note(t); retype_qty(t); add_check(t); });
    } else {
      edit_and_check(c, drop_note, false);  // ALTER TABLE DROP COLUMN can
      edit_and_check(c, retype_qty);
      edit_and_check(c, add_check);
    }
    // The triggers still fire, the CHECK holds.
    c.execute("UPDATE items SET name = 'renamed' WHERE id = 2");
    EXPECT_EQ(c.fetch_value<std::int64_t>("SELECT count(*) FROM log WHERE item_id = 2 AND what = 'upd'"), 1);
    EXPECT_EQ(error_from([&] { c.execute("UPDATE items SET qty = -1 WHERE id = 2"); }).kind(), ErrorKind::sql);
  }
};

TEST_P(RebuildTest, SmallTableKeepsRowsIndexesTriggersViewAndForeignKey) {
  auto c = db().connect();
  if (engine() == Engine::postgres) {
    c->execute("CREATE TABLE items (id integer PRIMARY KEY, note text)");
    const Error e = error_from([&] { schema::rebuild_table(*c, "items", drop_note); });
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("SQLite only"), std::string::npos) << e.what();
    EXPECT_TRUE(schema::inspect(*c).find_table("items")->find_column("note") != nullptr);
    return;
  }
  create(*c, 200);
  run_all_steps(*c, false);
}

TEST_P(RebuildTest, MillionRowTable) {
  auto c = db().connect();
  if (engine() == Engine::postgres) {  // refused before it reads anything
    EXPECT_EQ(error_from([&] { schema::rebuild_table(*c, "items", drop_note); }).kind(), ErrorKind::usage);
    return;
  }
  create(*c, 1'000'000);
  run_all_steps(*c, true);  // one rebuild: drop, retype and CHECK together (timed in bench/rebuild)
}

TEST_P(RebuildTest, ForeignKeyViolationNamesTheRowsAndChangesNothing) {
  auto c = db().connect();
  if (engine() == Engine::postgres) {
    c->execute("CREATE TABLE items (id integer PRIMARY KEY)");
    auto tx = std::make_unique<Transaction>(*c);
    EXPECT_EQ(error_from([&] { schema::rebuild_table(*c, "items", [](Table&) {}); }).kind(), ErrorKind::usage);
    return;
  }
  create(*c, 100);
  const schema::Schema before = schema::inspect(*c);
  const auto rows = snapshot(*c);
  // category_id 10, 11, 12 have no category row.
  const Error e = error_from([&] {
    schema::rebuild_table(*c, "items", [](Table& t) {
      t.foreign_keys.push_back({"", {"category_id"}, "categories", {"id"}});
    });
  });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  const std::string m = e.what();
  EXPECT_NE(m.find("foreign key check failed after rebuilding table items"), std::string::npos) << m;
  EXPECT_NE(m.find("table items rowid 10 references a missing row of categories"), std::string::npos) << m;
  EXPECT_EQ(schema::inspect(*c), before);
  EXPECT_EQ(snapshot(*c), rows);
  EXPECT_EQ(c->fetch_value<std::int64_t>("PRAGMA foreign_keys"), 1);
}

TEST_P(RebuildTest, RefusesInsideAnOpenTransaction) {
  auto c = db().connect();
  c->execute("CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT)");
  Transaction tx(*c);
  const Error e = error_from([&] { schema::rebuild_table(*c, "items", drop_note); });
  EXPECT_EQ(e.kind(), ErrorKind::usage);
  if (engine() == Engine::sqlite) {
    EXPECT_NE(std::string(e.what()).find("inside an open transaction"), std::string::npos) << e.what();
  }
}

// A code step flagged foreign_keys_off rebuilds a referenced table by hand:
// with foreign keys on, DROP TABLE parent would cascade into child.
TEST_P(RebuildTest, CodeStepWithForeignKeysOff) {
  add("0001_tables.sql",
      "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\n"
      "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\n"
      "INSERT INTO parent (id, name) VALUES (1, 'p');\n"
      "INSERT INTO child (id, parent_id) VALUES (1, 1);\n");
  CodeStepOptions options;
  options.foreign_keys_off = true;
  auto steps = [&](bool with_orphan) {
    UpgradeTable t("rebuild_steps");
    t.add(2, "rebuild parent", [](Connection& c, Engine e) {
        if (e != Engine::sqlite) return;
        c.execute("CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '')");
        c.execute("INSERT INTO parent_new SELECT id, name FROM parent");
        c.execute("DROP TABLE parent");
        c.execute("ALTER TABLE parent_new RENAME TO parent");
      }, options);
    if (with_orphan) {
      t.add(3, "orphan", [](Connection& c, Engine e) {
          if (e != Engine::sqlite) return;
          c.execute("INSERT INTO child (id, parent_id) VALUES (2, 99)");
        }, options);
    }
    return merge(load(), t);
  };
  auto c = db().connect();
  Migrator(*c, steps(false)).up();
  EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM child"), 1);
  if (engine() == Engine::sqlite) {
    EXPECT_EQ(c->fetch_value<std::int64_t>("PRAGMA foreign_keys"), 1);
    // A violation fails the step and rolls it back.
    const Error e = error_from([&] { Migrator(*c, steps(true)).up(); });
    EXPECT_NE(std::string(e.what()).find("table child rowid 2 references a missing row of parent"),
              std::string::npos) << e.what();
    EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM child"), 1);
    EXPECT_EQ(c->fetch_value<std::int64_t>("PRAGMA foreign_keys"), 1);
  }
}

STRATA_INSTANTIATE_ENGINES(RebuildTest);

}  // namespace
}  // namespace strata
