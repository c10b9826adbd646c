// The real strata binary, driven as a user would, on both engines.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::read_file;
using test::write_file;

using test::RunResult;

RunResult strata(const fs::path& cwd, const std::vector<std::string>& args) { return test::run_strata(cwd, args); }

class Cli : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url()});
    return strata(dir(), args);
  }
};

TEST_P(Cli, UpThenUpToDateThenStatusJson) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);");
  RunResult first = run({"up"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("Applied 1 a"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("Applied 2 b"), std::string::npos) << first.out;

  RunResult second = run({"up"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("up to date"), std::string::npos) << second.out;

  RunResult status = run({"status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  ASSERT_EQ(j["migrations"].size(), 2u);
  EXPECT_EQ(j["migrations"][0]["version"], 1);
  EXPECT_EQ(j["migrations"][0]["description"], "a");
  EXPECT_EQ(j["migrations"][0]["state"], "applied");
  EXPECT_EQ(j["migrations"][1]["state"], "applied");
}

// libpq (and the twenty libraries it pulls in) is loaded on the first
// PostgreSQL connection only: a SQLite run never pays its start-up. The
// dynamic loader's own trace (LD_DEBUG=files) says which libraries it opened.
TEST_P(Cli, LibpqIsLoadedForPostgresOnly) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  ::setenv("LD_DEBUG", "files", 1);
  RunResult r = run({"up"});
  ::unsetenv("LD_DEBUG");
  ASSERT_EQ(r.code, 0) << r.err;
  bool loaded = r.err.find("file=libpq.so") != std::string::npos;
  EXPECT_EQ(loaded, engine() == Engine::postgres) << r.err.substr(0, 4000);
}

// `up --group` (or group = true in strata.toml): all pending migrations or none.
TEST_P(Cli, GroupIsAllOrNothing) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\nINSERT INTO b VALUS (1);\n");
  RunResult failed = run({"up", "--group"});
  EXPECT_EQ(failed.code, 6) << failed.err;
  EXPECT_NE(failed.err.find("0002_b.sql:2:"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("(1 a) was rolled back"), std::string::npos) << failed.err;
  auto status = nlohmann::json::parse(run({"status", "--json"}).out);
  EXPECT_EQ(status["migrations"][0]["state"], "pending") << status.dump();

  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\nINSERT INTO b VALUES (1);\n");
  write_file(dir() / "strata.toml", "[migrations]\ngroup = true\n");
  RunResult preview = run({"up", "--sql"});
  ASSERT_EQ(preview.code, 0) << preview.err;
  EXPECT_EQ(preview.out.find("COMMIT;"), preview.out.rfind("COMMIT;")) << preview.out;
  RunResult ok = run({"up"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("Applied 2 migrations"), std::string::npos) << ok.out;
}

TEST_P(Cli, StatusShowsPendingBeforeUp) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  RunResult status = run({"status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(nlohmann::json::parse(status.out)["migrations"][0]["state"], "pending");
  RunResult text = run({"status"});
  EXPECT_NE(text.out.find("pending"), std::string::npos) << text.out;
}

TEST_P(Cli, SyntaxErrorOnLineThreeExitsSixNamingFileAndLine) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\nINSERT INTO b VALUES (1);\nINSRT INTO b VALUES (2);\n");
  RunResult r = run({"up"});
  EXPECT_EQ(r.code, 6) << r.out << r.err;
  EXPECT_NE(r.err.find("0002_b.sql:3"), std::string::npos) << r.err;
  RunResult status = run({"status", "--json"});
  auto j = nlohmann::json::parse(status.out);
  EXPECT_EQ(j["migrations"][0]["state"], "applied");
  EXPECT_EQ(j["migrations"][1]["state"], "pending");
}

TEST_P(Cli, JsonErrorsAreMachineReadable) {
  add("0001_a.sql", "SELEC 1;");
  RunResult r = run({"up", "--json"});
  EXPECT_EQ(r.code, 6);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["error"]["kind"], "sql");
  EXPECT_EQ(j["error"]["exit_code"], 6);
}

STRATA_INSTANTIATE_ENGINES(Cli);

// Commands that need no database.
class CliNoDatabase : public ::testing::Test {
 protected:
  void SetUp() override { db_ = std::make_unique<test::TestDatabase>(Engine::sqlite); }
  fs::path dir() { return db_->dir(); }
  std::unique_ptr<test::TestDatabase> db_;
};

TEST_F(CliNoDatabase, NewInfersSequentialNumbering) {
  for (const char* f : {"0001_a.sql", "0002_b.sql", "0003_c.sql"}) write_file(dir() / "migrations" / f, "");
  RunResult r = strata(dir(), {"new", "add_things"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir() / "migrations" / "0004_add_things.sql")) << r.out;
  EXPECT_NE(r.out.find("0004_add_things.sql"), std::string::npos);
}

TEST_F(CliNoDatabase, NewInfersTimestampsAndWritesReversiblePairs) {
  write_file(dir() / "migrations" / "20200101000000_a.sql", "");
  RunResult r = strata(dir(), {"new", "add more things", "--reversible"});
  ASSERT_EQ(r.code, 0) << r.err;
  int ups = 0, downs = 0;
  for (const auto& e : fs::directory_iterator(dir() / "migrations")) {
    std::string name = e.path().filename().string();
    if (name.size() == 14 + 1 + 15 + 7 && name.ends_with("_add_more_things.up.sql")) ++ups;
    if (name.ends_with("_add_more_things.down.sql")) ++downs;
  }
  EXPECT_EQ(ups, 1) << r.out;
  EXPECT_EQ(downs, 1) << r.out;
}

TEST_F(CliNoDatabase, NewInEmptyDirectoryStartsAtOne) {
  RunResult r = strata(dir(), {"new", "init"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir() / "migrations" / "0001_init.sql"));
}

TEST_F(CliNoDatabase, NoDatabaseIsAUsageError) {
  RunResult r = strata(dir(), {"up"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("DATABASE_URL"), std::string::npos) << r.err;
}

TEST_F(CliNoDatabase, HelpHasExamplesAndExitCodes) {
  RunResult r = strata(dir(), {"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos);
  for (const char* cmd : {"up", "status", "new"}) {
    RunResult sub = strata(dir(), {cmd, "--help"});
    EXPECT_EQ(sub.code, 0) << cmd;
    EXPECT_NE(sub.out.find("Examples"), std::string::npos) << cmd;
  }
}

TEST_F(CliNoDatabase, PasswordNeverPrinted) {
  RunResult r = strata(dir(), {"status", "-d", "postgresql://app:hunter2@127.0.0.1:1/app", "--json"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace strata
