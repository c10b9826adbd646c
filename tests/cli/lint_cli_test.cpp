// strata lint, up --lint and the DDL lock guard through the real binary, on
// SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {

using test::RunResult;

class LintCli : public test::MigrationsTest {
 protected:
  void SetUp() override {
    test::MigrationsTest::SetUp();
    add("1_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n");
    add("2_drop.sql", "-- a comment first\nSELECT 1;\n  DROP TABLE users;\n");
  }
  std::string engine_name() const { return to_string(engine()); }
  RunResult run(std::vector<std::string> args) { return test::run_strata(dir(), args); }
};

TEST_P(LintCli, JsonIsValidWithRuleFileLineColumn) {
  RunResult r = run({"lint", "--engine", engine_name(), "--since", "1", "--json"});
  EXPECT_EQ(r.code, 15) << r.out << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);  // throws (fails the test) unless valid JSON
  ASSERT_TRUE(j["findings"].is_array());
  bool found = false;
  for (const auto& f : j["findings"]) {
    for (const char* key : {"rule", "severity", "file", "line", "column", "message", "hint"}) {
      EXPECT_TRUE(f.contains(key)) << key << " missing in " << f.dump();
    }
    if (f["rule"] != "drop-table") continue;
    found = true;
    EXPECT_EQ(f["severity"], "error");
    EXPECT_NE(f["file"].get<std::string>().find("2_drop.sql"), std::string::npos);
    EXPECT_EQ(f["line"], 3);
    EXPECT_EQ(f["column"], 3);
  }
  EXPECT_TRUE(found) << r.out;
}

TEST_P(LintCli, WithoutSinceOrDatabaseEveryMigrationIsPending) {
  // users is created by a pending migration, so dropping it is no finding.
  RunResult r = run({"lint", "--engine", engine_name(), "--json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["findings"].size(), 0u) << r.out;
}

TEST_P(LintCli, TheDatabaseHistorySaysWhatIsApplied) {
  ASSERT_EQ(run({"up", "-d", db().url(), "--target", "1"}).code, 0);
  RunResult r = run({"lint", "-d", db().url()});
  EXPECT_EQ(r.code, 15) << r.out << r.err;
  EXPECT_NE(r.out.find("2_drop.sql:3:3: error[drop-table]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hint: "), std::string::npos) << r.out;
}

TEST_P(LintCli, ASuppressedStatementDoesNotFire) {
  add("2_drop.sql", "-- strata: lint-ignore drop-table,missing-lock-timeout moved to another service\nDROP TABLE users;\n");
  RunResult r = run({"lint", "--engine", engine_name(), "--since", "1", "--json"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["findings"].size(), 0u) << r.out;
  // And up accepts the directive.
  EXPECT_EQ(run({"up", "-d", db().url()}).code, 0);
}

TEST_P(LintCli, NamedFilesAreTheOnlyOnesReported) {
  add("2_drop.sql", "CREATE TABLE t (a INTEGER);\nDROP TABLE IF EXISTS nothing_here;\n");
  test::write_file(dir() / "elsewhere.sql", "DROP TABLE users;\n");
  RunResult r = run({"lint", "--engine", engine_name(), "--since", "1", "--json", "elsewhere.sql"});
  EXPECT_EQ(r.code, 15) << r.out << r.err;
  auto findings = nlohmann::json::parse(r.out)["findings"];
  ASSERT_FALSE(findings.empty());
  bool dropped = false;
  for (const auto& f : findings) {
    EXPECT_EQ(f["file"], "elsewhere.sql");
    dropped = dropped || f["rule"] == "drop-table";
  }
  EXPECT_TRUE(dropped) << r.out;
}

TEST_P(LintCli, NeedsAnEngine) {
  RunResult r = run({"lint"});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--engine"), std::string::npos) << r.err;
}

TEST_P(LintCli, UpWarnsByDefaultAndRefusesWithLintError) {
  ASSERT_EQ(run({"up", "-d", db().url(), "--target", "1"}).code, 0);
  RunResult refused = run({"up", "-d", db().url(), "--lint", "error"});
  EXPECT_EQ(refused.code, 15) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("drop-table"), std::string::npos) << refused.err;
  auto c = db().connect();
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1}));
  EXPECT_TRUE(test::table_exists(*c, "users"));

  test::write_file(dir() / "strata.toml", "[migrations]\nlint = \"off\"\n");
  RunResult quiet = run({"up", "-d", db().url(), "--dry-run"});
  EXPECT_EQ(quiet.code, 0);

  RunResult warned = run({"up", "-d", db().url()});
  EXPECT_EQ(warned.code, 0) << warned.out << warned.err;  // config says off: nothing printed
  EXPECT_EQ(warned.err.find("lint:"), std::string::npos) << warned.err;
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
}

TEST_P(LintCli, UpPrintsLintWarningsToStderrAndApplies) {
  ASSERT_EQ(run({"up", "-d", db().url(), "--target", "1"}).code, 0);
  RunResult r = run({"up", "-d", db().url()});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("lint: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("drop-table"), std::string::npos) << r.err;
  auto c = db().connect();
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
}

TEST_P(LintCli, LockGuardGivesUpWithExit21NamingTheBlockingPid) {
  add("2_drop.sql", "ALTER TABLE users ADD COLUMN note TEXT;\n");
  ASSERT_EQ(run({"up", "-d", db().url(), "--target", "1"}).code, 0);
  if (engine() == Engine::sqlite) {  // accepted, and they do nothing
    RunResult r = run({"up", "-d", db().url(), "--ddl-lock-timeout", "0.1", "--ddl-retries", "1"});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    return;
  }
  auto holder = db().connect();
  holder->execute("BEGIN");
  holder->execute("LOCK TABLE users IN ACCESS SHARE MODE");
  const auto pid = holder->fetch_value<std::int64_t>("SELECT pg_backend_pid()");
  RunResult r = run({"up", "-d", db().url(), "--ddl-lock-timeout", "0.1", "--ddl-retries", "2"});
  holder->execute("COMMIT");
  EXPECT_EQ(r.code, 21) << r.out << r.err;
  EXPECT_NE(r.err.find("pid " + std::to_string(pid)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retry 2 of 2"), std::string::npos) << r.err;
  auto c = db().connect();
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1}));
}

STRATA_INSTANTIATE_ENGINES(LintCli);

}  // namespace
}  // namespace strata
