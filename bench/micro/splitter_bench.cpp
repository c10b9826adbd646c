// Splitter throughput: strata::sql::parse_script over a ~10 MB realistic
// script and over one huge dollar-quoted body. Reported as bytes/second.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "corpus.hpp"
#include "strata/sql/splitter.hpp"

namespace {

constexpr std::size_t kCorpusBytes = 10 * 1024 * 1024;

const std::string& realistic() {
  static const std::string text = strata::bench::realistic_script(kCorpusBytes);
  return text;
}

const std::string& dollar_body() {
  static const std::string text = strata::bench::huge_dollar_body(kCorpusBytes);
  return text;
}

void run(benchmark::State& state, const std::string& text, strata::Engine engine) {
  std::size_t statements = 0;
  for (auto _ : state) {
    strata::sql::Script script = strata::sql::parse_script(text, engine);
    statements = script.statements.size();
    if (!script.ok()) state.SkipWithError("the corpus did not split cleanly");
    benchmark::DoNotOptimize(script);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
  state.counters["statements"] = static_cast<double>(statements);
  state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
}

void BM_SplitRealisticPostgres(benchmark::State& state) { run(state, realistic(), strata::Engine::postgres); }
void BM_SplitHugeDollarBody(benchmark::State& state) { run(state, dollar_body(), strata::Engine::postgres); }

}  // namespace

BENCHMARK(BM_SplitRealisticPostgres)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_SplitHugeDollarBody)->Unit(benchmark::kMillisecond)->MinTime(1.0);
