// tests/support/engine_fixture.hpp: one test body, run on SQLite and PostgreSQL.
//
//   class MigratorTest : public strata::test::EngineTest {};
//   TEST_P(MigratorTest, AppliesInOrder) { auto c = db().connect(); ... }
//   STRATA_INSTANTIATE_ENGINES(MigratorTest);
//
// PostgreSQL tests need STRATA_TEST_POSTGRES_URL (scripts/with-postgres sets
// it): a superuser URL to a throwaway server. Without it they FAIL, never skip.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "strata/connection.hpp"
#include "strata/migration.hpp"
#include "strata/source.hpp"
#include "strata/error.hpp"
#include "strata/error.hpp"

namespace strata {
// Readable test names and failure messages ("postgres", not "4-byte object").
inline void PrintTo(Engine engine, std::ostream* os) { *os << to_string(engine); }
inline void PrintTo(ErrorKind kind, std::ostream* os) { *os << to_string(kind); }
}  // namespace strata

namespace strata::test {

// A fresh, empty database for one test, removed when the object dies.
// SQLite: a file "test.db" in a fresh temporary directory of its own (not
// dir(), so listing dir() never shows the database files).
// PostgreSQL: a new database "strata_t_<pid>_<n>" (from template0, UTF8) on
// the test server, dropped WITH (FORCE) by the destructor.
// Without STRATA_TEST_POSTGRES_URL the PostgreSQL constructor records a test
// failure and throws.
class TestDatabase {
 public:
  explicit TestDatabase(Engine engine);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  Engine engine() const { return engine_; }
  const std::string& url() const { return url_; }
  std::unique_ptr<Connection> connect() const;
  // A scratch directory owned by this test (for migration files and such).
  const std::filesystem::path& dir() const { return dir_; }

 private:
  Engine engine_;
  std::string url_;
  std::string pg_name_;
  std::filesystem::path dir_;
  std::filesystem::path sqlite_dir_;  // holds test.db, apart from dir()
};

// The server URL from STRATA_TEST_POSTGRES_URL with its database replaced
// (URL path, percent-encoded; or " dbname='...'" appended to a conninfo string).
std::string postgres_url_for(const std::string& database);

class EngineTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override { db_ = std::make_unique<TestDatabase>(GetParam()); }
  void TearDown() override { db_.reset(); }
  TestDatabase& db() { return *db_; }
  Engine engine() const { return GetParam(); }

 private:
  std::unique_ptr<TestDatabase> db_;
};

// Writes `text` to dir/name, creating directories.
void write_file(const std::filesystem::path& path, std::string_view text);
std::string read_file(const std::filesystem::path& path);

// An EngineTest with a migrations directory beside its database, the one
// `strata` finds by default when run in db().dir().
class MigrationsTest : public EngineTest {
 protected:
  std::filesystem::path dir() { return db().dir(); }
  std::filesystem::path migrations() { return dir() / "migrations"; }
  void add(const std::string& name, const std::string& text) { write_file(migrations() / name, text); }
  MigrationSet load() { return load_directory(migrations(), engine()); }
  // The versions the default history table records, in order.
  std::vector<Version> recorded(Connection& c);
};

// The strata::Error that `f` throws; records a test failure (and returns an
// internal error) when it throws none.
template <class F>
Error error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no strata::Error was thrown";
  return Error(ErrorKind::internal, "no error");
}

// Whether a table of that name exists: in the main database on SQLite, in the
// session's current schema on PostgreSQL.
bool table_exists(Connection& c, std::string_view table);

}  // namespace strata::test

#define STRATA_INSTANTIATE_ENGINES(Suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Engines, Suite,                                             \
                           ::testing::Values(::strata::Engine::sqlite, ::strata::Engine::postgres), \
                           [](const ::testing::TestParamInfo<::strata::Engine>& info) { \
                             return std::string(::strata::to_string(info.param));       \
                           })
