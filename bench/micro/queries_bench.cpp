// A generated :many function against the hand-written Connection::query it
// replaces, over 1,000,000 rows of SQLite in memory, paired: each iteration
// runs both (alternating which goes first) on the same data, and the ratio of
// their total times is reported. The hand-written side does the same work a
// caller would: query, then convert every row into a struct with Row::get.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench_queries.hpp"
#include "strata/connection.hpp"

namespace {

constexpr std::int64_t kRows = 1000000;

struct Item {
  std::int64_t id;
  std::string name;
  std::optional<double> score;
};

strata::Connection& database() {
  static std::unique_ptr<strata::Connection> c = [] {
    auto c = strata::connect("sqlite::memory:");
    c->execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)");
    c->execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) "
        "INSERT INTO items (id, name, score) SELECT i, 'item ' || i, CASE WHEN i % 10 = 0 THEN NULL ELSE i * 0.5 END "
        "FROM n");
    return c;
  }();
  return *c;
}

std::vector<Item> hand_written(strata::Connection& c) {
  auto result = c.query("SELECT id, name, score FROM items ORDER BY id");
  std::vector<Item> items;
  items.reserve(result.rows.size());
  for (const strata::Row& row : result.rows) {
    items.push_back(Item{row.get<std::int64_t>(0), row.get<std::string>(1), row.get<std::optional<double>>(2)});
  }
  return items;
}

void BM_GeneratedVsHandWritten_1M(benchmark::State& state) {
  strata::Connection& c = database();
  using clock = std::chrono::steady_clock;
  clock::duration generated{}, hand{};
  bool generated_first = true;
  for (auto _ : state) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool run_generated = (turn == 0) == generated_first;
      auto start = clock::now();
      if (run_generated) {
        auto rows = bench_queries::ListItems(c);
        benchmark::DoNotOptimize(rows.data());
        if (static_cast<std::int64_t>(rows.size()) != kRows) state.SkipWithError("wrong row count");
        generated += clock::now() - start;
      } else {
        auto rows = hand_written(c);
        benchmark::DoNotOptimize(rows.data());
        if (static_cast<std::int64_t>(rows.size()) != kRows) state.SkipWithError("wrong row count");
        hand += clock::now() - start;
      }
    }
    generated_first = !generated_first;
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["generated_ms"] = std::chrono::duration<double, std::milli>(generated).count() / n;
  state.counters["handwritten_ms"] = std::chrono::duration<double, std::milli>(hand).count() / n;
  state.counters["ratio"] = std::chrono::duration<double>(generated).count() / std::chrono::duration<double>(hand).count();
}
BENCHMARK(BM_GeneratedVsHandWritten_1M)->Unit(benchmark::kMillisecond)->Iterations(10);

}  // namespace
