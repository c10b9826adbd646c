// Careless and hostile input through the real binary, on both engines: a
// misspelt strata.toml key, command or option; a broken pending file (NUL
// byte, bad directive, unterminated quote, BEGIN/COMMIT in a transactional
// file) found before anything is applied; a statement that cannot run in a
// transaction; a symlink out of the migration directory; .env. Each case
// checks the exit code, the message and that nothing was lost.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::RunResult;
using test::write_file;

class HardeningCli : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.push_back("-d");
    args.push_back(db().url());
    return test::run_strata(dir(), args);
  }
  // Versions recorded in the default history table (none when it is absent).
  std::vector<Version> history() {
    auto c = db().connect();
    if (!test::table_exists(*c, "strata_migrations")) return {};
    return recorded(*c);
  }
  bool has_table(const std::string& name) {
    auto c = db().connect();
    return test::table_exists(*c, name);
  }
  static bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
  // 0001 is fine; 0002 is broken in the way the test says: nothing may apply.
  void expect_nothing_applied_for(const std::string& broken, const std::string& message, int code = 4) {
    add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    add("0002_b.sql", broken);
    RunResult r = run({"up"});
    EXPECT_EQ(r.code, code) << r.out << r.err;
    EXPECT_TRUE(contains(r.err, message)) << r.err;
    EXPECT_TRUE(contains(r.err, "0002_b.sql")) << r.err;
    EXPECT_TRUE(history().empty());
    EXPECT_FALSE(has_table("a")) << "migration 1 ran before the broken file was found";
  }
};

TEST_P(HardeningCli, AMisspeltConfigKeyIsAnErrorNamingFileLineAndTheClosestKey) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  write_file(dir() / "strata.toml", "[migrations]\nhistroy_table = \"x\"\n");
  RunResult r = run({"up"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(contains(r.err, "strata.toml:2:1: unknown key migrations.histroy_table (did you mean history_table?)"))
      << r.err;
  EXPECT_FALSE(has_table("a"));

  write_file(dir() / "strata.toml", "[migration]\nsource = \"m\"\n");
  r = run({"status"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(contains(r.err, "unknown key migration")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean migrations?")) << r.err;

  write_file(dir() / "strata.toml", "[databases.main]\nurl = \"sqlite:x.db\"\nlogicl = [\"main\"]\n");
  r = run({"status"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_TRUE(contains(r.err, "strata.toml:3:1: unknown key databases.main.logicl (did you mean logical?)")) << r.err;
}

TEST_P(HardeningCli, AMisspeltCommandOrOptionNamesItselfAndTheClosestOne) {
  RunResult r = run({"upp"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown command 'upp' (did you mean up?)")) << r.err;
  r = run({"up", "--dryrun"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown option --dryrun for strata up (did you mean --dry-run?)")) << r.err;
  r = run({"bg", "stauts"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown command 'stauts' for strata bg (did you mean status?)")) << r.err;
  r = test::run_strata(dir(), {"--json", "stauts"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(nlohmann::json::parse(r.out)["error"]["kind"], "usage") << r.out;
}

TEST_P(HardeningCli, ANulByteIsASourceErrorFoundBeforeAnythingRuns) {
  expect_nothing_applied_for(std::string("CREATE TABLE b (id INTEGER);\nSELECT 1\0;\n", 39),
                             "0002_b.sql:2:9: a NUL byte");
}

TEST_P(HardeningCli, AMalformedDirectiveIsFoundBeforeAnythingRuns) {
  expect_nothing_applied_for("-- transaction: bogus\nCREATE TABLE b (id INTEGER);\n", "invalid value 'bogus'");
}

TEST_P(HardeningCli, AnUnterminatedQuoteIsFoundBeforeAnythingRuns) {
  expect_nothing_applied_for("CREATE TABLE b (id INTEGER);\nSELECT 'abc;\n", "unterminated string literal");
}

TEST_P(HardeningCli, BeginOrCommitInATransactionalFileIsRefusedWithTheNoTransactionHint) {
  expect_nothing_applied_for("BEGIN;\nCREATE TABLE b (id INTEGER);\nCOMMIT;\n", "0002_b.sql:1:1: BEGIN");
  RunResult r = run({"up"});
  EXPECT_TRUE(contains(r.err, "hint: remove it")) << r.err;
  EXPECT_TRUE(contains(r.err, "-- strata: no-transaction")) << r.err;
  // The same file marked no-transaction runs as written.
  add("0002_b.sql", "-- strata: no-transaction\nBEGIN;\nCREATE TABLE b (id INTEGER);\nCOMMIT;\n");
  r = run({"up"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(history(), (std::vector<Version>{1, 2}));
}

TEST_P(HardeningCli, AStatementThatCannotRunInATransactionSuggestsNoTransaction) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  add("0002_b.sql", engine() == Engine::sqlite ? "VACUUM;\n" : "CREATE INDEX CONCURRENTLY a_id ON a (id);\n");
  RunResult r = run({"up", "--lint", "off"});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_TRUE(contains(r.err, "0002_b.sql:1:1")) << r.err;
  EXPECT_TRUE(contains(r.err, "hint: this statement cannot run inside a transaction")) << r.err;
  EXPECT_EQ(history(), std::vector<Version>{1});  // 0001 committed on its own; 0002 rolled back
}

TEST_P(HardeningCli, ASymlinkOutOfTheDirectoryIsRefusedOneInsideIsFollowed) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  write_file(dir() / "outside.sql", "DROP TABLE a;\n");
  fs::create_symlink(dir() / "outside.sql", migrations() / "0002_b.sql");
  RunResult r = run({"up", "--dry-run"});
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "0002_b.sql: a symlink to")) << r.err;
  EXPECT_TRUE(contains(r.err, "outside the migration directory")) << r.err;
  fs::remove(migrations() / "0002_b.sql");
  write_file(migrations() / "shared" / "b.sql", "CREATE TABLE b (id INTEGER);\n");
  fs::create_symlink("shared/b.sql", migrations() / "0002_b.sql");
  r = run({"up"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has_table("b"));
}

TEST_P(HardeningCli, DotEnvSuppliesDatabaseUrl) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  write_file(dir() / ".env", "# from the project\nexport DATABASE_URL=\"" + db().url() + "\"\n");
  RunResult r = test::run_strata(dir(), {"up"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(history(), std::vector<Version>{1});
}

STRATA_INSTANTIATE_ENGINES(HardeningCli);

}  // namespace
}  // namespace strata
