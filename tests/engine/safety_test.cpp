// Validation, compatibility, locking, down and repair: each on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <thread>

#include "migration/lock.hpp"
#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/source.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::error_from;
using test::table_exists;
using test::write_file;

class SafetyTest : public test::MigrationsTest {
 protected:
  void remove(const std::string& name) { fs::remove(migrations() / name); }
  void three() {
    add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    add("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
    add("0003_c.sql", "CREATE TABLE c (id INTEGER);\n");
  }
};

TEST_P(SafetyTest, ChangedFileNamesBothChecksumsAndAllowListAccepts) {
  three();
  auto c = db().connect();
  auto before = load();
  Migrator(*c, before).up();
  std::string old_sum = before.find(2)->checksum;
  add("0002_b.sql", "CREATE TABLE b (id INTEGER); -- edited\n");
  auto after = load();
  auto report = Migrator(*c, after).validate();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.kind, ErrorKind::validation);
  EXPECT_NE(report.errors[0].find("0002_b.sql"), std::string::npos);
  EXPECT_NE(report.errors[0].find(old_sum), std::string::npos);
  EXPECT_NE(report.errors[0].find(after.find(2)->checksum), std::string::npos);
  EXPECT_EQ(error_from([&] { Migrator(*c, after).up(); }).kind(), ErrorKind::validation);

  MigratorOptions options;
  options.allowed_checksums[2] = {old_sum};
  std::vector<std::string> warnings;
  options.on_warning = [&](std::string_view w) { warnings.emplace_back(w); };
  EXPECT_TRUE(Migrator(*c, after, options).validate().ok());
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_NO_THROW(Migrator(*c, after, options).up());
}

TEST_P(SafetyTest, MissingMiddleMigrationIsAnErrorUnlessIgnored) {
  three();
  auto c = db().connect();
  Migrator(*c, load()).up();
  remove("0002_b.sql");
  add("0004_d.sql", "CREATE TABLE d (id INTEGER);\n");
  auto set = load();
  Error e = error_from([&] { Migrator(*c, set).up(); });
  EXPECT_EQ(e.kind(), ErrorKind::validation);
  EXPECT_NE(std::string(e.what()).find("migration 2 (b) is applied but missing"), std::string::npos) << e.what();
  EXPECT_FALSE(table_exists(*c, "d"));

  MigratorOptions ignore;
  ignore.ignore_missing = true;
  EXPECT_EQ(Migrator(*c, set, ignore).up().applied.size(), 1u);
  MigratorOptions allow;
  allow.allowed_missing = {2};
  EXPECT_TRUE(Migrator(*c, set, allow).validate().ok());
}

TEST_P(SafetyTest, AheadDatabaseIsAllowedWithoutAFloor) {
  three();
  auto c = db().connect();
  Migrator(*c, load()).up();
  remove("0003_c.sql");  // the code was rolled back
  auto set = load();
  auto status = Migrator(*c, set).status();
  EXPECT_EQ(status.migrations.back().state, MigrationState::ahead);
  EXPECT_TRUE(Migrator(*c, set).validate().ok());
  EXPECT_TRUE(Migrator(*c, set).up().applied.empty());
}

TEST_P(SafetyTest, BreakingMigrationMakesOlderCodeRefuse) {
  three();
  add("0004_d.sql", "-- strata: breaking\nCREATE TABLE d (id INTEGER);\n");
  auto c = db().connect();
  Migrator(*c, load()).up();
  auto status = Migrator(*c, load()).status();
  EXPECT_EQ(status.compat_floor, 4);

  remove("0004_d.sql");  // older code: knows up to 3
  auto old_code = load();
  Error e = error_from([&] { Migrator(*c, old_code).up(); });
  EXPECT_EQ(e.kind(), ErrorKind::incompatible);
  std::string what = e.what();
  EXPECT_NE(what.find("4"), std::string::npos) << what;
  EXPECT_NE(what.find("3"), std::string::npos) << what;
  EXPECT_EQ(Migrator(*c, old_code).validate().kind, ErrorKind::incompatible);

  MigratorOptions unsupported;
  unsupported.allow_unsupported = true;
  std::vector<std::string> warnings;
  unsupported.on_warning = [&](std::string_view w) { warnings.emplace_back(w); };
  EXPECT_NO_THROW(Migrator(*c, old_code, unsupported).up());
  EXPECT_FALSE(warnings.empty());
}

TEST_P(SafetyTest, CompatibleWithKeepsOlderCodeWorking) {
  three();
  add("0004_d.sql", "-- strata: compatible-with 3\nCREATE TABLE d (id INTEGER);\n");
  add("0005_e.sql", "CREATE TABLE e (id INTEGER);\n");  // no directive: floor stays
  auto c = db().connect();
  Migrator(*c, load()).up();
  EXPECT_EQ(Migrator(*c, load()).status().compat_floor, 3);
  remove("0004_d.sql");
  remove("0005_e.sql");
  EXPECT_TRUE(Migrator(*c, load()).validate().ok());  // code knows 3: still compatible
  remove("0003_c.sql");  // code that knows only 2 is below the floor
  EXPECT_EQ(Migrator(*c, load()).validate().kind, ErrorKind::incompatible);
}

TEST_P(SafetyTest, DownStepsAndTargetZero) {
  add("0001_a.up.sql", "CREATE TABLE a (id INTEGER);");
  add("0001_a.down.sql", "DROP TABLE a;");
  add("0002_b.up.sql", "CREATE TABLE b (id INTEGER);");
  add("0002_b.down.sql", "DROP TABLE b;");
  add("0003_c.up.sql", "CREATE TABLE c (id INTEGER);");
  add("0003_c.down.sql", "DROP TABLE c;");
  auto c = db().connect();
  auto set = load();
  Migrator(*c, set).up();
  EXPECT_EQ(Migrator(*c, set).down().reverted.size(), 1u);
  EXPECT_FALSE(table_exists(*c, "c"));
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
  DownOptions all;
  all.base = true;
  EXPECT_EQ(Migrator(*c, set).down(all).reverted.size(), 2u);
  EXPECT_FALSE(table_exists(*c, "a"));
  EXPECT_TRUE(recorded(*c).empty());
  EXPECT_EQ(Migrator(*c, set).up().applied.size(), 3u);  // and back up
}

TEST_P(SafetyTest, DownRefusesBeforeTouchingAnythingWhenADownFileIsMissing) {
  add("0001_a.up.sql", "CREATE TABLE a (id INTEGER);");
  add("0001_a.down.sql", "DROP TABLE a;");
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);");  // not reversible
  add("0003_c.up.sql", "CREATE TABLE c (id INTEGER);");
  add("0003_c.down.sql", "DROP TABLE c;");
  auto c = db().connect();
  auto set = load();
  Migrator(*c, set).up();
  DownOptions all;
  all.base = true;
  Error e = error_from([&] { Migrator(*c, set).down(all); });
  EXPECT_EQ(e.kind(), ErrorKind::usage);
  EXPECT_NE(std::string(e.what()).find("0002_b.sql"), std::string::npos) << e.what();
  EXPECT_TRUE(table_exists(*c, "c"));  // nothing reverted
  EXPECT_EQ(recorded(*c).size(), 3u);
  DownOptions bad;
  bad.target = 7;
  EXPECT_EQ(error_from([&] { Migrator(*c, set).down(bad); }).kind(), ErrorKind::usage);
}

TEST_P(SafetyTest, RepairForgetAndMarkApplied) {
  add("0001_a.sql", "-- strata: no-transaction\nCREATE TABLE a (id INTEGER);\nSELEC 1;\n");
  auto c = db().connect();
  auto broken = load();
  EXPECT_EQ(error_from([&] { Migrator(*c, broken).up(); }).kind(), ErrorKind::sql);
  EXPECT_EQ(error_from([&] { Migrator(*c, broken).up(); }).kind(), ErrorKind::dirty);
  EXPECT_EQ(Migrator(*c, broken).validate().kind, ErrorKind::dirty);

  // The user finished it by hand.
  Migrator(*c, broken).repair_mark_applied(1);
  auto history = History(*c, {}).read();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(history[0].success);
  EXPECT_EQ(error_from([&] { Migrator(*c, broken).repair_forget(1); }).kind(), ErrorKind::usage);

  // Another failure, undone by hand this time.
  add("0002_b.sql", "-- no-transaction\nCREATE TABLE b (id INTEGER);\nSELEC 2;\n");
  auto more = load();
  EXPECT_THROW(Migrator(*c, more).up(), Error);
  c->execute("DROP TABLE b");
  Migrator(*c, more).repair_forget(2);
  EXPECT_EQ(recorded(*c), std::vector<Version>{1});
  EXPECT_EQ(error_from([&] { Migrator(*c, more).repair_forget(9); }).kind(), ErrorKind::usage);
}

TEST_P(SafetyTest, SqlPreviewShowsEverythingAndChangesNothing) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\nINSERT INTO a VALUES (1);\n");
  add("0002_b.sql", "-- strata: no-transaction\nCREATE TABLE b (id INTEGER);\n");
  auto c = db().connect();
  auto set = load();
  std::string script = Migrator(*c, set).script();
  EXPECT_NE(script.find("CREATE TABLE IF NOT EXISTS"), std::string::npos) << script;
  EXPECT_NE(script.find("CREATE TABLE a (id INTEGER);"), std::string::npos) << script;
  EXPECT_NE(script.find("COMMIT;"), std::string::npos) << script;
  EXPECT_NE(script.find("no-transaction"), std::string::npos) << script;
  EXPECT_NE(script.find("strata_migrations"), std::string::npos) << script;
  EXPECT_EQ(Migrator(*c, set).plan().size(), 2u);
  EXPECT_FALSE(table_exists(*c, "a"));
  EXPECT_FALSE(History(*c, {}).exists());
}

TEST_P(SafetyTest, LockTimeoutWhenAnotherMigratorHoldsTheLock) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);");
  auto holder = db().connect();
  auto c = db().connect();
  auto set = load();
  for (auto mode : {LockOptions::Mode::wait, LockOptions::Mode::poll}) {
    {
      MigrationLock held(*holder, HistoryOptions{}, LockOptions{});
      MigratorOptions o;
      o.lock.mode = mode;
      o.lock.timeout = std::chrono::milliseconds(200);
      auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(error_from([&] { Migrator(*c, set, o).up(); }).kind(), ErrorKind::lock_timeout);
      EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
      EXPECT_FALSE(table_exists(*c, "a"));
    }
  }
  // Released: now it goes through.
  EXPECT_EQ(Migrator(*c, set).up().applied.size(), 1u);
}

TEST_P(SafetyTest, ConcurrentMigratorsInThreadsApplyEachOnce) {
  add("0001_log.sql", "CREATE TABLE log (v INTEGER NOT NULL);");
  for (int v = 2; v <= 20; ++v) {
    write_file(migrations() / (std::to_string(1000 + v) + "_m.sql"),
               "INSERT INTO log (v) VALUES (" + std::to_string(v) + ");");
  }
  auto set = load();
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        auto c = db().connect();
        Migrator(*c, set).up();
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  auto c = db().connect();
  EXPECT_EQ(c->query("SELECT count(*), count(DISTINCT v) FROM log").rows.at(0).get<std::int64_t>(0), 19);
  EXPECT_EQ(c->query("SELECT count(DISTINCT v) FROM log").rows.at(0).get<std::int64_t>(0), 19);
}

STRATA_INSTANTIATE_ENGINES(SafetyTest);

TEST(AdvisoryLockKey, DependsOnDatabaseSchemaAndTable) {
  auto k = advisory_lock_key("app", "public", "strata_migrations");
  EXPECT_EQ(k, advisory_lock_key("app", "public", "strata_migrations"));
  EXPECT_NE(k, advisory_lock_key("app2", "public", "strata_migrations"));
  EXPECT_NE(k, advisory_lock_key("app", "other", "strata_migrations"));
  EXPECT_NE(k, advisory_lock_key("app", "public", "history"));
  EXPECT_NE(advisory_lock_key("ab", "c", "t"), advisory_lock_key("a", "bc", "t"));
}

}  // namespace
}  // namespace strata
