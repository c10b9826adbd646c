// The DDL lock guard (MigratorOptions::ddl_lock_timeout / ddl_retries): on
// PostgreSQL a migration that times out on a lock held by another session is
// rolled back and retried, naming the pid that held it; on SQLite the options
// change nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "strata/history.hpp"
#include "strata/migrator.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {

using namespace std::chrono_literals;

class LockGuardTest : public test::MigrationsTest {
 protected:
  void SetUp() override {
    test::MigrationsTest::SetUp();
    add("1_items.sql", "CREATE TABLE items (id INTEGER PRIMARY KEY);\n");
    add("2_extend.sql", "CREATE TABLE audit (id INTEGER PRIMARY KEY);\nALTER TABLE items ADD COLUMN note TEXT;\n");
    source_ = load();
  }

  MigratorOptions guarded(int retries) {
    MigratorOptions o;
    o.ddl_lock_timeout = 150ms;
    o.ddl_retries = retries;
    o.ddl_retry_backoff = 50ms;
    o.on_warning = [this](std::string_view w) { warnings_.emplace_back(w); };
    return o;
  }

  // Applies migration 1, then has `holder` take a lock on items that
  // migration 2's ALTER TABLE must wait for. Returns the holder's pid.
  std::int64_t hold_lock(Connection& migrating, Connection& holder) {
    UpOptions first;
    first.target = 1;
    Migrator(migrating, source_, guarded(0)).up(first);
    holder.execute("BEGIN");
    holder.execute("LOCK TABLE items IN ACCESS SHARE MODE");
    return holder.fetch_value<std::int64_t>("SELECT pg_backend_pid()");
  }

  bool has_note_column(Connection& c) {
    return c.fetch_value<std::int64_t>(
               "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'note'") == 1;
  }

  MigrationSet source_;
  std::vector<std::string> warnings_;
};

TEST_P(LockGuardTest, RetriesAndSucceedsOnceTheLockIsReleased) {
  auto c = db().connect();
  if (engine() == Engine::sqlite) {
    // Accepted and harmless: nothing to wait for, nothing reported.
    Migrator(*c, source_, guarded(3)).up();
    EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
    EXPECT_TRUE(warnings_.empty());
    return;
  }
  auto holder = db().connect();
  const std::int64_t pid = hold_lock(*c, *holder);
  std::thread release([&] {
    std::this_thread::sleep_for(600ms);
    holder->execute("COMMIT");
  });
  UpResult result;
  EXPECT_NO_THROW(result = Migrator(*c, source_, guarded(20)).up());
  release.join();
  ASSERT_EQ(result.applied.size(), 1u);
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
  EXPECT_TRUE(has_note_column(*c));
  ASSERT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_[0].find("pid " + std::to_string(pid)), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[0].find("retry 1 of 20"), std::string::npos) << warnings_[0];
}

TEST_P(LockGuardTest, GivesUpAfterTheRetriesNamingTheBlockingPidWithNothingHalfApplied) {
  auto c = db().connect();
  if (engine() == Engine::sqlite) {  // no lock_timeout there: even with no retries nothing changes
    Migrator(*c, source_, guarded(0)).up();
    EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
    return;
  }
  auto holder = db().connect();
  const std::int64_t pid = hold_lock(*c, *holder);
  Error e = test::error_from([&] { Migrator(*c, source_, guarded(2)).up(); });
  holder->execute("COMMIT");
  EXPECT_EQ(e.kind(), ErrorKind::ddl_lock_timeout) << e.what();
  EXPECT_EQ(e.engine_code(), "55P03");
  EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(pid)), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("after 2 retries"), std::string::npos) << e.what();
  EXPECT_EQ(warnings_.size(), 2u);
  // Nothing of migration 2: not its history row, not its first statement.
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1}));
  EXPECT_FALSE(test::table_exists(*c, "audit"));
  EXPECT_FALSE(has_note_column(*c));
}

TEST_P(LockGuardTest, OffByDefault) {
  MigratorOptions defaults;
  EXPECT_EQ(defaults.ddl_lock_timeout.count(), 0);
  auto c = db().connect();
  Migrator(*c, source_).up();
  EXPECT_EQ(recorded(*c), (std::vector<Version>{1, 2}));
}

STRATA_INSTANTIATE_ENGINES(LockGuardTest);

}  // namespace
}  // namespace strata
