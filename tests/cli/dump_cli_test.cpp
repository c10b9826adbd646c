// `strata dump` through the real binary, on both engines.
#include <sys/stat.h>

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

class DumpCli : public test::EngineTest {
 protected:
  fs::path dir() { return db().dir(); }
  RunResult run(const std::string& url, std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", url});
    return test::run_strata(dir(), args);
  }
  RunResult run(std::vector<std::string> args) { return run(db().url(), std::move(args)); }
};

TEST_P(DumpCli, StdoutFileAndJsonAgreeAndTheFileRestoresTheSameSchema) {
  write_file(dir() / "migrations" / "0001_users.sql",
             "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n"
             "CREATE INDEX users_email ON users (email);\n"
             "CREATE VIEW user_emails AS SELECT email FROM users;");
  write_file(dir() / "migrations" / "0002_posts.sql",
             "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));");
  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err;

  RunResult out = run({"dump"});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_TRUE(out.out.starts_with(std::string("-- strata dump (") + to_string(engine()) + ")\n")) << out.out;
  EXPECT_NE(out.out.find("CREATE TABLE posts"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("CREATE VIEW user_emails"), std::string::npos) << out.out;
  EXPECT_EQ(out.out.find("strata_migrations"), std::string::npos) << out.out;

  RunResult to_file = run({"dump", "-o", "full.sql"});
  ASSERT_EQ(to_file.code, 0) << to_file.err;
  EXPECT_NE(to_file.out.find("full.sql"), std::string::npos) << to_file.out;
  EXPECT_EQ(read_file(dir() / "full.sql"), out.out);
  struct stat st {};
  ASSERT_EQ(::stat((dir() / "full.sql").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & S_IWOTH, 0u) << "a snapshot must never be world-writable";
  EXPECT_NE(st.st_mode & S_IRUSR, 0u);
  for (const auto& entry : fs::directory_iterator(dir())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
  }

  RunResult json = run({"dump", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["engine"], to_string(engine()));
  EXPECT_EQ(j["sql"], out.out);

  RunResult all = run({"dump", "--include-strata-tables"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_NE(all.out.find("strata_migrations"), std::string::npos) << all.out;

  // The snapshot as the only migration of a fresh database: same dump.
  test::TestDatabase fresh(engine());
  write_file(dir() / "snapshot" / "0001_full.sql", read_file(dir() / "full.sql"));
  RunResult restore = run(fresh.url(), {"up", "-s", "snapshot"});
  ASSERT_EQ(restore.code, 0) << restore.err;
  RunResult again = run(fresh.url(), {"dump"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, out.out);
}

TEST_P(DumpCli, ErrorsMapToExitCodes) {
  RunResult no_database = test::run_strata(dir(), {"dump"});
  EXPECT_EQ(no_database.code, 2) << no_database.err;

  db().connect();  // the database exists (dump opens it read-only: it never creates one)
  RunResult unwritable = run({"dump", "-o", "no/such/dir/full.sql"});
  EXPECT_EQ(unwritable.code, 11) << unwritable.err;
  EXPECT_NE(unwritable.err.find("no/such/dir/full.sql"), std::string::npos) << unwritable.err;

  if (engine() == Engine::postgres) {
    RunResult missing = run({"dump", "--schema", "nope", "--json"});
    EXPECT_EQ(missing.code, 2) << missing.err;
    auto j = nlohmann::json::parse(missing.out);
    EXPECT_EQ(j["error"]["kind"], "usage");
    EXPECT_NE(j["error"]["message"].get<std::string>().find("nope"), std::string::npos) << missing.out;
  }
}

STRATA_INSTANTIATE_ENGINES(DumpCli);

}  // namespace
}  // namespace strata
