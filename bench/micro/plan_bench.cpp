// Planning with 10,000 migrations: strata::compare (source vs history) and
// strata::plan_up (topological order of the pending ones), with nothing
// applied, half applied and everything applied (the no-op run).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "strata/history.hpp"
#include "strata/migration.hpp"
#include "strata/plan.hpp"

namespace {

constexpr int kMigrations = 10000;

const strata::MigrationSet& source() {
  static const strata::MigrationSet set = [] {
    std::vector<strata::Migration> all;
    all.reserve(kMigrations);
    for (int v = 1; v <= kMigrations; ++v) {
      strata::Migration m;
      m.version = v;
      m.description = "migration_" + std::to_string(v);
      if (v > 1) m.parents = {v - 1};
      m.path = "migrations/" + std::to_string(v) + "_migration_" + std::to_string(v) + ".sql";
      m.sql = "CREATE TABLE t" + std::to_string(v) + " (id INTEGER PRIMARY KEY);";
      m.checksum = strata::checksum(m.sql);
      all.push_back(std::move(m));
    }
    return strata::MigrationSet(std::move(all));
  }();
  return set;
}

std::vector<strata::AppliedMigration> history(int applied) {
  std::vector<strata::AppliedMigration> out;
  out.reserve(static_cast<std::size_t>(applied));
  for (const auto& m : source().all()) {
    if (static_cast<int>(out.size()) == applied) break;
    out.push_back({m.version, m.description, m.checksum, "2025-04-10 12:00:00+00", 1000, true, {}, {}});
  }
  return out;
}

void BM_PlanUp(benchmark::State& state) {
  const auto applied = history(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(strata::plan_up(source(), applied));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kMigrations);
}

void BM_Compare(benchmark::State& state) {
  const auto applied = history(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(strata::compare(source(), applied));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kMigrations);
}

}  // namespace

// Argument: how many of the 10,000 are applied.
BENCHMARK(BM_PlanUp)->Arg(0)->Arg(kMigrations / 2)->Arg(kMigrations)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Compare)->Arg(0)->Arg(kMigrations / 2)->Arg(kMigrations)->Unit(benchmark::kMicrosecond);
