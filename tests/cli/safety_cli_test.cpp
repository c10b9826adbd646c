// Safety through the real binary: concurrent processes, SIGKILL mid-run, and
// the bad-input catalogue (message, exit code, and nothing changed). Each on
// SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "migration/lock.hpp"
#include "strata/history.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::RunResult;
using test::write_file;

// `url` (postgresql://user[:password]@host...) with its password replaced.
std::string with_password(const std::string& url, const std::string& password) {
  auto scheme = url.find("://");
  auto at = url.find('@', scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos) return url;
  std::string userinfo = url.substr(scheme + 3, at - scheme - 3);
  std::string user = userinfo.substr(0, userinfo.find(':'));
  return url.substr(0, scheme + 3) + user + ":" + password + url.substr(at);
}

class SafetyCli : public test::MigrationsTest {
 protected:
  std::vector<std::string> with_db(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url()});
    return args;
  }
  RunResult run(std::vector<std::string> args) { return test::run_strata(dir(), with_db(std::move(args))); }

  std::vector<std::string> tables(Connection& c) {
    std::vector<std::string> out;
    auto rows = engine() == Engine::sqlite
                    ? c.query("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").rows
                    : c.query("SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY tablename").rows;
    for (const auto& r : rows) out.push_back(r.get<std::string>(0));
    return out;
  }
  // Everything a failed command must leave untouched: tables and history.
  std::string fingerprint() {
    auto c = db().connect();
    std::string f;
    for (const auto& t : tables(*c)) f += t + ",";
    f += "|";
    for (const auto& a : History(*c, {}).read()) {
      f += std::to_string(a.version) + ":" + a.checksum.substr(0, 8) + ":" + (a.success ? "ok" : "dirty") + ",";
    }
    return f;
  }
  void expect_failure(const std::vector<std::string>& args, int code, const std::string& message) {
    std::string before = fingerprint();
    RunResult r = run(args);
    EXPECT_EQ(r.code, code) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << "expected '" << message << "' in: " << r.err;
    EXPECT_EQ(fingerprint(), before) << "the database changed";
  }
  void base() {
    add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
    add("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
    RunResult r = run({"up"});
    ASSERT_EQ(r.code, 0) << r.err;
  }
};

TEST_P(SafetyCli, EightConcurrentProcessesApplyEachMigrationOnce) {
  add("0001_log.sql", "CREATE TABLE log (v INTEGER NOT NULL);\n");
  for (int v = 2; v <= 50; ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d_m%d.sql", v, v);
    add(name, "INSERT INTO log (v) VALUES (" + std::to_string(v) + ");\nCREATE TABLE t" + std::to_string(v) +
                  " (id INTEGER);\n");
  }
  std::vector<std::unique_ptr<test::Process>> procs;
  for (int i = 0; i < 8; ++i) {
    procs.push_back(std::make_unique<test::Process>(STRATA_BINARY, with_db({"up"}), dir()));
  }
  for (auto& p : procs) {
    RunResult r = p->wait();
    EXPECT_EQ(r.code, 0) << r.err;
  }
  auto c = db().connect();
  auto row = c->query("SELECT count(*), count(DISTINCT v) FROM log").rows.at(0);
  EXPECT_EQ(row.get<std::int64_t>(0), 49);
  EXPECT_EQ(row.get<std::int64_t>(1), 49);
  EXPECT_EQ(History(*c, {}).read().size(), 50u);
}

TEST_P(SafetyCli, SigkillMidRunNeverLeavesHistoryAndEffectsDisagreeing) {
  constexpr int count = 300;
  for (int v = 1; v <= count; ++v) {
    char name[32];
    std::snprintf(name, sizeof name, "%04d_t%d.sql", v, v);
    std::string t = "t" + std::to_string(v);
    std::string sql = "CREATE TABLE " + t + " (id INTEGER PRIMARY KEY, note TEXT);\n";
    for (int i = 1; i <= 20; ++i) {
      sql += "INSERT INTO " + t + " (id, note) VALUES (" + std::to_string(i) + ", 'row; " + std::to_string(i) + "');\n";
    }
    // Enough work per migration that a kill can land between two of them on a fast machine.
    sql += "INSERT INTO " + t + " (id, note) SELECT i, 'bulk' FROM (WITH RECURSIVE s(i) AS (SELECT 21 UNION ALL "
           "SELECT i + 1 FROM s WHERE i < 2020) SELECT i FROM s) AS g;\n";
    add(name, sql);
  }
  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  auto check = [&](int round) -> std::size_t {
    auto c = db().connect();
    std::vector<Version> recorded;
    for (const auto& a : History(*c, {}).read()) {
      EXPECT_TRUE(a.success) << "round " << round;
      recorded.push_back(a.version);
    }
    auto present = tables(*c);
    for (Version v : recorded) {
      std::string t = "t" + std::to_string(v);
      bool exists = std::find(present.begin(), present.end(), t) != present.end();
      EXPECT_TRUE(exists) << "round " << round << ": " << t << " recorded but absent";
      if (!exists) continue;
      EXPECT_EQ(c->query("SELECT count(*) FROM " + t).rows.at(0).get<std::int64_t>(0), 2020);
    }
    for (const auto& t : present) {
      if (t.size() < 2 || t[0] != 't' || !std::isdigit(static_cast<unsigned char>(t[1]))) continue;
      Version v = std::stoll(t.substr(1));
      EXPECT_NE(std::find(recorded.begin(), recorded.end(), v), recorded.end())
          << "round " << round << ": " << t << " exists without a history record";
    }
    return recorded.size();
  };
  // Applied so far, read beside the running process (0 before the history table exists).
  auto applied = [&]() -> std::size_t {
    try {
      auto c = db().connect();
      return History(*c, {}).read().size();
    } catch (const Error&) {
      return 0;
    }
  };
  std::size_t done = 0;
  int kills = 0;
  for (int round = 0; round < 8 && done < count; ++round) {
    test::Process p(STRATA_BINARY, with_db({"up"}), dir());
    // Kill once the run has made progress to a random point, not after a fixed sleep: a fixed
    // sleep lets a quiet machine finish every migration before the kill lands.
    std::size_t target = done + std::uniform_int_distribution<std::size_t>(1, 30)(rng);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (applied() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    p.kill(SIGKILL);
    RunResult r = p.wait();
    if (r.code == -SIGKILL) ++kills;
    done = check(round);
  }
  RunResult last = run({"up"});
  EXPECT_EQ(last.code, 0) << last.err;
  EXPECT_EQ(check(99), static_cast<std::size_t>(count));
  EXPECT_GT(kills, 0) << "no run was killed mid-way";
}

TEST_P(SafetyCli, SqlPreviewOnAFreshDatabaseCreatesNothing) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  std::string before = fingerprint();
  fs::path file = engine() == Engine::sqlite ? fs::path(DatabaseUrl::parse(db().url()).sqlite_path) : fs::path();
  if (engine() == Engine::sqlite) fs::remove(file);
  RunResult r = run({"up", "--sql"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("CREATE TABLE a (id INTEGER);"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("COMMIT;"), std::string::npos) << r.out;
  if (engine() == Engine::sqlite) {
    EXPECT_FALSE(fs::exists(file));
  } else {
    EXPECT_EQ(fingerprint(), before);
  }
  RunResult dry = run({"up", "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would apply 1 migration"), std::string::npos) << dry.out;
}

TEST_P(SafetyCli, ValidateNamesAnEditedFileButNotACrlfCheckout) {
  base();
  add("0002_b.sql", "CREATE TABLE b (id INTEGER);\r\n");
  RunResult ok = run({"validate"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  add("0002_b.sql", "CREATE TABLE b (id BIGINT);\n");
  expect_failure({"validate"}, 7, "0002_b.sql");
  expect_failure({"up"}, 7, "0002_b.sql");
}

TEST_P(SafetyCli, ValidateFailsWhenBehind) {
  base();
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\n");
  expect_failure({"validate"}, 7, "3 c");
  EXPECT_EQ(run({"validate", "--allow-pending"}).code, 0);
}

TEST_P(SafetyCli, DeletedAppliedMigrationIsMissingUnlessIgnored) {
  base();
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\n");
  fs::remove(migrations() / "0001_a.sql");
  expect_failure({"up"}, 7, "missing");
  RunResult r = run({"up", "--ignore-missing"});
  EXPECT_EQ(r.code, 0) << r.err;
  RunResult status = run({"status", "--json"});
  auto j = nlohmann::json::parse(status.out);
  EXPECT_EQ(j["migrations"][0]["state"], "missing");
}

TEST_P(SafetyCli, DatabaseNewerThanCodeBeyondCompat) {
  base();
  add("0003_c.sql", "-- strata: breaking\nCREATE TABLE c (id INTEGER);\n");
  ASSERT_EQ(run({"up"}).code, 0);
  fs::remove(migrations() / "0003_c.sql");
  expect_failure({"up"}, 8, "newest migration is 2");
  RunResult forced = run({"up", "--allow-unsupported"});
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_NE(forced.err.find("warning"), std::string::npos) << forced.err;
}

TEST_P(SafetyCli, DirtyDatabaseRefusesUpUntilRepaired) {
  base();
  add("0003_c.sql", "-- strata: no-transaction\nCREATE TABLE c (id INTEGER);\nSELEC 1;\n");
  RunResult failed = run({"up"});
  EXPECT_EQ(failed.code, 6) << failed.err;
  expect_failure({"up"}, 9, "repair");
  RunResult status = run({"status"});
  EXPECT_NE(status.out.find("dirty"), std::string::npos) << status.out;
  RunResult repaired = run({"repair", "--mark-applied", "3"});
  EXPECT_EQ(repaired.code, 0) << repaired.err;
  EXPECT_EQ(run({"up"}).code, 0);
}

TEST_P(SafetyCli, DownTargetBaseAndMissingDownFile) {
  add("0001_a.up.sql", "CREATE TABLE a (id INTEGER);\n");
  add("0001_a.down.sql", "DROP TABLE a;\n");
  add("0002_b.up.sql", "CREATE TABLE b (id INTEGER);\n");
  add("0002_b.down.sql", "DROP TABLE b;\n");
  ASSERT_EQ(run({"up"}).code, 0);
  // Version 0 is an ordinary version, not "everything": base is.
  expect_failure({"down", "--target", "0"}, 2, "use the target base");
  RunResult r = run({"down", "--target", "base"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Reverted 2 migrations"), std::string::npos) << r.out;
  ASSERT_EQ(run({"up"}).code, 0);
  fs::remove(migrations() / "0002_b.down.sql");
  fs::rename(migrations() / "0002_b.up.sql", migrations() / "0002_b.sql");
  expect_failure({"down", "--target", "base"}, 2, "0002_b.sql has no down migration");
}

TEST_P(SafetyCli, InvalidTargets) {
  base();
  expect_failure({"up", "--target", "99"}, 2, "target version 99");
  expect_failure({"up", "--target", "abc"}, 2, "unknown target 'abc'");
  expect_failure({"down", "--target", "77"}, 2, "target version 77");
}

TEST_P(SafetyCli, BrokenSources) {
  base();
  add("0003_bad name.sql", "SELECT 1;");
  expect_failure({"up"}, 4, "0003_bad name.sql");
  fs::remove(migrations() / "0003_bad name.sql");

  add("0003_c.sql", "SELECT 1;");
  add("03_d.sql", "SELECT 1;");
  expect_failure({"up"}, 4, "claimed twice");
  fs::remove(migrations() / "03_d.sql");
  fs::remove(migrations() / "0003_c.sql");

  add("0003_c.sql", "SELECT '\xc3\x28';");
  expect_failure({"up"}, 4, "not valid UTF-8");
  fs::remove(migrations() / "0003_c.sql");

  fs::create_symlink(migrations() / "gone.sql", migrations() / "0003_c.sql");
  expect_failure({"up"}, 4, "cannot be read");
  fs::remove(migrations() / "0003_c.sql");

  expect_failure({"up", "-s", "nowhere"}, 4, "does not exist");
  fs::create_directories(dir() / "empty");
  expect_failure({"up", "-s", "empty"}, 4, "no migration files");

  add("0003_c.sql", "SELECT 'unterminated;\n");
  expect_failure({"up"}, 4, "0003_c.sql:1");
}

TEST_P(SafetyCli, LockTimeoutExitCode) {
  base();
  add("0003_c.sql", "CREATE TABLE c (id INTEGER);\n");
  // Another migrator holds the lock (taken here exactly as strata takes it).
  auto holder = db().connect();
  MigrationLock held(*holder, HistoryOptions{}, LockOptions{});
  expect_failure({"up", "--lock-timeout", "0.3"}, 10, "lock");
  expect_failure({"up", "--lock-timeout", "0.3", "--lock-mode", "poll"}, 10, "lock");
}

STRATA_INSTANTIATE_ENGINES(SafetyCli);

TEST(SafetyCliNoEngine, UnreachableServerWithPasswordNeverPrintsIt) {
  test::TestDatabase scratch(Engine::sqlite);
  for (auto url : {"postgresql://app:hunter2@127.0.0.1:1/app", "postgres://app:hunter2@127.0.0.1:1/app?sslmode=disable",
                   "host=127.0.0.1 port=1 user=app password=hunter2 dbname=app"}) {
    for (auto cmd : {"up", "status", "validate"}) {
      RunResult r = test::run_strata(scratch.dir(), {cmd, "-d", url, "--json"});
      EXPECT_EQ(r.code, 5) << url << " " << r.err;
      EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
      EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
    }
  }
}

TEST(SafetyCliNoEngine, WrongPasswordIsAConnectionErrorWithoutThePassword) {
  const char* base = std::getenv("STRATA_TEST_POSTGRES_PASSWORD_URL");
  ASSERT_NE(base, nullptr) << "STRATA_TEST_POSTGRES_PASSWORD_URL is not set (run under scripts/with-postgres)";
  std::string url = with_password(base, "wrong-secret-42");
  test::TestDatabase scratch(Engine::sqlite);
  test::write_file(scratch.dir() / "migrations" / "0001_a.sql", "SELECT 1;");
  RunResult r = test::run_strata(scratch.dir(), {"up", "-d", url});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_EQ(r.err.find("wrong-secret-42"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("password"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata
