// Commands that only read a database (dump, diff --from/--to a URL) leave a
// SQLite file byte for byte as it was: no switch to WAL (which rewrites the
// header), no -wal or -shm files, no file created for a missing path.
// SQLite only: the property is about the file (on PostgreSQL the same
// commands run in read-only sessions, exercised by every dump and diff test).
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::read_file;

class ReadOnlyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::TestDatabase>(Engine::sqlite);
    dir_ = db_->dir();
    file_ = dir_ / "legacy.db";
    // A database in the rollback-journal mode, as another tool leaves it.
    test::write_file(dir_ / "setup.sql",
                     "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                     "CREATE INDEX users_name ON users (name);\nINSERT INTO users VALUES (1, 'a');\n");
    const std::string cmd = "sqlite3 '" + file_.string() + "' < '" + (dir_ / "setup.sql").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  std::unique_ptr<test::TestDatabase> db_;
  fs::path dir_, file_;
};

TEST_F(ReadOnlyCli, DumpAndDiffLeaveARollbackJournalDatabaseUntouched) {
  const std::string before = read_file(file_);
  const std::string url = "sqlite:" + file_.string();
  auto dump = test::run_strata(dir_, {"dump", "-d", url});
  ASSERT_EQ(dump.code, 0) << dump.err;
  EXPECT_NE(dump.out.find("CREATE TABLE users"), std::string::npos) << dump.out;
  test::write_file(dir_ / "schema.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);\n");
  auto diff = test::run_strata(dir_, {"diff", "--from", url, "--to", "schema.sql"});
  ASSERT_EQ(diff.code, 0) << diff.err;
  EXPECT_NE(diff.out.find("email"), std::string::npos) << diff.out;
  EXPECT_EQ(read_file(file_), before);
  EXPECT_FALSE(fs::exists(file_.string() + "-wal"));
  EXPECT_FALSE(fs::exists(file_.string() + "-shm"));

  // A missing file is an error, not a new empty database.
  auto missing = test::run_strata(dir_, {"dump", "-d", "sqlite:" + (dir_ / "nope.db").string()});
  EXPECT_NE(missing.code, 0);
  EXPECT_FALSE(fs::exists(dir_ / "nope.db"));
}

}  // namespace
}  // namespace strata
