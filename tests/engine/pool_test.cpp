// The connection pool and the fetch helpers, on both engines.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "strata/error.hpp"
#include "strata/pool.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using test::error_from;

using namespace std::chrono_literals;

class PoolTest : public test::EngineTest {
 protected:
  PoolOptions options(std::size_t max) const {
    PoolOptions o;
    o.max_connections = max;
    o.acquire_timeout = 20s;
    return o;
  }
  std::int64_t rows(Pool& pool, const std::string& table) {
    return pool.fetch_value<std::int64_t>("SELECT COUNT(*) FROM " + table);
  }
};

TEST_P(PoolTest, ManyThreadsShareASmallPool) {
  Pool pool(db().url(), options(3));
  pool.execute("CREATE TABLE hits (thread INTEGER NOT NULL, n INTEGER NOT NULL)");
  constexpr int threads = 12;
  constexpr int per_thread = 25;
  std::atomic<int> failures{0};
  std::atomic<std::size_t> most_open{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (int i = 0; i < per_thread; ++i) {
          auto c = pool.acquire();
          auto tx = c.transaction();
          c.execute("INSERT INTO hits (thread, n) VALUES ($1, $2)", {t, i});
          auto mine = c.fetch_value<std::int64_t>("SELECT COUNT(*) FROM hits WHERE thread = $1", {t});
          if (mine != i + 1) ++failures;
          tx.commit();
          std::size_t open = pool.size();
          std::size_t seen = most_open.load();
          while (open > seen && !most_open.compare_exchange_weak(seen, open)) {
          }
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << "thread " << t << ": " << e.what();
        ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(rows(pool, "hits"), threads * per_thread);
  EXPECT_LE(most_open.load(), 3u);
  EXPECT_LE(pool.size(), 3u);
  EXPECT_EQ(pool.idle(), pool.size());
}

TEST_P(PoolTest, AcquireTimesOutWhenExhausted) {
  Pool pool(db().url(), options(2));
  auto a = pool.acquire();
  auto b = pool.acquire();
  auto start = std::chrono::steady_clock::now();
  Error e = error_from([&] { pool.acquire(150ms); });
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(e.kind(), ErrorKind::connection);
  EXPECT_NE(std::string(e.what()).find("timed out after 150 ms waiting for a connection"), std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("all 2 in use"), std::string::npos) << e.what();
  EXPECT_GE(waited, 150ms);

  // The configured timeout applies to acquire() without an argument.
  PoolOptions short_wait = options(1);
  short_wait.acquire_timeout = 50ms;
  Pool small(db().url(), short_wait);
  auto only = small.acquire();
  EXPECT_EQ(error_from([&] { small.acquire(); }).kind(), ErrorKind::connection);

  // A waiter gets the connection another thread gives back.
  std::thread giver([lease = std::move(a)]() mutable {
    std::this_thread::sleep_for(100ms);
    lease = PooledConnection();
  });
  auto c = pool.acquire(10s);
  EXPECT_EQ(c.fetch_value<int>("SELECT 1"), 1);
  giver.join();
  EXPECT_EQ(pool.size(), 2u);
}

TEST_P(PoolTest, NestedTransactionsThroughALease) {
  Pool pool(db().url(), options(2));
  pool.execute("CREATE TABLE t (v INTEGER NOT NULL)");
  {
    auto c = pool.acquire();
    auto outer = c.transaction();
    c.execute("INSERT INTO t (v) VALUES ($1)", {1});
    {
      auto inner = c.transaction();
      c.execute("INSERT INTO t (v) VALUES ($1)", {2});
      EXPECT_EQ(c->transaction_depth(), 2);
    }  // rolled back to its savepoint
    {
      auto inner = c.transaction();
      c.execute("INSERT INTO t (v) VALUES ($1)", {3});
      {
        auto innermost = c.transaction();
        c.execute("INSERT INTO t (v) VALUES ($1)", {4});
        innermost.commit();
      }
      inner.commit();
    }
    outer.commit();
  }
  std::vector<std::int64_t> values;
  for (const Row& r : pool.fetch("SELECT v FROM t ORDER BY v")) values.push_back(r.get<std::int64_t>(0));
  EXPECT_EQ(values, (std::vector<std::int64_t>{1, 3, 4}));

  {
    auto c = pool.acquire();
    auto tx = c.transaction();
    c.execute("INSERT INTO t (v) VALUES (5)");
  }  // not committed: rolled back, and the connection is reusable
  EXPECT_EQ(rows(pool, "t"), 3);
  EXPECT_EQ(pool.idle(), pool.size());
}

TEST_P(PoolTest, ALeaseLeftInsideATransactionIsDiscarded) {
  Pool pool(db().url(), options(2));
  pool.execute("CREATE TABLE t (v INTEGER NOT NULL)");
  ASSERT_EQ(pool.size(), 1u);
  {
    auto c = pool.acquire();
    c.execute("BEGIN");
    c.execute("INSERT INTO t (v) VALUES (1)");
  }
  EXPECT_EQ(pool.size(), 0u);  // closed, not reused: its work is gone
  EXPECT_EQ(rows(pool, "t"), 0);

  {
    auto c = pool.acquire();
    c.discard();
  }
  EXPECT_EQ(pool.size(), 0u);
}

TEST_P(PoolTest, ReadsEveryTypeWithFetchHelpers) {
  const bool pg = engine() == Engine::postgres;
  Pool pool(db().url(), options(2));
  pool.execute(std::string("CREATE TABLE vals (id INTEGER PRIMARY KEY, i BIGINT, d ") +
               (pg ? "DOUBLE PRECISION" : "REAL") + ", s TEXT, b " + (pg ? "BYTEA" : "BLOB") +
               ", f BOOLEAN, ts " + (pg ? "TIMESTAMPTZ" : "TIMESTAMP") + ")");
  const Blob blob{std::byte{0}, std::byte{0xff}, std::byte{0x10}};
  const Timestamp ts = std::chrono::sys_days{std::chrono::year{2025} / 4 / 10} + 12h + 34min + 56s + 789012us;
  auto c = pool.acquire();
  EXPECT_EQ(c.execute("INSERT INTO vals (id, i, d, s, b, f, ts) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      {1, std::int64_t{9'000'000'000}, 2.5, "héllo", blob, true, ts}),
            1);
  std::optional<std::int64_t> no_int;
  std::optional<std::string> no_text;
  std::optional<Timestamp> no_ts;
  EXPECT_EQ(c.execute("INSERT INTO vals (id, i, d, s, b, f, ts) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      {2, no_int, Null{}, no_text, std::nullopt, std::optional<bool>{}, no_ts}),
            1);

  const char* by_id = "SELECT i, d, s, b, f, ts FROM vals WHERE id = $1";
  EXPECT_EQ(c.fetch_value<std::int64_t>("SELECT i FROM vals WHERE id = $1", {1}), 9'000'000'000);
  EXPECT_EQ(c.fetch_value<double>("SELECT d FROM vals WHERE id = $1", {1}), 2.5);
  EXPECT_EQ(c.fetch_value<std::string>("SELECT s FROM vals WHERE id = $1", {1}), "héllo");
  EXPECT_EQ(c.fetch_value<Blob>("SELECT b FROM vals WHERE id = $1", {1}), blob);
  EXPECT_EQ(c.fetch_value<bool>("SELECT f FROM vals WHERE id = $1", {1}), true);
  EXPECT_EQ(c.fetch_value<Timestamp>("SELECT ts FROM vals WHERE id = $1", {1}), ts);

  auto row = c.fetch_one(by_id, {1});
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->get<std::optional<std::int64_t>>(0), 9'000'000'000);
  EXPECT_EQ(row->get<std::optional<Timestamp>>(5), ts);

  auto nulls = c.fetch_one(by_id, {2});
  ASSERT_TRUE(nulls.has_value());
  ASSERT_EQ(nulls->size(), 6u);
  for (std::size_t i = 0; i < nulls->size(); ++i) EXPECT_TRUE((*nulls)[i].is_null()) << "column " << i;
  EXPECT_EQ(nulls->get<std::optional<std::int64_t>>(0), std::nullopt);
  EXPECT_EQ(nulls->get<std::optional<double>>(1), std::nullopt);
  EXPECT_EQ(nulls->get<std::optional<std::string>>(2), std::nullopt);
  EXPECT_EQ(nulls->get<std::optional<Blob>>(3), std::nullopt);
  EXPECT_EQ(nulls->get<std::optional<bool>>(4), std::nullopt);
  EXPECT_EQ(nulls->get<std::optional<Timestamp>>(5), std::nullopt);
  EXPECT_EQ(c.fetch_value<std::optional<std::string>>("SELECT s FROM vals WHERE id = $1", {2}), std::nullopt);
  EXPECT_EQ(error_from([&] { c.fetch_value<std::string>("SELECT s FROM vals WHERE id = $1", {2}); }).kind(),
            ErrorKind::usage);

  // No row: fetch_one gives nullopt, fetch_value throws (even for optional).
  EXPECT_FALSE(c.fetch_one(by_id, {3}).has_value());
  EXPECT_TRUE(c.fetch(by_id, {3}).empty());
  Error none = error_from([&] { c.fetch_value<std::optional<std::int64_t>>("SELECT i FROM vals WHERE id = $1", {3}); });
  EXPECT_EQ(none.kind(), ErrorKind::usage);
  EXPECT_NE(std::string(none.what()).find("returned no row"), std::string::npos) << none.what();
  EXPECT_EQ(none.sql(), "SELECT i FROM vals WHERE id = $1");

  // The same helpers straight on the pool, with a span of parameters.
  std::vector<Value> params{Value(1)};
  EXPECT_EQ(pool.fetch_value<std::string>("SELECT s FROM vals WHERE id = $1", params), "héllo");
  EXPECT_EQ(pool.fetch("SELECT id FROM vals ORDER BY id").size(), 2u);
  EXPECT_EQ(pool.fetch_one("SELECT id FROM vals ORDER BY id DESC")->get<int>(0), 2);
  EXPECT_EQ(pool.fetch_value("SELECT COUNT(*) FROM vals").as<std::int64_t>(), 2);
}

TEST_P(PoolTest, HooksRunAroundEveryLease) {
  const bool pg = engine() == Engine::postgres;
  if (pg) db().connect()->execute("CREATE SCHEMA hooked");
  std::mutex mutex;
  std::map<const Connection*, int> state;  // 1 = leased, 0 = back in the pool
  int acquired = 0;
  int released = 0;
  int reused_before_release = 0;
  PoolOptions o = options(2);
  // As a per-instance host would: every lease works in the instance's schema.
  o.on_acquire = [&](Connection& c) {
    if (pg) {
      if (c.fetch_value<std::string>("SHOW search_path") == "hooked") ++reused_before_release;
      c.execute("SET search_path TO hooked");
    }
    std::lock_guard lock(mutex);
    auto [it, fresh] = state.try_emplace(&c, 0);
    if (it->second != 0) ++reused_before_release;
    it->second = 1;
    ++acquired;
  };
  o.on_release = [&](Connection& c) {
    if (pg) c.execute("RESET search_path");
    std::lock_guard lock(mutex);
    state.at(&c) = 0;
    ++released;
  };
  Pool pool(db().url(), o);
  pool.execute("CREATE TABLE t (v INTEGER)");
  pool.execute("INSERT INTO t (v) VALUES (1)");
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    EXPECT_EQ(a.fetch_value<int>("SELECT COUNT(*) FROM t"), 1);
    std::thread([lease = std::move(b)]() mutable { lease.release(); }).join();
  }
  if (pg) {
    auto direct = db().connect();
    EXPECT_EQ(direct->fetch_value<int>("SELECT COUNT(*) FROM hooked.t"), 1);
    EXPECT_FALSE(direct->fetch_one("SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 't'"));
  }
  EXPECT_EQ(pool.idle(), 2u);
  std::lock_guard lock(mutex);
  EXPECT_EQ(acquired, 4);
  EXPECT_EQ(released, 4);
  EXPECT_EQ(reused_before_release, 0);
}

TEST_P(PoolTest, AConnectionWhoseHookThrewIsDiscarded) {
  bool fail_release = true;
  bool fail_acquire = false;
  PoolOptions o = options(2);
  o.on_acquire = [&](Connection&) {
    if (fail_acquire) throw Error(ErrorKind::sql, "on_acquire failed");
  };
  o.on_release = [&](Connection&) {
    if (fail_release) throw Error(ErrorKind::sql, "on_release failed");
  };
  Pool pool(db().url(), o);
  { auto c = pool.acquire(); }  // the destructor swallows the hook's error
  EXPECT_EQ(pool.size(), 0u);
  {
    auto c = pool.acquire();
    EXPECT_EQ(error_from([&] { c.release(); }).kind(), ErrorKind::sql);
    EXPECT_FALSE(c);
  }
  EXPECT_EQ(pool.size(), 0u);

  fail_release = false;
  fail_acquire = true;
  EXPECT_EQ(error_from([&] { pool.acquire(); }).kind(), ErrorKind::sql);
  EXPECT_EQ(pool.size(), 0u);

  fail_acquire = false;
  { auto c = pool.acquire(); }
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.idle(), 1u);
}

TEST_P(PoolTest, ALeaseMayOutliveItsPool) {
  PooledConnection lease;
  EXPECT_FALSE(lease);
  EXPECT_EQ(error_from([&] { lease->execute("SELECT 1"); }).kind(), ErrorKind::usage);
  {
    Pool pool(db().url(), options(2));
    lease = pool.acquire();
    EXPECT_EQ(pool.redacted_url(), DatabaseUrl::parse(db().url()).redacted());
    EXPECT_EQ(pool.engine(), engine());
  }
  EXPECT_EQ(lease.fetch_value<int>("SELECT 2"), 2);
  lease.release();  // closes it: there is no pool to return to
}

STRATA_INSTANTIATE_ENGINES(PoolTest);

TEST(PoolMemory, AnInMemoryDatabaseIsOneSharedConnection) {
  PoolOptions o;
  o.max_connections = 8;
  o.acquire_timeout = 50ms;
  Pool pool("sqlite::memory:", o);
  EXPECT_EQ(pool.max_connections(), 1u);
  pool.execute("CREATE TABLE t (v INTEGER)");
  pool.execute("INSERT INTO t (v) VALUES ($1)", {7});
  EXPECT_EQ(pool.fetch_value<int>("SELECT v FROM t"), 7);  // the same database
  auto c = pool.acquire();
  EXPECT_EQ(error_from([&] { pool.acquire(); }).kind(), ErrorKind::connection);
}

TEST(PoolOptionsCheck, ZeroConnectionsIsAUsageError) {
  PoolOptions o;
  o.max_connections = 0;
  EXPECT_EQ(error_from([&] { Pool("sqlite::memory:", o); }).kind(), ErrorKind::usage);
  EXPECT_EQ(error_from([&] { Pool("nonsense://x", {}); }).kind(), ErrorKind::config);
}

}  // namespace
}  // namespace strata
