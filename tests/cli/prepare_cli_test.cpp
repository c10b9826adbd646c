// `strata prepare` through the real binary, on both engines: a scratch
// database (SQLite in memory, a throwaway schema on PostgreSQL) migrated from
// the test's migrations directory.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::read_file;
using test::RunResult;
using test::write_file;

class PrepareCli : public test::EngineTest {
 protected:
  void SetUp() override {
    test::EngineTest::SetUp();
    write_file(dir() / "migrations" / "0001_users.sql",
               "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT);\n");
    write_file(dir() / "queries" / "users.sql",
               "-- name: FindUser :one\n"
               "SELECT id, email, name FROM users WHERE id = $1;\n"
               "\n"
               "-- name: ListEmails :many\n"
               "SELECT email FROM users ORDER BY email;\n"
               "\n"
               "-- name: RenameUser :execrows\n"
               "UPDATE users SET name = $1 WHERE id = $2;\n");
  }
  fs::path dir() { return db().dir(); }
  // The scratch database for this engine.
  std::string dev_url() { return engine() == Engine::sqlite ? "sqlite::memory:" : db().url(); }
  RunResult run(std::vector<std::string> args) { return test::run_strata(dir(), args); }
};

TEST_P(PrepareCli, PrepareThenCheckPassesWithAndWithoutADatabase) {
  RunResult prepared = run({"prepare", "--dev-url", dev_url()});
  ASSERT_EQ(prepared.code, 0) << prepared.err;
  const std::string json = read_file(dir() / ".strata" / "queries.json");
  auto doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["engine"], to_string(engine()));
  EXPECT_EQ(doc["migrations"].get<std::string>().size(), 96u);
  ASSERT_EQ(doc["queries"].size(), 3u);
  EXPECT_EQ(doc["queries"][0]["name"], "FindUser");  // sorted by name
  EXPECT_EQ(doc["queries"][0]["kind"], "one");
  EXPECT_EQ(doc["queries"][0]["file"], "queries/users.sql");
  EXPECT_EQ(doc["queries"][0]["sha384"].get<std::string>().size(), 96u);
  EXPECT_EQ(doc["queries"][0]["parameters"][0]["type"], "int64");
  EXPECT_EQ(doc["queries"][0]["columns"][2]["name"], "name");
  EXPECT_EQ(doc["queries"][0]["columns"][2]["nullable"], true);
  EXPECT_EQ(doc["queries"][0]["columns"][1]["nullable"], false);
  EXPECT_TRUE(json.ends_with("\n"));
  EXPECT_TRUE(fs::exists(dir() / ".strata" / "queries.hpp"));
  EXPECT_NE(read_file(dir() / ".strata" / "queries.cpp").find("std::optional<FindUserRow> FindUser("),
            std::string::npos);

  RunResult offline = run({"prepare", "--check"});
  EXPECT_EQ(offline.code, 0) << offline.err;
  RunResult online = run({"prepare", "--check", "--dev-url", dev_url()});
  EXPECT_EQ(online.code, 0) << online.err;

  // Preparing again rewrites the same bytes.
  ASSERT_EQ(run({"prepare", "--dev-url", dev_url()}).code, 0);
  EXPECT_EQ(read_file(dir() / ".strata" / "queries.json"), json);

  if (engine() == Engine::postgres) {
    // The throwaway schemas are gone; nothing else was touched.
    auto c = db().connect();
    EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'strata_prepare_%'"), 0);
    EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_tables WHERE tablename = 'users'"), 0);
  }
}

TEST_P(PrepareCli, DroppingAColumnAQueryUsesFailsTheCheckWithADatabase) {
  ASSERT_EQ(run({"prepare", "--dev-url", dev_url()}).code, 0);
  write_file(dir() / "migrations" / "0002_drop_name.sql", "ALTER TABLE users DROP COLUMN name;\n");

  RunResult online = run({"prepare", "--check", "--dev-url", dev_url()});
  EXPECT_EQ(online.code, 16) << online.err;
  EXPECT_NE(online.err.find("FindUser"), std::string::npos) << online.err;
  EXPECT_NE(online.err.find("name"), std::string::npos) << online.err;
  EXPECT_NE(online.err.find("queries/users.sql:2:"), std::string::npos) << online.err;
  EXPECT_NE(online.err.find("RenameUser"), std::string::npos) << online.err;

  RunResult offline = run({"prepare", "--check"});
  EXPECT_EQ(offline.code, 16) << offline.err;
  EXPECT_NE(offline.err.find("the migrations in migrations changed"), std::string::npos) << offline.err;
}

TEST_P(PrepareCli, ChangingAColumnTypeNamesQueryColumnAndBothTypes) {
  ASSERT_EQ(run({"prepare", "--dev-url", dev_url()}).code, 0);
  write_file(dir() / "migrations" / "0001_users.sql",
             "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name BIGINT);\n");
  RunResult online = run({"prepare", "--check", "--dev-url", dev_url()});
  EXPECT_EQ(online.code, 16) << online.err;
  EXPECT_NE(online.err.find("query FindUser, column name: was text"), std::string::npos) << online.err;
  EXPECT_NE(online.err.find("now int64"), std::string::npos) << online.err;
}

TEST_P(PrepareCli, EditingAQueryWithoutPreparingFailsTheCheckWithoutADatabase) {
  ASSERT_EQ(run({"prepare", "--dev-url", dev_url()}).code, 0);
  write_file(dir() / "queries" / "users.sql",
             "-- name: FindUser :one\n"
             "SELECT id, email FROM users WHERE id = $1;\n"
             "\n"
             "-- name: ListEmails :many\n"
             "SELECT email FROM users ORDER BY email;\n"
             "\n"
             "-- name: RenameUser :execrows\n"
             "UPDATE users SET name = $1 WHERE id = $2;\n");
  RunResult offline = run({"prepare", "--check", "--json"});
  EXPECT_EQ(offline.code, 16) << offline.err;
  EXPECT_NE(offline.err.find("query FindUser (queries/users.sql:2:1): its text changed"), std::string::npos)
      << offline.err;
  EXPECT_EQ(offline.err.find("ListEmails"), std::string::npos) << offline.err;
  auto j = nlohmann::json::parse(offline.out);
  EXPECT_EQ(j["error"]["exit_code"], 16);
}

TEST_P(PrepareCli, AQueryThatDoesNotPrepareNamesFileLineColumnAndTheEngine) {
  write_file(dir() / "queries" / "broken.sql", "-- name: Broken :many\n\nSELECT id, nickname FROM users;\n");
  RunResult r = run({"prepare", "--dev-url", dev_url()});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("query Broken"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("queries/broken.sql:3:12"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nickname"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir() / ".strata" / "queries.json"));
}

STRATA_INSTANTIATE_ENGINES(PrepareCli);

}  // namespace
}  // namespace strata
