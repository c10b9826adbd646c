// The revision graph through the binary, on SQLite and PostgreSQL: branches
// made with `strata new --head`, `up` refusing several heads (exit 22),
// `strata merge`, heads/branches/current/history/stamp, every target form,
// `up --sql A:B`, graph = "explicit", and version 0 as an ordinary version.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "strata/history.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::RunResult;

class GraphCli : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url()});
    return test::run_strata(dir(), args);
  }
  // Runs a command that needs no database.
  RunResult local(const std::vector<std::string>& args) { return test::run_strata(dir(), args); }
  nlohmann::json json(std::vector<std::string> args, bool with_db = true) {
    args.push_back("--json");
    RunResult r = with_db ? run(args) : local(args);
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  std::vector<Version> recorded_versions() {
    auto c = db().connect();
    return recorded(*c);
  }
  // Writes file `name` with `directives` and a statement creating table `t`.
  void node(const std::string& name, const std::string& directives, const std::string& t) {
    add(name, directives + "CREATE TABLE " + t + " (id INTEGER);\n");
    add(name.substr(0, name.size() - 7) + ".down.sql", "DROP TABLE " + t + ";\n");  // name ends .up.sql
  }
};

// The check the issue names: two branches from one head with `strata new`,
// up refused naming both heads, merge, up, history shows the merge.
TEST_P(GraphCli, TwoBranchesAreRefusedThenMerged) {
  ASSERT_EQ(local({"new", "init"}).code, 0);
  add("0001_init.sql", "CREATE TABLE init (id INTEGER);\n");
  ASSERT_EQ(run({"up"}).code, 0);
  RunResult a = local({"new", "feature_a", "-r", "--head", "head", "--branch-label", "fa"});
  ASSERT_EQ(a.code, 0) << a.err;
  RunResult b = local({"new", "feature_b", "-r", "--head", "1"});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(test::read_file(migrations() / "0002_feature_a.up.sql").rfind("-- strata: parents 1\n-- strata: branch fa\n", 0), 0u);
  EXPECT_EQ(test::read_file(migrations() / "0003_feature_b.up.sql").rfind("-- strata: parents 1\n", 0), 0u);
  node("0002_feature_a.up.sql", "-- strata: parents 1\n-- strata: branch fa\n", "fa");
  node("0003_feature_b.up.sql", "-- strata: parents 1\n", "fb");

  auto heads = json({"heads"}, false);
  ASSERT_EQ(heads["heads"].size(), 2u) << heads.dump();
  EXPECT_EQ(heads["heads"][0]["version"], 2);
  EXPECT_EQ(heads["heads"][0]["branch"], "fa");
  EXPECT_EQ(heads["heads"][1]["version"], 3);

  RunResult refused = run({"up"});
  EXPECT_EQ(refused.code, 22) << refused.err;
  EXPECT_NE(refused.err.find("2 (feature_a) and 3 (feature_b)"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("strata merge"), std::string::npos) << refused.err;
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1}));

  auto branches = json({"branches"}, false);
  ASSERT_EQ(branches["branch_points"].size(), 1u);
  EXPECT_EQ(branches["branch_points"][0]["children"], nlohmann::json({2, 3}));

  RunResult merged = local({"merge", "-m", "join a and b"});
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_TRUE(fs::exists(migrations() / "0004_join_a_and_b.up.sql"));
  EXPECT_NE(test::read_file(migrations() / "0004_join_a_and_b.up.sql").find("-- strata: parents 2 3\n"),
            std::string::npos);
  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err;
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1, 2, 3, 4}));

  RunResult history = local({"history"});
  ASSERT_EQ(history.code, 0) << history.err;
  EXPECT_NE(history.out.find("2, 3 -> 4 (head) (mergepoint), join_a_and_b"), std::string::npos) << history.out;
  EXPECT_NE(history.out.find("<base> -> 1 (branchpoint), init"), std::string::npos) << history.out;
  auto current = json({"current"});
  ASSERT_EQ(current["current"].size(), 1u);
  EXPECT_EQ(current["current"][0]["version"], 4);
  EXPECT_TRUE(current["at_heads"]);

  // down through the merge: the empty merge reverts, then a branch.
  // fa@head is the merge now (it descends from fa): name the version.
  RunResult down = run({"down", "--target", "2"});
  ASSERT_EQ(down.code, 0) << down.err;
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1, 2}));
}

TEST_P(GraphCli, EveryTargetForm) {
  node("20250101000000_a.up.sql", "", "a");
  node("20250102000000_b.up.sql", "", "b");
  node("20250201000000_c.up.sql", "", "c");
  node("20250301000000_d.up.sql", "-- strata: parents 20250102000000\n-- strata: branch side\n", "d");
  node("20250302000000_e.up.sql", "", "e");  // after d: parent d by default

  // A unique prefix, and an ambiguous one refused with the candidates.
  RunResult ambiguous = run({"up", "--target", "202501"});
  EXPECT_EQ(ambiguous.code, 2);
  EXPECT_NE(ambiguous.err.find("ambiguous"), std::string::npos) << ambiguous.err;
  EXPECT_NE(ambiguous.err.find("20250101000000 (a)"), std::string::npos) << ambiguous.err;
  EXPECT_TRUE(recorded_versions().empty());
  ASSERT_EQ(run({"up", "--target", "2025010"}).code, 2);  // still two
  ASSERT_EQ(run({"up", "--target", "20250101"}).code, 0);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{20250101000000}));

  // +N: the next N.
  ASSERT_EQ(run({"up", "--target", "+1"}).code, 0);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{20250101000000, 20250102000000}));
  // head is ambiguous here: c and e are heads.
  RunResult head = run({"up", "--target", "head"});
  EXPECT_EQ(head.code, 22) << head.err;
  // LABEL@head.
  ASSERT_EQ(run({"up", "--target", "side@head"}).code, 0);
  EXPECT_EQ(recorded_versions(),
            (std::vector<Version>{20250101000000, 20250102000000, 20250301000000, 20250302000000}));
  // heads.
  ASSERT_EQ(run({"up", "--target", "heads"}).code, 0);
  EXPECT_EQ(recorded_versions().size(), 5u);
  // -N (down), written --target=-N as options take it.
  ASSERT_EQ(run({"down", "--target=-1"}).code, 0);
  EXPECT_EQ(recorded_versions().size(), 4u);
  // A version down: what it does not need goes (the other branch too).
  RunResult down = run({"down", "--target", "20250102"});
  ASSERT_EQ(down.code, 0) << down.err;
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{20250101000000, 20250102000000}));
  // current (history -r needs the database for it) and base.
  auto range = json({"history", "-r", "current:heads"});
  EXPECT_EQ(range["migrations"].size(), 4u) << range.dump();
  ASSERT_EQ(run({"down", "--target", "base"}).code, 0);
  EXPECT_TRUE(recorded_versions().empty());
  // Unknown forms.
  EXPECT_EQ(run({"up", "--target", "nosuch@head"}).code, 2);
  EXPECT_EQ(run({"up", "--target", "-1"}).code, 2);
  EXPECT_EQ(run({"up", "--target", "99"}).code, 2);
}

TEST_P(GraphCli, StampWritesHistoryWithoutRunning) {
  node("0001_a.up.sql", "", "a");
  node("0002_b.up.sql", "", "b");
  node("0003_c.up.sql", "", "c");
  auto dry = json({"stamp", "2", "--dry-run"});
  EXPECT_EQ(dry["added"], nlohmann::json({1, 2}));
  EXPECT_TRUE(recorded_versions().empty());
  ASSERT_EQ(run({"stamp", "2"}).code, 0);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1, 2}));
  {
    auto c = db().connect();
    EXPECT_FALSE(test::table_exists(*c, "a")) << "stamp ran a migration";
  }
  // up runs only what was not stamped.
  ASSERT_EQ(run({"up"}).code, 0);
  {
    auto c = db().connect();
    EXPECT_FALSE(test::table_exists(*c, "b"));
    EXPECT_TRUE(test::table_exists(*c, "c"));
  }
  auto back = json({"stamp", "1"});
  EXPECT_EQ(back["removed"], nlohmann::json({2, 3}));
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1}));
  // A row the source does not know stays unless --purge.
  {
    auto c = db().connect();
    c->execute("INSERT INTO strata_migrations (version, description, checksum, execution_time_us, success) "
               "VALUES (77, 'gone', 'x', 0, " + std::string(engine() == Engine::sqlite ? "1" : "true") + ")");
  }
  ASSERT_EQ(run({"stamp", "base"}).code, 0);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{77}));
  ASSERT_EQ(run({"stamp", "base", "--purge"}).code, 0);
  EXPECT_TRUE(recorded_versions().empty());
}

TEST_P(GraphCli, SqlRangePrintsExactlyTheRange) {
  node("0001_a.up.sql", "", "a");
  node("0002_b.up.sql", "", "b");
  node("0003_c.up.sql", "", "c");
  node("0004_d.up.sql", "", "d");
  ASSERT_EQ(run({"up", "--target", "1"}).code, 0);
  RunResult r = run({"up", "--sql", "2:3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("CREATE TABLE a"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CREATE TABLE b"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CREATE TABLE c"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CREATE TABLE d"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CREATE TABLE IF NOT EXISTS"), std::string::npos) << "not from base: " << r.out;
  // base:2 starts with the bookkeeping tables; the database is not read.
  RunResult from_base = run({"up", "--sql", "base:2"});
  ASSERT_EQ(from_base.code, 0) << from_base.err;
  EXPECT_NE(from_base.out.find("CREATE TABLE a"), std::string::npos);
  EXPECT_NE(from_base.out.find("CREATE TABLE b"), std::string::npos);
  EXPECT_EQ(from_base.out.find("CREATE TABLE c"), std::string::npos);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1})) << "--sql wrote something";
}

TEST_P(GraphCli, ExplicitGraphWantsParentsEverywhere) {
  test::write_file(dir() / "strata.toml", "[migrations]\ngraph = \"explicit\"\n");
  RunResult first = local({"new", "first"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(test::read_file(migrations() / "0001_first.sql").rfind("-- strata: parents base\n", 0), 0u);
  ASSERT_EQ(local({"new", "second"}).code, 0);
  EXPECT_EQ(test::read_file(migrations() / "0002_second.sql").rfind("-- strata: parents 1\n", 0), 0u);
  ASSERT_EQ(run({"up"}).code, 0);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1, 2}));
  add("0003_orphan.sql", "SELECT 1;\n");
  RunResult r = run({"up"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("0003_orphan.sql: names no parents"), std::string::npos) << r.err;
  // A bad parent and a cycle are source errors too.
  add("0003_orphan.sql", "-- strata: parents 9\nSELECT 1;\n");
  EXPECT_NE(run({"up"}).err.find("names parent 9, which the source does not have"), std::string::npos);
  add("0003_orphan.sql", "-- strata: parents 4\nSELECT 1;\n");
  add("0004_loop.sql", "-- strata: parents 3\nSELECT 1;\n");
  RunResult cycle = run({"up"});
  EXPECT_EQ(cycle.code, 4);
  EXPECT_NE(cycle.err.find("cycle"), std::string::npos) << cycle.err;
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{1, 2}));
}

TEST_P(GraphCli, VersionZeroIsAnOrdinaryVersion) {
  node("0000_zero.up.sql", "", "zero");
  node("0001_one.up.sql", "", "one");
  ASSERT_EQ(run({"up"}).code, 0);
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{0, 1}));
  ASSERT_EQ(run({"down", "--target", "0"}).code, 0);  // keeps 0
  EXPECT_EQ(recorded_versions(), (std::vector<Version>{0}));
  ASSERT_EQ(run({"down", "--target", "base"}).code, 0);
  EXPECT_TRUE(recorded_versions().empty());
}

STRATA_INSTANTIATE_ENGINES(GraphCli);

}  // namespace
}  // namespace strata
