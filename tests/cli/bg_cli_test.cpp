// strata bg through the real binary, on SQLite and PostgreSQL: a migration
// queues work with a plain INSERT, `bg run` is SIGKILLed mid-way and resumed,
// and every row is processed exactly once; status, blocked runs and errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <random>
#include <thread>

#include "strata/connection.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::RunResult;
using namespace std::chrono_literals;

class BgCli : public test::MigrationsTest {
 protected:
  std::vector<std::string> with_db(std::vector<std::string> args) {
    args.insert(args.begin() + (args.size() > 1 && args[0] == "bg" ? 2 : 1), {"-d", db().url()});
    return args;
  }
  RunResult run(std::vector<std::string> args) { return test::run_strata(dir(), with_db(std::move(args))); }
  std::int64_t count(Connection& c, const std::string& sql) { return c.query(sql).rows.at(0).get<std::int64_t>(0); }

  // A migration creating t(id, y, x, n) with `rows` rows, and one queueing
  // the backfill x = y * 2 (counting each visit of a row in n) and an index
  // on x that waits for it.
  void queue_backfill_and_index(std::int64_t rows) {
    std::string r = std::to_string(rows);
    add("0001_t.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, y INTEGER NOT NULL, x INTEGER, n INTEGER NOT NULL DEFAULT 0);\n"
        "-- only: sqlite\n"
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < " + r + ") "
        "INSERT INTO t (id, y) SELECT i, i % 1000 FROM s;\n"
        "-- only: postgres\n"
        "INSERT INTO t (id, y) SELECT i, i % 1000 FROM generate_series(1, " + r + ") AS s(i);\n");
    add("0002_queue.sql",
        "INSERT INTO strata_background_updates (update_name, handler, progress_json, ordering)\n"
        "VALUES ('t_backfill_x', 'strata.sql_batches',\n"
        "        '{\"table\": \"t\", \"key\": \"id\", \"sql\": \"UPDATE t SET x = y * 2, n = n + 1 WHERE id > $1 AND id <= $2\"}', 1);\n"
        "INSERT INTO strata_background_updates (update_name, handler, progress_json, depends_on, ordering)\n"
        "VALUES ('t_x_idx', 'strata.create_index', '{\"table\": \"t\", \"index\": \"t_x_idx\", \"columns\": [\"x\"]}',\n"
        "        't_backfill_x', 2);\n");
    RunResult up = run({"up"});
    ASSERT_EQ(up.code, 0) << up.err;
  }
  // The backfill's items done, or -1 once it left the queue.
  std::int64_t items_done(Connection& c) {
    auto rows = c.query("SELECT items_done FROM strata_background_updates WHERE update_name = 't_backfill_x'").rows;
    return rows.empty() ? -1 : rows.at(0).get<std::int64_t>(0);
  }
  // The backfill's progress "last" (0 before its first batch, -1 once gone).
  std::int64_t last_key(Connection& c) {
    auto rows = c.query("SELECT progress_json FROM strata_background_updates WHERE update_name = 't_backfill_x'").rows;
    if (rows.empty()) return -1;
    return nlohmann::json::parse(rows.at(0).get<std::string>(0)).value("last", std::int64_t{0});
  }
  bool index_valid(Connection& c) {
    if (engine() == Engine::sqlite) {
      return count(c, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 't_x_idx'") == 1;
    }
    auto rows = c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_x_idx')").rows;
    return !rows.empty() && rows.at(0).get<bool>(0);
  }
  void expect_all_rows_done_once(Connection& c, std::int64_t rows) {
    EXPECT_EQ(count(c, "SELECT count(*) FROM t WHERE n = 1 AND x = y * 2"), rows);
    EXPECT_EQ(count(c, "SELECT count(*) FROM t WHERE n <> 1 OR x IS NULL"), 0);
  }
};

// The issue's acceptance scenario.
TEST_P(BgCli, AQueuedBackfillAndIndexSurviveTwoKillsAndComplete) {
  constexpr std::int64_t rows = 1'000'000;
  queue_backfill_and_index(rows);
  auto c = db().connect();
  ASSERT_EQ(items_done(*c), 0);
  for (int kill = 1; kill <= 2; ++kill) {
    const std::int64_t before = items_done(*c);
    // A short pause between batches keeps the run going past the kill even
    // on a machine fast enough to finish 1M rows in well under a second.
    test::Process p(STRATA_BINARY, with_db({"bg", "run", "--max-batch", "20000", "--pause-ms", "10"}), dir());
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (items_done(*c) <= before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    std::this_thread::sleep_for(50ms);  // a batch committed; let its progress line be written, then kill
    p.kill(SIGKILL);
    RunResult r = p.wait();
    EXPECT_EQ(r.code, -SIGKILL) << "kill " << kill << " came too late: " << r.out << r.err;
    const std::int64_t after = items_done(*c);
    EXPECT_GT(after, before) << "kill " << kill;
    EXPECT_LT(after, rows) << "kill " << kill << " was not mid-way";
    EXPECT_NE(r.out.find("t_backfill_x: "), std::string::npos) << "no progress shown: " << r.out;
    // Exactly the rows up to the recorded key were visited, each once.
    const std::int64_t last = last_key(*c);
    EXPECT_EQ(count(*c, "SELECT count(*) FROM t WHERE n = 1 AND id <= " + std::to_string(last)), last);
    EXPECT_EQ(count(*c, "SELECT count(*) FROM t WHERE n <> 0 AND id > " + std::to_string(last)), 0);
  }
  RunResult done = run({"bg", "run"});
  ASSERT_EQ(done.code, 0) << done.out << done.err;
  EXPECT_NE(done.out.find("t_backfill_x: completed: 1000000 items"), std::string::npos) << done.out;
  EXPECT_NE(done.out.find("t_x_idx: completed"), std::string::npos) << done.out;
  EXPECT_NE(done.out.find("The queue is empty."), std::string::npos) << done.out;

  expect_all_rows_done_once(*c, rows);
  EXPECT_TRUE(index_valid(*c));
  RunResult status = run({"bg", "status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  EXPECT_TRUE(j["queue"].empty()) << status.out;
  ASSERT_EQ(j["recently_completed"].size(), 2u) << status.out;
  EXPECT_EQ(j["recently_completed"][0]["name"], "t_x_idx");
  EXPECT_EQ(j["recently_completed"][1]["items"], rows);
}

TEST_P(BgCli, RandomKillsNeverLoseOrRepeatABatch) {
  constexpr std::int64_t rows = 100'000;
  queue_backfill_and_index(rows);
  auto c = db().connect();
  std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
  int kills = 0;
  for (int round = 0; round < 6 && items_done(*c) >= 0; ++round) {
    // The pause between batches makes a run last well past the kill window
    // however fast the machine is (100,000 rows / 1,500 per batch x 20 ms).
    test::Process p(STRATA_BINARY,
                    with_db({"bg", "run", "--max-batch", "1500", "--target-ms", "20", "--pause-ms", "20"}), dir());
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(40, 300)(rng)));
    p.kill(SIGKILL);
    if (p.wait().code == -SIGKILL) ++kills;
    const std::int64_t last = last_key(*c);
    if (last < 0) break;
    EXPECT_EQ(count(*c, "SELECT count(*) FROM t WHERE n = 1 AND id <= " + std::to_string(last)), last)
        << "round " << round;
    EXPECT_EQ(count(*c, "SELECT count(*) FROM t WHERE n <> 1 AND id <= " + std::to_string(last)), 0)
        << "round " << round;
    EXPECT_EQ(count(*c, "SELECT count(*) FROM t WHERE n <> 0 AND id > " + std::to_string(last)), 0)
        << "round " << round;
  }
  EXPECT_GT(kills, 0);
  RunResult done = run({"bg", "run"});
  ASSERT_EQ(done.code, 0) << done.err;
  expect_all_rows_done_once(*c, rows);
  EXPECT_TRUE(index_valid(*c));
}

TEST_P(BgCli, StatusShowsProgressRateAndTimeLeft) {
  queue_backfill_and_index(200'000);
  RunResult empty_run = run({"bg", "status"});
  EXPECT_NE(empty_run.out.find("not started"), std::string::npos) << empty_run.out;
  // 200 batches with a 20 ms pause each cannot finish within the 0.3 s budget
  // on any machine, so the run always stops part-way.
  RunResult part =
      run({"bg", "run", "--budget", "0.3", "--max-batch", "1000", "--target-ms", "10", "--pause-ms", "20"});
  ASSERT_EQ(part.code, 0) << part.err;
  EXPECT_NE(part.out.find("The time budget is used up"), std::string::npos) << part.out;

  RunResult status = run({"bg", "status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  ASSERT_EQ(j["queue"].size(), 2u) << status.out;
  const auto& backfill = j["queue"][0];
  EXPECT_EQ(backfill["name"], "t_backfill_x");
  EXPECT_EQ(backfill["handler"], "strata.sql_batches");
  EXPECT_EQ(backfill["state"], "runnable");
  EXPECT_GT(backfill["items_done"].get<std::int64_t>(), 0);
  EXPECT_EQ(backfill["total_items"], 200000);
  EXPECT_GT(backfill["percent"].get<double>(), 0.0);
  EXPECT_LT(backfill["percent"].get<double>(), 100.0);
  EXPECT_GT(backfill["rate_per_second"].get<double>(), 0.0);
  EXPECT_FALSE(backfill["eta_seconds"].is_null());
  EXPECT_EQ(backfill["progress"]["table"], "t");
  EXPECT_EQ(j["queue"][1]["state"], "waiting");
  EXPECT_EQ(j["queue"][1]["depends_on"], "t_backfill_x");

  RunResult text = run({"bg", "status"});
  ASSERT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("/200000 ("), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("waiting for t_backfill_x"), std::string::npos) << text.out;

  RunResult json_run = run({"bg", "run", "--json"});
  ASSERT_EQ(json_run.code, 0) << json_run.err;
  auto summary = nlohmann::json::parse(json_run.out);
  EXPECT_EQ(summary["remaining"], 0);
  EXPECT_EQ(summary["completed"], (nlohmann::json{"t_backfill_x", "t_x_idx"}));
  EXPECT_FALSE(summary["trace"].empty());
  EXPECT_GT(summary["trace"][0]["batch_size"].get<std::int64_t>(), 0);
}

TEST_P(BgCli, UpdatesWhoseHandlerLivesInTheApplicationAreNamedAndBlockTheRun) {
  add("0001_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL DEFAULT 0);\n"
                    "INSERT INTO t (id) VALUES (1), (2), (3);\n"
                    "INSERT INTO strata_background_updates (update_name, progress_json, ordering)\n"
                    "VALUES ('users_fill_search', '{}', 1);\n"
                    "INSERT INTO strata_background_updates (update_name, handler, progress_json, ordering)\n"
                    "VALUES ('t_bump', 'strata.sql_batches',\n"
                    "        '{\"table\": \"t\", \"sql\": \"UPDATE t SET v = v + 1 WHERE id > $1 AND id <= $2\"}', 2);\n");
  ASSERT_EQ(run({"up"}).code, 0);
  RunResult status = run({"bg", "status"});
  EXPECT_NE(status.out.find("runnable by the application"), std::string::npos) << status.out;
  RunResult r = run({"bg", "run"});
  EXPECT_EQ(r.code, 12) << r.out << r.err;
  EXPECT_NE(r.out.find("cannot run 'users_fill_search' here"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("'users_fill_search'"), std::string::npos) << r.err;
  auto c = db().connect();
  EXPECT_EQ(count(*c, "SELECT count(*) FROM t WHERE v = 1"), 3);  // the built-in one ran
  RunResult json = run({"bg", "run", "--json"});
  EXPECT_EQ(json.code, 12);
  EXPECT_EQ(nlohmann::json::parse(json.out)["error"]["kind"], "blocked") << json.out;
}

TEST_P(BgCli, ADependencyCycleFailsBeforeRunningAnything) {
  add("0001_q.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY);\n"
                    "INSERT INTO strata_background_updates (update_name, handler, progress_json, depends_on)\n"
                    "VALUES ('a', 'strata.sql_batches', '{\"table\": \"t\", \"sql\": \"DELETE FROM t WHERE id > $1 AND id <= $2\"}', 'b'),\n"
                    "       ('b', 'strata.sql_batches', '{\"table\": \"t\", \"sql\": \"DELETE FROM t WHERE id > $1 AND id <= $2\"}', 'a'),\n"
                    "       ('c', 'strata.sql_batches', '{\"table\": \"t\", \"sql\": \"DELETE FROM t WHERE id > $1 AND id <= $2\"}', 'gone');\n");
  ASSERT_EQ(run({"up"}).code, 0);
  RunResult r = run({"bg", "run"});
  EXPECT_EQ(r.code, 7) << r.out << r.err;
  EXPECT_NE(r.err.find("dependency cycle: a -> b -> a"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'c' depends on 'gone', which is neither queued nor completed"), std::string::npos) << r.err;
  RunResult status = run({"bg", "status"});
  EXPECT_EQ(status.code, 0);
  EXPECT_NE(status.out.find("ERROR: dependency cycle"), std::string::npos) << status.out;
}

TEST_P(BgCli, OnATerminalProgressIsABarRedrawnInPlace) {
  queue_backfill_and_index(50'000);
  // script(1) (util-linux) gives the command a pseudo-terminal for stdout.
  std::string command = std::string(STRATA_BINARY) + " bg run -d '" + db().url() + "' --max-batch 2000";
  test::Process p("/usr/bin/script", {"-qec", command, "/dev/null"}, dir());
  RunResult r = p.wait();
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\r\x1b[2Kt_backfill_x ["), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("t_backfill_x: completed: 50000 items"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("batch of"), std::string::npos) << "log lines on a terminal: " << r.out;
}

TEST_P(BgCli, NoQueueYetIsNotAnError) {
  RunResult status = run({"bg", "status"});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("does not exist yet"), std::string::npos) << status.out;
  RunResult r = run({"bg", "run"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("The queue is empty."), std::string::npos) << r.out;
}

STRATA_INSTANTIATE_ENGINES(BgCli);

}  // namespace
}  // namespace strata
