// Repeatable migrations and callbacks through the binary, on both engines: a
// repeatable view re-runs after its file changes and not otherwise; callback
// files run in order around the run and each migration (a log table records
// them); a no-op up runs no callback.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
using test::RunResult;

class RepeatableCli : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url()});
    return test::run_strata(dir(), args);
  }
  std::vector<std::string> log() {
    std::vector<std::string> out;
    for (const auto& r : db().connect()->query("SELECT what FROM log ORDER BY seq").rows) out.push_back(r.get<std::string>(0));
    return out;
  }
};

TEST_P(RepeatableCli, ViewReRunsOnlyWhenChanged) {
  add("0001_items.sql", "CREATE TABLE items (id INTEGER, price INTEGER);\n");
  add("R_item_view.sql", "DROP VIEW IF EXISTS cheap;\nCREATE VIEW cheap AS SELECT id FROM items WHERE price < 10;\n");
  RunResult first = run({"up"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("Ran repeatable item_view"), std::string::npos) << first.out;
  RunResult again = run({"up", "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(nlohmann::json::parse(again.out)["applied"].empty()) << again.out;
  auto status = nlohmann::json::parse(run({"status", "--json"}).out);
  EXPECT_EQ(status["repeatables"][0]["state"], "applied");

  add("R_item_view.sql", "DROP VIEW IF EXISTS cheap;\nCREATE VIEW cheap AS SELECT id FROM items WHERE price < 20;\n");
  status = nlohmann::json::parse(run({"status", "--json"}).out);
  EXPECT_EQ(status["repeatables"][0]["state"], "changed");
  RunResult changed = run({"up", "--json"});
  ASSERT_EQ(changed.code, 0) << changed.err;
  auto applied = nlohmann::json::parse(changed.out)["applied"];
  ASSERT_EQ(applied.size(), 1u) << changed.out;
  EXPECT_EQ(applied[0]["repeatable"], true);
  auto c = db().connect();
  c->execute("INSERT INTO items (id, price) VALUES (1, 15)");
  EXPECT_EQ(c->query("SELECT count(*) FROM cheap").rows.at(0).get<std::int64_t>(0), 1);
  // The versioned history holds only the versioned migration.
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1}));
}

TEST_P(RepeatableCli, CallbacksRunInOrder) {
  {
    auto c = db().connect();
    c->execute(engine() == Engine::sqlite ? "CREATE TABLE log (seq INTEGER PRIMARY KEY, what TEXT NOT NULL)"
                                          : "CREATE TABLE log (seq BIGSERIAL PRIMARY KEY, what TEXT NOT NULL)");
  }
  add("before_migrate.sql", "INSERT INTO log (what) VALUES ('before_migrate');\n");
  add("before_each.sql", "INSERT INTO log (what) VALUES ('before_each');\n");
  add("after_each.sql", "INSERT INTO log (what) VALUES ('after_each');\n");
  add("after_migrate.sql", "INSERT INTO log (what) VALUES ('after_migrate');\n");
  add("0001_a.sql", "INSERT INTO log (what) VALUES ('1');\n");
  add("0002_b.sql", "INSERT INTO log (what) VALUES ('2');\n");
  add("R_r.sql", "INSERT INTO log (what) VALUES ('R');\n");
  RunResult r = run({"up"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(log(), (std::vector<std::string>{"before_migrate", "before_each", "1", "after_each", "before_each", "2",
                                             "after_each", "before_each", "R", "after_each", "after_migrate"}));
  ASSERT_EQ(run({"up"}).code, 0);
  EXPECT_EQ(log().size(), 11u) << "a no-op up ran a callback";
  // A failing callback fails the migration it wraps, naming the file.
  add("after_each.sql", "INSERT INTO nowhere (what) VALUES ('x');\n");
  add("0003_c.sql", "INSERT INTO log (what) VALUES ('3');\n");
  RunResult failed = run({"up"});
  EXPECT_EQ(failed.code, 6) << failed.err;
  EXPECT_NE(failed.err.find("after_each.sql"), std::string::npos) << failed.err;
  auto c = db().connect();
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2})) << "migration 3 rolled back with its callback";
}

TEST_P(RepeatableCli, UndoCallbacksRunAroundDown) {
  {
    auto c = db().connect();
    c->execute(engine() == Engine::sqlite ? "CREATE TABLE log (seq INTEGER PRIMARY KEY, what TEXT NOT NULL)"
                                          : "CREATE TABLE log (seq BIGSERIAL PRIMARY KEY, what TEXT NOT NULL)");
  }
  add("before_undo.sql", "INSERT INTO log (what) VALUES ('before_undo');\n");
  add("before_each_undo.sql", "INSERT INTO log (what) VALUES ('before_each_undo');\n");
  add("after_each_undo.sql", "INSERT INTO log (what) VALUES ('after_each_undo');\n");
  add("after_undo.sql", "INSERT INTO log (what) VALUES ('after_undo');\n");
  add("0001_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
  add("0001_a.down.sql", "DROP TABLE a;\nINSERT INTO log (what) VALUES ('-1');\n");
  add("0002_b.up.sql", "CREATE TABLE b (id INTEGER);\n");
  add("0002_b.down.sql", "DROP TABLE b;\nINSERT INTO log (what) VALUES ('-2');\n");
  ASSERT_EQ(run({"up"}).code, 0);
  EXPECT_TRUE(log().empty()) << "an up ran an undo callback";
  RunResult down = run({"down", "--target", "base"});
  ASSERT_EQ(down.code, 0) << down.err;
  EXPECT_EQ(log(), (std::vector<std::string>{"before_undo", "before_each_undo", "-2", "after_each_undo",
                                             "before_each_undo", "-1", "after_each_undo", "after_undo"}));
  // Nothing to revert: no callback.
  ASSERT_EQ(run({"down", "--target", "base"}).code, 0);
  EXPECT_EQ(log().size(), 8u);
  // A failing undo callback fails the revert it wraps, which rolls back.
  ASSERT_EQ(run({"up"}).code, 0);
  add("after_each_undo.sql", "INSERT INTO nowhere (what) VALUES ('x');\n");
  RunResult failed = run({"down"});
  EXPECT_EQ(failed.code, 6) << failed.err;
  EXPECT_NE(failed.err.find("after_each_undo.sql"), std::string::npos) << failed.err;
  auto c = db().connect();
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
  EXPECT_TRUE(test::table_exists(*c, "b"));
}

TEST_P(RepeatableCli, OfflineScriptExpandsCallbackFiles) {
  add("before_migrate.sql", "SELECT 'before_migrate';\n");
  add("before_each.sql", "SELECT 'before_each';\n");
  add("after_each.sql", "SELECT 'after_each';\n");
  add("after_migrate.sql", "SELECT 'after_migrate';\n");
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  RunResult sql = run({"up", "--sql"});
  ASSERT_EQ(sql.code, 0) << sql.err;
  const std::string& o = sql.out;
  const auto bm = o.find("SELECT 'before_migrate'"), be = o.find("SELECT 'before_each'"),
             a = o.find("CREATE TABLE a"), ae = o.find("SELECT 'after_each'"), am = o.find("SELECT 'after_migrate'");
  ASSERT_NE(am, std::string::npos) << o;
  EXPECT_TRUE(bm < be && be < a && a < ae && ae < am) << o;
  EXPECT_EQ(o.find("not shown"), std::string::npos) << o;
  // The script runs as printed, in the engine's own client.
  EXPECT_FALSE(test::table_exists(*db().connect(), "a"));
}

STRATA_INSTANTIATE_ENGINES(RepeatableCli);

}  // namespace
}  // namespace strata
