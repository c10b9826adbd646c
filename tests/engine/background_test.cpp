// Background updates through the library, each on SQLite and PostgreSQL:
// the queue, handlers and their transactions, dependency order and errors,
// batch sizing, budgets and the background thread, and the built-ins.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include "strata/background.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/source.hpp"
#include "strata/transaction.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using test::error_from;

using namespace std::chrono_literals;

class BackgroundTest : public test::EngineTest {
 protected:
  void SetUp() override {
    test::EngineTest::SetUp();
    c_ = db().connect();
    BackgroundQueue(*c_).ensure();
  }
  void TearDown() override {
    c_.reset();
    test::EngineTest::TearDown();
  }
  Connection& c() { return *c_; }
  BackgroundQueue queue() { return BackgroundQueue(*c_); }

  // t(id, y, x, n): ids 1..rows, y = id % 1000, x NULL, n (a per-row counter) 0.
  void make_rows(std::int64_t rows) {
    c().execute("CREATE TABLE t (id INTEGER PRIMARY KEY, y INTEGER NOT NULL, x INTEGER, n INTEGER NOT NULL DEFAULT 0)");
    if (engine() == Engine::sqlite) {
      c().execute("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $1) "
                  "INSERT INTO t (id, y) SELECT i, i % 1000 FROM s",
                  {rows});
    } else {
      c().execute("INSERT INTO t (id, y) SELECT i, i % 1000 FROM generate_series(1, $1::bigint) AS s(i)", {rows});
    }
  }
  std::int64_t count(const std::string& sql) { return c().query(sql).rows.at(0).get<std::int64_t>(0); }
  void enqueue(std::string name, std::string handler = "", std::string progress = "{}",
               std::optional<std::string> depends_on = std::nullopt, std::int64_t ordering = 0) {
    queue().enqueue(NewUpdate{std::move(name), std::move(handler), std::move(progress), std::move(depends_on), ordering});
  }
  std::vector<std::string> queued() {
    std::vector<std::string> out;
    for (const auto& u : queue().list()) out.push_back(u.name);
    return out;
  }
  std::vector<std::string> logged() {
    std::vector<std::string> out;
    for (const auto& u : queue().completed()) out.push_back(u.name);
    std::sort(out.begin(), out.end());
    return out;
  }
  bool index_valid(const std::string& index) {
    if (engine() == Engine::sqlite) {
      return count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '" + index + "'") == 1;
    }
    auto rows = c().query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", {index}).rows;
    return !rows.empty() && rows.at(0).get<bool>(0);
  }

  // A handler doing one item per batch, done after `batches`, recording its name.
  BatchHandler step(std::vector<std::string>& order, std::string name, int batches = 1) {
    return [&order, name, batches](Connection&, std::string_view progress, std::int64_t) {
      order.push_back(name);
      int done = progress == "{}" ? 1 : std::stoi(std::string(progress)) + 1;
      return BatchResult{1, std::to_string(done), done >= batches, batches};
    };
  }

 private:
  std::unique_ptr<Connection> c_;
};

TEST_P(BackgroundTest, BackfillOfAMillionRowsCompletes) {
  constexpr std::int64_t rows = 1'000'000;
  make_rows(rows);
  enqueue("t_backfill", std::string(builtin_handler::sql_batches),
          R"({"table": "t", "key": "id", "sql": "UPDATE t SET x = y * 2, n = n + 1 WHERE id > $1 AND id <= $2"})");
  RunnerOptions options;
  std::vector<BatchReport> trace;
  options.on_batch = [&](const BatchReport& b) { trace.push_back(b); };
  BackgroundRunner runner(c(), options);
  const auto start = std::chrono::steady_clock::now();
  RunSummary summary = runner.run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  EXPECT_EQ(summary.completed, std::vector<std::string>{"t_backfill"});
  EXPECT_EQ(summary.items, rows);
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE x = y * 2 AND n = 1"), rows);
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE x IS NULL OR n <> 1"), 0);
  EXPECT_TRUE(queued().empty());
  auto log = queue().completed();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].items, rows);
  EXPECT_EQ(log[0].batches, summary.batches);
  ASSERT_FALSE(trace.empty());
  EXPECT_EQ(trace.front().batch_size, 100);  // the initial size ...
  EXPECT_GT(std::max_element(trace.begin(), trace.end(), [](auto& a, auto& b) { return a.batch_size < b.batch_size; })
                ->batch_size,
            1000);  // ... grown from measured throughput
  EXPECT_EQ(trace.back().total_items, rows);
  std::cout << "[          ] " << to_string(engine()) << ": " << rows << " rows in " << summary.batches
            << " batches, " << seconds << " s (" << static_cast<std::int64_t>(rows / seconds) << " rows/s)\n";
}

TEST_P(BackgroundTest, ABatchAndItsProgressCommitTogether) {
  c().execute("CREATE TABLE items (k INTEGER NOT NULL)");
  enqueue("fill");
  int fail_at = 3;
  int calls = 0;
  auto handler = [&](Connection& conn, std::string_view progress, std::int64_t) {
    ++calls;
    std::int64_t next = progress == "{}" ? 0 : std::stoll(std::string(progress));
    // Ten rows per batch, then (in the failing batch) an exception after the writes.
    for (int i = 0; i < 10; ++i) conn.execute("INSERT INTO items (k) VALUES ($1)", {next + i});
    if (calls == fail_at) throw std::runtime_error("disk on fire");
    return BatchResult{10, std::to_string(next + 10), next + 10 >= 50, 50};
  };
  {
    BackgroundRunner runner(c());
    runner.add_handler("fill", handler);
    Error e = error_from([&] { runner.run(); });
    EXPECT_EQ(e.kind(), ErrorKind::sql);
    EXPECT_NE(std::string(e.what()).find("fill"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("disk on fire"), std::string::npos) << e.what();
  }
  // Two batches committed with their progress; the third left no trace.
  EXPECT_EQ(count("SELECT count(*) FROM items"), 20);
  auto q = queue().list();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].progress, "20");
  EXPECT_EQ(q[0].items_done, 20);
  EXPECT_EQ(q[0].batches, 2);

  fail_at = -1;
  BackgroundRunner again(c());
  again.add_handler("fill", handler);
  EXPECT_EQ(again.run().completed, std::vector<std::string>{"fill"});
  EXPECT_EQ(count("SELECT count(*) FROM items"), 50);
  EXPECT_EQ(count("SELECT count(DISTINCT k) FROM items"), 50);
  EXPECT_TRUE(queued().empty());
}

TEST_P(BackgroundTest, RunsByOrderingThenNameAfterDependencies) {
  std::vector<std::string> order;
  // b (ordering 1) waits for a (ordering 5); c and C (ordering 2) are free.
  enqueue("b", "", "{}", "a", 1);
  enqueue("c", "", "{}", std::nullopt, 2);
  enqueue("C", "", "{}", std::nullopt, 2);
  enqueue("a", "", "{}", std::nullopt, 5);
  BackgroundRunner runner(c());
  for (const char* n : {"a", "b", "c", "C"}) runner.add_handler(n, step(order, n, 2));
  auto states = queue().list();
  ASSERT_EQ(states.size(), 4u);
  EXPECT_EQ(states[0].name, "b");
  EXPECT_EQ(states[0].state, UpdateState::waiting);
  EXPECT_EQ(states[1].name, "C");  // byte order: 'C' < 'c', on both engines
  EXPECT_EQ(states[1].state, UpdateState::runnable);

  RunSummary s = runner.run();
  EXPECT_EQ(order, (std::vector<std::string>{"C", "C", "c", "c", "a", "a", "b", "b"}));
  EXPECT_EQ(s.completed, (std::vector<std::string>{"C", "c", "a", "b"}));
  EXPECT_FALSE(s.is_blocked());

  // A dependency on a completed update (in the log) is satisfied.
  enqueue("d", "", "{}", "a");
  order.clear();
  runner.add_handler("d", step(order, "d"));
  EXPECT_EQ(queue().list().at(0).state, UpdateState::runnable);
  EXPECT_EQ(runner.run().completed, std::vector<std::string>{"d"});
}

TEST_P(BackgroundTest, ADependencyCycleIsAClearErrorAndNothingRuns) {
  std::vector<std::string> order;
  enqueue("free", "", "{}", std::nullopt, 0);
  enqueue("a", "", "{}", "b", 1);
  enqueue("b", "", "{}", "c", 1);
  enqueue("c", "", "{}", "a", 1);
  enqueue("self", "", "{}", "self", 1);
  BackgroundRunner runner(c());
  for (const char* n : {"free", "a", "b", "c", "self"}) runner.add_handler(n, step(order, n));
  Error e = error_from([&] { runner.run(); });
  EXPECT_EQ(e.kind(), ErrorKind::validation);
  std::string what = e.what();
  EXPECT_NE(what.find("dependency cycle: a -> b -> c -> a"), std::string::npos) << what;
  EXPECT_NE(what.find("dependency cycle: self -> self"), std::string::npos) << what;
  EXPECT_TRUE(order.empty()) << "ran " << order.front();
  for (const auto& u : queue().list()) {
    EXPECT_EQ(u.state, u.name == "free" ? UpdateState::runnable : UpdateState::cycle) << u.name;
  }
}

TEST_P(BackgroundTest, AnUnknownDependencyIsAClearError) {
  std::vector<std::string> order;
  enqueue("a");
  enqueue("b", "", "{}", "never_queued");
  BackgroundRunner runner(c());
  runner.add_handler("a", step(order, "a"));
  runner.add_handler("b", step(order, "b"));
  Error e = error_from([&] { runner.run(); });
  EXPECT_EQ(e.kind(), ErrorKind::validation);
  EXPECT_NE(std::string(e.what()).find("'b' depends on 'never_queued', which is neither queued nor completed"),
            std::string::npos)
      << e.what();
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(queue().list().at(1).state, UpdateState::unknown_dependency);
}

TEST_P(BackgroundTest, UpdatesWithoutAHandlerHereAreNamedAndBlockTheirDependents) {
  make_rows(100);
  enqueue("app_only", "", "{}", std::nullopt, 1);
  enqueue("after_app", std::string(builtin_handler::sql_batches),
          R"({"table": "t", "sql": "UPDATE t SET n = n + 1 WHERE id > $1 AND id <= $2"})", "app_only", 2);
  enqueue("builtin", std::string(builtin_handler::sql_batches),
          R"({"table": "t", "sql": "UPDATE t SET x = y WHERE id > $1 AND id <= $2"})", std::nullopt, 3);
  std::vector<std::string> missing;
  RunnerOptions options;
  options.on_missing_handler = [&](const QueuedUpdate& u) { missing.push_back(u.name); };
  BackgroundRunner runner(c(), options);
  EXPECT_FALSE(runner.has_handler("app_only"));
  EXPECT_TRUE(runner.has_handler(builtin_handler::create_index));
  RunSummary s = runner.run();
  EXPECT_EQ(s.completed, std::vector<std::string>{"builtin"});
  EXPECT_EQ(s.missing_handler, std::vector<std::string>{"app_only"});
  EXPECT_EQ(s.blocked, std::vector<std::string>{"after_app"});
  EXPECT_EQ(missing, std::vector<std::string>{"app_only"});  // announced once
  EXPECT_TRUE(s.is_blocked());
  Error e = error_from([&] { s.throw_if_blocked(); });
  EXPECT_EQ(e.kind(), ErrorKind::blocked);
  EXPECT_NE(std::string(e.what()).find("'app_only'"), std::string::npos) << e.what();
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE x = y"), 100);
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE n <> 0"), 0);
  EXPECT_THROW(runner.add_handler(std::string(builtin_handler::sql_batches), step(missing, "x")), Error);
}

TEST_P(BackgroundTest, BatchSizesAdaptTowardTheTargetDuration) {
  enqueue("slow");
  std::vector<BatchReport> trace;
  RunnerOptions options;
  options.target_duration = 40ms;
  options.on_batch = [&](const BatchReport& b) { trace.push_back(b); };
  BackgroundRunner runner(c(), options);
  // 40 µs per item: 1000 items fill the 40 ms target.
  runner.add_handler("slow", [](Connection&, std::string_view, std::int64_t size) {
    std::this_thread::sleep_for(std::chrono::microseconds(40) * size);
    return BatchResult{size, "{}", false, std::nullopt};
  });
  runner.run({.max_batches = 25});
  ASSERT_EQ(trace.size(), 25u);
  EXPECT_EQ(trace[0].batch_size, 100);
  EXPECT_LE(trace[1].batch_size, 400);  // growth is capped at 4x a batch
  std::vector<std::int64_t> tail;
  for (std::size_t i = 15; i < trace.size(); ++i) tail.push_back(trace[i].batch_size);
  std::sort(tail.begin(), tail.end());
  std::int64_t median = tail[tail.size() / 2];
  EXPECT_GT(median, 500) << "batch sizes did not grow toward the target";
  EXPECT_LE(median, 1100) << "batch sizes overshot the target";

  // Bounds hold whatever the throughput.
  enqueue("fast");
  trace.clear();
  options.min_batch_size = 7;
  options.max_batch_size = 300;
  BackgroundRunner bounded(c(), options);
  bounded.add_handler("fast", [](Connection&, std::string_view progress, std::int64_t size) {
    int n = progress == "{}" ? 1 : std::stoi(std::string(progress)) + 1;
    return BatchResult{size, std::to_string(n), n >= 6, std::nullopt};
  });
  bounded.add_handler("slow", [](Connection&, std::string_view, std::int64_t size) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // far over target at any size
    return BatchResult{size, "{}", false, std::nullopt};
  });
  bounded.run({.max_batches = 12});
  ASSERT_EQ(trace.size(), 12u);
  EXPECT_EQ(trace[5].update, "fast");
  EXPECT_EQ(trace[5].batch_size, 300);
  EXPECT_EQ(trace[11].update, "slow");
  EXPECT_EQ(trace[11].batch_size, 7);
  for (const auto& b : trace) {
    EXPECT_GE(b.batch_size, 7) << b.update;
    EXPECT_LE(b.batch_size, 300) << b.update;
  }
  EXPECT_THROW(BackgroundRunner(c(), RunnerOptions{.min_batch_size = 0}), Error);
}

TEST_P(BackgroundTest, AnUpdateThatRanBeforeResumesAtItsMeasuredPace) {
  make_rows(20000);
  enqueue("t_backfill", std::string(builtin_handler::sql_batches),
          R"({"table": "t", "sql": "UPDATE t SET n = n + 1 WHERE id > $1 AND id <= $2"})");
  std::vector<BatchReport> trace;
  RunnerOptions options;
  options.max_batch_size = 2000;
  options.on_batch = [&](const BatchReport& b) { trace.push_back(b); };
  BackgroundRunner(c(), options).run({.max_batches = 6});
  ASSERT_EQ(trace.size(), 6u);
  auto before = queue().list().at(0);
  ASSERT_TRUE(before.rate());
  trace.clear();
  BackgroundRunner(c(), options).run();
  ASSERT_FALSE(trace.empty());
  EXPECT_GT(trace.front().batch_size, 100) << "started over from the initial size";
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE n = 1"), 20000);
}

TEST_P(BackgroundTest, ATimeBudgetStopsBetweenBatchesAndTheNextRunContinues) {
  enqueue("ticks");
  std::atomic<int> calls{0};
  auto handler = [&](Connection&, std::string_view progress, std::int64_t) {
    ++calls;
    std::this_thread::sleep_for(10ms);
    int n = progress == "{}" ? 1 : std::stoi(std::string(progress)) + 1;
    return BatchResult{1, std::to_string(n), n >= 40, 40};
  };
  BackgroundRunner runner(c());
  runner.add_handler("ticks", handler);
  RunSummary first = runner.run({.budget = 100ms});
  EXPECT_TRUE(first.budget_exhausted);
  EXPECT_GE(first.batches, 3);
  EXPECT_LT(first.batches, 40);
  auto q = queue().list();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].batches, first.batches);
  EXPECT_EQ(q[0].progress, std::to_string(first.batches));
  ASSERT_TRUE(q[0].percent());
  ASSERT_TRUE(q[0].eta());

  RunSummary rest = runner.run();
  EXPECT_EQ(first.batches + rest.batches, 40);
  EXPECT_EQ(calls.load(), 40);
  EXPECT_EQ(rest.completed, std::vector<std::string>{"ticks"});
}

TEST_P(BackgroundTest, ABackgroundThreadStopsCleanlyBetweenBatches) {
  c().execute("CREATE TABLE items (k INTEGER NOT NULL)");
  enqueue("forever");
  BackgroundThread worker(db().connect());
  worker.runner().add_handler("forever", [](Connection& conn, std::string_view progress, std::int64_t) {
    std::int64_t next = progress == "{}" ? 0 : std::stoll(std::string(progress));
    conn.execute("INSERT INTO items (k) VALUES ($1)", {next});
    std::this_thread::sleep_for(5ms);
    return BatchResult{1, std::to_string(next + 1), false, std::nullopt};
  });
  worker.start();
  std::this_thread::sleep_for(150ms);
  EXPECT_TRUE(worker.running());
  RunSummary s = worker.stop();
  EXPECT_FALSE(worker.running());
  EXPECT_TRUE(s.stopped);
  EXPECT_GT(s.batches, 0);
  // Every batch that ran committed whole, with its progress.
  auto q = queue().list();
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].batches, s.batches);
  EXPECT_EQ(count("SELECT count(*) FROM items"), s.batches);
  EXPECT_EQ(q[0].progress, std::to_string(s.batches));
}

TEST_P(BackgroundTest, ABackgroundThreadRethrowsItsError) {
  enqueue("broken");
  BackgroundThread worker(db().connect());
  worker.runner().add_handler("broken", [](Connection& conn, std::string_view, std::int64_t) -> BatchResult {
    conn.execute("SELECT * FROM no_such_table");
    return {};
  });
  worker.start();
  Error e = error_from([&] { worker.wait(); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_NE(std::string(e.what()).find("background update 'broken'"), std::string::npos) << e.what();
}

TEST_P(BackgroundTest, TwoRunnersAtOnceNeverRepeatABatch) {
  constexpr std::int64_t rows = 60000;
  make_rows(rows);
  enqueue("t_count", std::string(builtin_handler::sql_batches),
          R"({"table": "t", "sql": "UPDATE t SET n = n + 1 WHERE id > $1 AND id <= $2"})");
  RunnerOptions options;
  options.max_batch_size = 500;
  std::atomic<std::int64_t> batches{0};
  auto work = [&] {
    auto conn = db().connect();
    BackgroundRunner runner(*conn, options);
    batches += runner.run().batches;
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE n = 1"), rows);
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE n <> 1"), 0);
  EXPECT_EQ(queue().completed().at(0).batches, batches.load());
}

TEST_P(BackgroundTest, TwoRunnersBuildAnIndexOnce) {
  // On PostgreSQL one builds CONCURRENTLY while the other polls for the
  // update's advisory lock without holding a snapshot the build would wait for.
  make_rows(300000);
  enqueue("t_y_idx", std::string(builtin_handler::create_index), R"({"table": "t", "index": "t_y_idx", "columns": ["y"]})");
  std::atomic<std::int64_t> batches{0};
  std::atomic<int> failures{0};
  auto work = [&] {
    try {
      auto conn = db().connect();
      batches += BackgroundRunner(*conn).run().batches;
    } catch (const std::exception& e) {
      ++failures;
      ADD_FAILURE() << e.what();
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(batches.load(), 1);
  EXPECT_TRUE(index_valid("t_y_idx"));
  EXPECT_EQ(logged(), std::vector<std::string>{"t_y_idx"});
}

TEST_P(BackgroundTest, SqlBatchesHandlesSparseKeysAnExplicitRangeAndAnEmptyTable) {
  c().execute("CREATE TABLE s (k INTEGER PRIMARY KEY, v INTEGER NOT NULL DEFAULT 0)");
  for (std::int64_t k : {-5, 3, 4, 1000, 1001, 50000, 90000}) c().execute("INSERT INTO s (k) VALUES ($1)", {k});
  enqueue("all", std::string(builtin_handler::sql_batches),
          R"({"table": "s", "key": "k", "sql": "UPDATE s SET v = v + 1 WHERE k > $1 AND k <= $2"})");
  enqueue("range", std::string(builtin_handler::sql_batches),
          R"({"table": "s", "key": "k", "last": 3, "max": 50000,
              "sql": "UPDATE s SET v = v + 10 WHERE k > $1 AND k <= $2"})");
  c().execute("CREATE TABLE empty (id INTEGER PRIMARY KEY)");
  enqueue("none", std::string(builtin_handler::sql_batches), R"({"table": "empty", "sql": "DELETE FROM empty WHERE id > $1 AND id <= $2"})");
  RunnerOptions options;
  options.max_batch_size = 2;
  BackgroundRunner(c(), options).run();
  auto v = c().query("SELECT k, v FROM s ORDER BY k").rows;
  std::vector<std::pair<std::int64_t, std::int64_t>> got;
  for (const auto& r : v) got.emplace_back(r.get<std::int64_t>(0), r.get<std::int64_t>(1));
  EXPECT_EQ(got, (std::vector<std::pair<std::int64_t, std::int64_t>>{
                     {-5, 1}, {3, 1}, {4, 11}, {1000, 11}, {1001, 11}, {50000, 11}, {90000, 1}}));
  EXPECT_EQ(logged(), (std::vector<std::string>{"all", "none", "range"}));
  for (const auto& u : queue().completed()) {
    if (u.name == "all") EXPECT_EQ(u.items, 7);
    if (u.name == "range") EXPECT_EQ(u.items, 4);
    if (u.name == "none") EXPECT_EQ(u.items, 0);
  }
}

TEST_P(BackgroundTest, BadProgressOrNamesAreClearErrors) {
  make_rows(10);
  auto run_one = [&](const std::string& progress) {
    for (const auto& u : queue().list()) c().execute("DELETE FROM strata_background_updates WHERE update_name = $1", {u.name});
    enqueue("bad", std::string(builtin_handler::sql_batches), progress);
    return error_from([&] { BackgroundRunner(c()).run(); });
  };
  EXPECT_NE(std::string(run_one(R"({"key": "id"})").what()).find("\"table\""), std::string::npos);
  Error injected = run_one(R"({"table": "t; DROP TABLE t", "sql": "UPDATE t SET n = 1 WHERE id > $1 AND id <= $2"})");
  EXPECT_EQ(injected.kind(), ErrorKind::config);
  EXPECT_EQ(count("SELECT count(*) FROM t"), 10);
  EXPECT_EQ(run_one(R"({"table": "t", "sql": "UPDATE t SET n = 1 WHERE id > $1"})").kind(), ErrorKind::usage);
  EXPECT_THROW(queue().enqueue(NewUpdate{"x", "", "{not json", std::nullopt, 0}), Error);
  EXPECT_EQ(error_from([&] { BackgroundQueue(c(), BackgroundTables{"", "bad name", "log"}); }).kind(), ErrorKind::config);
  EXPECT_EQ(error_from([&] { BackgroundQueue(c(), BackgroundTables{"", "same", "same"}); }).kind(), ErrorKind::config);
}

TEST_P(BackgroundTest, CreateIndexBuildsAValidIndex) {
  make_rows(5000);
  enqueue("t_y_idx", std::string(builtin_handler::create_index),
          R"({"table": "t", "index": "t_y_idx", "columns": ["y", "id"]})");
  enqueue("t_id_partial", std::string(builtin_handler::create_index),
          R"({"table": "t", "index": "t_id_partial", "columns": ["id"], "unique": true, "where": "y > 500"})");
  RunSummary s = BackgroundRunner(c()).run();
  EXPECT_EQ(s.completed.size(), 2u);
  EXPECT_TRUE(index_valid("t_y_idx"));
  EXPECT_TRUE(index_valid("t_id_partial"));
  if (engine() == Engine::postgres) {
    EXPECT_TRUE(c().query("SELECT indisunique FROM pg_index WHERE indexrelid = 't_id_partial'::regclass")
                    .rows.at(0)
                    .get<bool>(0));
  }
  // Queued again (the index already there): done without error.
  enqueue("t_y_idx_again", std::string(builtin_handler::create_index),
          R"({"table": "t", "index": "t_y_idx", "columns": ["y", "id"]})");
  EXPECT_EQ(BackgroundRunner(c()).run().completed, std::vector<std::string>{"t_y_idx_again"});
}

TEST_P(BackgroundTest, CreateIndexReplacesAnInvalidLeftover) {
  c().execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT NOT NULL)");
  c().execute("INSERT INTO u (id, email) VALUES (1, 'a'), (2, 'b'), (3, 'a')");
  std::int64_t leftover = 0;
  if (engine() == Engine::postgres) {
    // An interrupted or failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind.
    EXPECT_THROW(c().execute("CREATE UNIQUE INDEX CONCURRENTLY u_email_key ON u (email)"), Error);
    auto row = c().query("SELECT indexrelid::bigint, indisvalid FROM pg_index WHERE indexrelid = 'u_email_key'::regclass")
                   .rows.at(0);
    leftover = row.get<std::int64_t>(0);
    ASSERT_FALSE(row.get<bool>(1));
  }
  c().execute("DELETE FROM u WHERE id = 3");
  enqueue("u_email_key", std::string(builtin_handler::create_index),
          R"({"table": "u", "index": "u_email_key", "columns": ["email"], "unique": true})");
  EXPECT_EQ(BackgroundRunner(c()).run().completed, std::vector<std::string>{"u_email_key"});
  EXPECT_TRUE(index_valid("u_email_key"));
  EXPECT_THROW(c().execute("INSERT INTO u (id, email) VALUES (4, 'a')"), Error);
  if (engine() == Engine::postgres) {
    EXPECT_NE(c().query("SELECT 'u_email_key'::regclass::oid::bigint").rows.at(0).get<std::int64_t>(0), leftover);
    EXPECT_NE(queue().completed().at(0).progress.find("replaced an invalid leftover"), std::string::npos)
        << queue().completed().at(0).progress;
  }
}

TEST_P(BackgroundTest, ValidateConstraintOnPostgresAndAClearRefusalOnSqlite) {
  make_rows(1000);
  enqueue("t_y_check", std::string(builtin_handler::validate_constraint),
          R"({"table": "t", "constraint": "t_y_nonnegative"})");
  if (engine() == Engine::sqlite) {
    Error e = error_from([&] { BackgroundRunner(c()).run(); });
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("not offered on SQLite"), std::string::npos) << e.what();
    EXPECT_EQ(queued(), std::vector<std::string>{"t_y_check"});
    return;
  }
  c().execute("INSERT INTO t (id, y) VALUES (1000001, -1)");
  c().execute("ALTER TABLE t ADD CONSTRAINT t_y_nonnegative CHECK (y >= 0) NOT VALID");
  auto validated = [&] {
    return c().query("SELECT convalidated FROM pg_constraint WHERE conname = 't_y_nonnegative'").rows.at(0).get<bool>(0);
  };
  EXPECT_FALSE(validated());
  // A violating row: the batch fails with the engine's error and stays queued.
  Error e = error_from([&] { BackgroundRunner(c()).run(); });
  EXPECT_EQ(e.kind(), ErrorKind::sql);
  EXPECT_EQ(e.engine_code(), "23514") << e.what();
  EXPECT_EQ(queued(), std::vector<std::string>{"t_y_check"});
  c().execute("DELETE FROM t WHERE y < 0");
  EXPECT_EQ(BackgroundRunner(c()).run().completed, std::vector<std::string>{"t_y_check"});
  EXPECT_TRUE(validated());
}

TEST_P(BackgroundTest, AMigrationQueuesWorkWithAPlainInsert) {
  c().execute("DROP TABLE strata_background_updates");
  c().execute("DROP TABLE strata_background_updates_log");
  auto dir = db().dir() / "migrations";
  test::write_file(dir / "0001_t.sql", "CREATE TABLE t (id INTEGER PRIMARY KEY, y INTEGER NOT NULL, x INTEGER);\n"
                                       "INSERT INTO t (id, y) VALUES (1, 10), (2, 20), (3, 30);\n");
  test::write_file(dir / "0002_backfill.sql",
                   "INSERT INTO strata_background_updates (update_name, handler, progress_json, depends_on, ordering)\n"
                   "VALUES ('t_backfill_x', 'strata.sql_batches',\n"
                   "        '{\"table\": \"t\", \"sql\": \"UPDATE t SET x = y * 2 WHERE id > $1 AND id <= $2\"}',\n"
                   "        NULL, 2);\n");
  MigrationSet set = load_directory(dir, engine());
  std::string preview = Migrator(c(), set).script();
  EXPECT_NE(preview.find("CREATE TABLE IF NOT EXISTS"), std::string::npos);
  EXPECT_NE(preview.find("strata_background_updates_log"), std::string::npos) << preview;
  EXPECT_FALSE(queue().exists()) << "a preview created the queue";
  Migrator(c(), set).up();
  ASSERT_EQ(queued(), std::vector<std::string>{"t_backfill_x"});
  EXPECT_EQ(queue().list().at(0).ordering, 2);
  BackgroundRunner(c()).run();
  EXPECT_EQ(count("SELECT count(*) FROM t WHERE x = y * 2"), 3);

  // Without the hook, up() leaves the tables alone.
  c().execute("DROP TABLE strata_background_updates");
  MigratorOptions options;
  options.background_queue = std::nullopt;
  test::write_file(dir / "0003_nothing.sql", "CREATE TABLE u (id INTEGER);\n");
  Migrator(c(), load_directory(dir, engine()), options).up();
  EXPECT_FALSE(queue().exists());
}

STRATA_INSTANTIATE_ENGINES(BackgroundTest);

}  // namespace
}  // namespace strata
