// strata diff, strata drift and strata new --autogenerate through the real
// binary, on both engines. PostgreSQL loads files on a second, empty test
// database given as --dev-url; SQLite on its default, a database in memory.
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

constexpr const char* first_migration =
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n";

// What the project wants next: a column more, a table with a foreign key,
// an index, a view.
constexpr const char* declared_schema =
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);\n"
    "CREATE TABLE posts (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  user_id INTEGER NOT NULL REFERENCES users (id),\n"
    "  title TEXT NOT NULL DEFAULT 'untitled'\n"
    ");\n"
    "CREATE INDEX posts_user_idx ON posts (user_id);\n";

class SchemaCli : public test::MigrationsTest {
 protected:
  void SetUp() override {
    MigrationsTest::SetUp();
    if (engine() == Engine::postgres) dev_ = std::make_unique<test::TestDatabase>(Engine::postgres);
  }
  void TearDown() override {
    dev_.reset();
    MigrationsTest::TearDown();
  }
  // --dev-url for PostgreSQL (an empty database of its own); nothing for
  // SQLite, whose dev database is in memory by default.
  std::vector<std::string> dev() {
    if (!dev_) return {};
    return {"--dev-url", dev_->url()};
  }
  RunResult run(std::vector<std::string> args, bool with_dev = true) {
    if (with_dev) {
      for (auto& a : dev()) args.push_back(a);
    }
    return test::run_strata(dir(), args);
  }
  RunResult up() { return run({"up", "-d", db().url()}, false); }

  std::unique_ptr<test::TestDatabase> dev_;
};

TEST_P(SchemaCli, AutogenerateUpThenNoDriftAndNoDiff) {
  add("0001_users.sql", first_migration);
  ASSERT_EQ(up().code, 0);
  write_file(dir() / "schema.sql", declared_schema);

  RunResult generated = run({"new", "add_posts", "--autogenerate", "--schema", "schema.sql"});
  ASSERT_EQ(generated.code, 0) << generated.out << generated.err;
  fs::path up_file = migrations() / "0002_add_posts.up.sql";
  fs::path down_file = migrations() / "0002_add_posts.down.sql";
  ASSERT_TRUE(fs::exists(up_file)) << generated.out;
  ASSERT_TRUE(fs::exists(down_file)) << generated.out;
  std::string up_sql = read_file(up_file);
  EXPECT_NE(up_sql.find("posts"), std::string::npos) << up_sql;
  EXPECT_NE(up_sql.find("email"), std::string::npos) << up_sql;
  EXPECT_NE(read_file(down_file).find("posts"), std::string::npos) << read_file(down_file);

  RunResult applied = up();
  ASSERT_EQ(applied.code, 0) << applied.err << "\n" << up_sql;

  RunResult drift = run({"drift", "-d", db().url()});
  EXPECT_EQ(drift.code, 0) << drift.out << drift.err;
  EXPECT_NE(drift.out.find("No drift"), std::string::npos) << drift.out;

  RunResult diff = run({"diff", "--from", "migrations", "--to", "schema.sql", "--exit-code"});
  EXPECT_EQ(diff.code, 0) << diff.out << diff.err;
  EXPECT_EQ(diff.out, "");
  EXPECT_NE(diff.err.find("no changes"), std::string::npos) << diff.err;

  // Nothing left to generate: nothing is written.
  RunResult again = run({"new", "more", "--autogenerate", "--schema", "schema.sql"});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("No changes"), std::string::npos) << again.out;
  EXPECT_FALSE(fs::exists(migrations() / "0003_more.up.sql"));

  // The down file undoes the up file.
  RunResult down = run({"down", "-d", db().url()}, false);
  ASSERT_EQ(down.code, 0) << down.err << "\n" << read_file(down_file);
  RunResult after_down = run({"diff", "--from", db().url(), "--to", "schema.sql", "--exit-code"});
  EXPECT_EQ(after_down.code, 13) << after_down.out << after_down.err;
}

TEST_P(SchemaCli, ARenameIsADropAndAnAddMarkedInTheGeneratedFile) {
  add("0001_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n");
  ASSERT_EQ(up().code, 0);
  write_file(dir() / "schema.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT);\n");
  RunResult generated = run({"new", "rename", "--autogenerate", "--json"});  // --schema defaults to schema.sql
  ASSERT_EQ(generated.code, 0) << generated.out << generated.err;
  auto j = nlohmann::json::parse(generated.out);
  ASSERT_EQ(j["files"].size(), 2u) << generated.out;
  std::string up_sql = read_file(migrations() / "0002_rename.up.sql");
  EXPECT_NE(up_sql.find("-- strata: possible rename users.name -> users.full_name"), std::string::npos) << up_sql;
  RunResult applied = up();
  ASSERT_EQ(applied.code, 0) << applied.err << "\n" << up_sql;
  RunResult drift = run({"drift", "-d", db().url()});
  EXPECT_EQ(drift.code, 0) << drift.out << drift.err;
}

TEST_P(SchemaCli, HandMadeAlterTableIsDrift) {
  add("0001_users.sql", first_migration);
  ASSERT_EQ(up().code, 0);
  db().connect()->execute("ALTER TABLE users ADD COLUMN nickname TEXT");

  RunResult human = run({"drift", "-d", db().url()});
  EXPECT_EQ(human.code, 14) << human.out << human.err;
  EXPECT_NE(human.out.find("users"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("nickname"), std::string::npos) << human.out;

  RunResult json = run({"drift", "-d", db().url(), "--json"});
  EXPECT_EQ(json.code, 14) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["drift"], true);
  ASSERT_FALSE(j["changes"].empty()) << json.out;
  std::string all = j["changes"].dump();
  EXPECT_NE(all.find("nickname"), std::string::npos) << all;
  for (const char* key : {"kind", "object", "detail", "statements", "destructive", "notes"}) {
    EXPECT_TRUE(j["changes"][0].contains(key)) << key << " in " << json.out;
  }
}

TEST_P(SchemaCli, PendingMigrationsAreNotDrift) {
  add("0001_users.sql", first_migration);
  ASSERT_EQ(up().code, 0);
  add("0002_tags.sql", "CREATE TABLE tags (id INTEGER PRIMARY KEY);\n");
  RunResult drift = run({"drift", "-d", db().url(), "--json"});
  EXPECT_EQ(drift.code, 0) << drift.out << drift.err;
  auto j = nlohmann::json::parse(drift.out);
  EXPECT_EQ(j["drift"], false);
  EXPECT_EQ(j["pending"], 1);
}

TEST_P(SchemaCli, DiffPrintsSqlJsonAndExitCode) {
  add("0001_users.sql", first_migration);
  write_file(dir() / "schema.sql", declared_schema);
  RunResult sql = run({"diff", "--from", "migrations", "--to", "schema.sql"});
  ASSERT_EQ(sql.code, 0) << sql.err;
  EXPECT_NE(sql.out.find("posts"), std::string::npos) << sql.out;

  RunResult code = run({"diff", "--from", "migrations", "--to", "schema.sql", "--exit-code"});
  EXPECT_EQ(code.code, 13) << code.err;
  EXPECT_EQ(code.out, sql.out);

  RunResult json = run({"diff", "--from", "migrations", "--to", "schema.sql", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["engine"], to_string(engine()));
  ASSERT_TRUE(j["changes"].is_array());
  EXPECT_FALSE(j["changes"].empty());
  EXPECT_TRUE(j["unsupported"].is_array());
  bool created_posts = false;
  for (const auto& c : j["changes"]) {
    for (const char* key : {"kind", "object", "detail", "statements", "destructive", "notes"}) {
      EXPECT_TRUE(c.contains(key)) << key << " in " << c.dump();
    }
    created_posts = created_posts || (c["kind"] == "create_table" && c["object"].get<std::string>().find("posts") !=
                                                                            std::string::npos);
  }
  EXPECT_TRUE(created_posts) << json.out;

  // The same schema on both sides: nothing.
  RunResult same = run({"diff", "--from", "schema.sql", "--to", "schema.sql", "--exit-code"});
  EXPECT_EQ(same.code, 0) << same.out << same.err;
  EXPECT_EQ(same.out, "");
}

TEST_P(SchemaCli, DeclaredSchemaThatFailsNamesFileLineAndColumn) {
  add("0001_users.sql", first_migration);
  write_file(dir() / "schema" / "01_users.sql", first_migration);
  write_file(dir() / "schema" / "02_posts.sql",
             "-- posts\n"
             "CREATE TABLE posts (id INTEGER PRIMARY KEY,\n"
             "  user_id INTEGER REFERENCES users (id),,\n"
             "  title TEXT);\n");
  RunResult r = run({"diff", "--from", "migrations", "--to", "schema"});
  EXPECT_EQ(r.code, 6) << r.out << r.err;
  EXPECT_NE(r.err.find((fs::path("schema") / "02_posts.sql").string() + ":3:"), std::string::npos) << r.err;

  RunResult json = run({"new", "x", "--autogenerate", "--schema", "schema", "--json"});
  EXPECT_EQ(json.code, 6) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["error"]["line"], 3) << json.out;
  EXPECT_GT(j["error"]["column"].get<int>(), 1) << json.out;
  EXPECT_FALSE(fs::exists(migrations() / "0002_x.up.sql"));
}

TEST_P(SchemaCli, DevDatabaseThatIsNotEmptyIsRefused) {
  add("0001_users.sql", first_migration);
  write_file(dir() / "schema.sql", declared_schema);
  std::vector<std::string> args = {"diff", "--from", "migrations", "--to", "schema.sql", "--dev-url"};
  if (engine() == Engine::sqlite) {
    args.push_back("sqlite:dev.db");  // the SQLite dev database is always in memory
  } else {
    ASSERT_EQ(up().code, 0);  // the test database now holds users and the history
    args.push_back(db().url());
  }
  RunResult r = run(args, false);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  if (engine() == Engine::postgres) {
    EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("users"), std::string::npos) << r.err;
    EXPECT_TRUE(test::table_exists(*db().connect(), "users"));
    // Without a dev database, drift refuses rather than use the live one.
    RunResult drift = run({"drift", "-d", db().url()}, false);
    EXPECT_EQ(drift.code, 2) << drift.out << drift.err;
    EXPECT_NE(drift.err.find("--dev-url"), std::string::npos) << drift.err;
  } else {
    EXPECT_NE(r.err.find("in memory"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir() / "dev.db"));
  }
}

TEST_P(SchemaCli, DevDatabaseKeepsNothingAfterward) {
  add("0001_users.sql", first_migration);
  write_file(dir() / "schema.sql", declared_schema);
  ASSERT_EQ(run({"diff", "--from", "migrations", "--to", "schema.sql"}).code, 0);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir())) {
    std::string name = e.path().filename().string();
    if (!name.starts_with(".")) files.push_back(name);
  }
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"migrations", "schema.sql"}));  // SQLite: all in memory
  if (engine() == Engine::sqlite) return;
  auto c = dev_->connect();
  auto schemas = c->fetch_value<std::int64_t>(
      "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'strata\\_dev\\_%'");
  EXPECT_EQ(schemas, 0);
}

// The Synapse-shaped tree: a database built from the snapshot plus later
// deltas and one built by replaying every delta have the same schema.
TEST_P(SchemaCli, SynapseSnapshotAndFullReplayHaveNoDiff) {
  fs::copy(fs::path(STRATA_TEST_DATA_DIR) / "synapse" / "tree", dir() / "schema", fs::copy_options::recursive);
  auto config = [&](const char* name, bool snapshots) {
    write_file(dir() / name, std::string("[layout]\n"
                                         "kind = \"synapse\"\n"
                                         "root = \"schema\"\n"
                                         "schema_version = 13\n"
                                         "compat_version = 12\n") +
                                 "use_snapshots = " + (snapshots ? "true" : "false") + "\n" +
                                 "[databases.all]\n"
                                 "url = \"" + db().url() + "\"\n"
                                 "logical = [\"main\", \"state\"]\n");
  };
  config("snapshot.toml", true);
  config("replay.toml", false);
  RunResult r = run({"diff", "--from", "snapshot.toml", "--to", "replay.toml", "--skip-code-deltas", "--exit-code"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");

  // The same through a live database: up from the snapshot, then no drift
  // against a full replay, and none against the snapshot either.
  RunResult applied = run({"up", "--config", "snapshot.toml", "--skip-code-deltas"}, false);
  ASSERT_EQ(applied.code, 0) << applied.err;
  RunResult drift = run({"drift", "--config", "replay.toml", "--skip-code-deltas"});
  EXPECT_EQ(drift.code, 0) << drift.out << drift.err;
  RunResult one = run({"diff", "--from", db().url(), "--to", "replay.toml#all", "--skip-code-deltas", "--exit-code"});
  EXPECT_EQ(one.code, 0) << one.out << one.err;
}

STRATA_INSTANTIATE_ENGINES(SchemaCli);

}  // namespace
}  // namespace strata
