// examples/notes_app, driven through its binary on both engines: it carries
// its migrations inside, migrates at start-up, and with --no-migrate refuses
// a database that is behind.
#include <filesystem>
#include <string>
#include <vector>

#include "strata/migrator.hpp"
#include "strata/source.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;

::testing::AssertionResult contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" is not in:\n" << text;
}

class NotesAppTest : public test::EngineTest {
 protected:
  test::RunResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"-d", db().url()});
    test::Process p(NOTES_APP_BINARY, args, db().dir());
    return p.wait();
  }
  test::RunResult strata(std::vector<std::string> args) { return test::run_strata(db().dir(), args); }
  static fs::path source() { return fs::path(STRATA_SOURCE_DIR) / "examples/notes/migrations"; }
};

TEST_P(NotesAppTest, MigratesAtStartUpFromItsOwnBinary) {
  // Run from a directory without the migration files: they are compiled in.
  auto r = run({"add", "alice", "first", "body; with 'quotes'"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "applied 1 create_users"));
  EXPECT_TRUE(contains(r.out, "applied 4 tags"));
  EXPECT_TRUE(contains(r.out, "note 1"));

  r = run({"--no-migrate", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "1\talice\tfirst\tbody; with 'quotes'\n");

  // The history is the one the CLI would write from the directory itself:
  // same paths, same checksums, nothing pending.
  auto c = db().connect();
  MigrationSet files = load_directory(source(), engine());
  auto status = Migrator(*c, files).status();
  ASSERT_EQ(status.migrations.size(), 4u);
  for (const auto& s : status.migrations) EXPECT_EQ(s.state, MigrationState::applied) << s.version;
  auto cli = strata({"status", "-d", db().url(), "-s", source().string()});
  EXPECT_EQ(cli.code, 0) << cli.out << cli.err;
}

TEST_P(NotesAppTest, NoMigrateRefusesAnOldDatabaseAndSaysHowToFixIt) {
  {
    // A database left at version 2 by an older release.
    auto c = db().connect();
    MigrationSet files = load_directory(source(), engine());
    UpOptions up;
    up.target = 2;
    Migrator(*c, files).up(up);
  }
  auto r = run({"--no-migrate", "list"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(contains(r.err, "the database is behind this build: 2 pending migrations:"));
  EXPECT_TRUE(contains(r.err, "3 touch_notes  (examples/notes/migrations/0003_touch_notes." +
                                  std::string(to_string(engine())) + ".sql)"));
  EXPECT_TRUE(contains(r.err, "4 tags  (examples/notes/migrations/0004_tags.up.sql)"));
  EXPECT_FALSE(contains(r.err, "create_users"));
  std::string hint = "strata up -d " + DatabaseUrl::parse(db().url()).redacted() + " -s examples/notes/migrations";
  EXPECT_TRUE(contains(r.err, hint));
  EXPECT_TRUE(contains(r.err, "without --no-migrate"));

  // Following the advice works: the CLI applies the rest from the directory...
  auto up = strata({"up", "-d", db().url(), "-s", source().string()});
  ASSERT_EQ(up.code, 0) << up.out << up.err;
  EXPECT_TRUE(contains(up.out, "Applied 3 touch_notes"));
  // ...and the app starts.
  r = run({"--no-migrate"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "ready at version 4 with 0 notes"));
}

TEST_P(NotesAppTest, NoMigrateOnAnEmptyDatabaseListsEverything) {
  auto r = run({"--no-migrate"});
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "4 pending migrations"));
  EXPECT_TRUE(contains(r.err, engine() == Engine::sqlite
                                  ? "1 create_users  (examples/notes/migrations/0001_create_users.sql)"
                                  : "1 create_users  (examples/notes/migrations/0001_create_users.postgres.sql)"));
  // Without --no-migrate the same database is brought up to date.
  r = run({});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "ready at version 4"));
}

TEST_P(NotesAppTest, AChangedAppliedMigrationStopsStartUp) {
  auto c = db().connect();
  auto r = run({});
  ASSERT_EQ(r.code, 0) << r.err;
  c->execute("UPDATE strata_migrations SET checksum = 'x' WHERE version = 2");
  for (auto args : {std::vector<std::string>{}, std::vector<std::string>{"--no-migrate"}}) {
    r = run(args);
    EXPECT_EQ(r.code, 1);
    EXPECT_TRUE(contains(r.err, "examples/notes/migrations/0002_create_notes.")) << r.err;
  }
}

STRATA_INSTANTIATE_ENGINES(NotesAppTest);

}  // namespace
}  // namespace strata
