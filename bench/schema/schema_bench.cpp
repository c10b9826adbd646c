// bench/schema/schema_bench.cpp: times strata::schema::inspect() on a live
// database and diff() on the result, in process, for bench/schema/run.py.
//
//   strata_schema_bench URL RUNS
// prints one JSON object: connect_ms, inspect_ms (every run), the table
// count, and diff_ms for three comparisons of the inspected schema: with
// itself (nothing to do), with a copy where 10% of the tables changed (a
// column added, an index dropped), and with the empty schema (drop all).
// diff_ms includes rendering the SQL (Diff::sql()).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "strata/connection.hpp"
#include "strata/schema/diff.hpp"
#include "strata/schema/inspect.hpp"

namespace {
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string list(const std::vector<double>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{:.3f}", i ? ", " : "", v[i]);
  return out + "]";
}

template <class F>
std::vector<double> repeat(int runs, F&& f) {
  std::vector<double> out;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f();
    out.push_back(ms_since(start));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: strata_schema_bench URL RUNS\n");
    return 2;
  }
  int runs = std::max(1, std::atoi(argv[2]));
  try {
    auto start = Clock::now();
    auto connection = strata::connect(argv[1]);
    double connect_ms = ms_since(start);
    strata::schema::Schema schema;
    auto inspect_ms = repeat(runs, [&] { schema = strata::schema::inspect(*connection); });

    strata::schema::Schema changed = schema;
    for (std::size_t i = 0; i < changed.tables.size(); i += 10) {
      auto& t = changed.tables[i];
      strata::schema::Column c = t.columns.back();
      c.name = "added_column";
      c.nullable = true;
      c.default_value.reset();
      t.columns.push_back(c);
      if (!t.indexes.empty()) t.indexes.pop_back();
    }
    strata::schema::Schema empty;
    empty.engine = schema.engine;
    empty.name = schema.name;

    std::size_t statements = 0;
    auto run_diff = [&](const strata::schema::Schema& to) {
      auto d = strata::schema::diff(schema, to);
      statements = 0;
      for (const auto& c : d.changes) statements += c.statements.size();
      volatile std::size_t n = d.sql().size();
      (void)n;
    };
    auto same_ms = repeat(runs, [&] { run_diff(schema); });
    auto changed_ms = repeat(runs, [&] { run_diff(changed); });
    std::size_t changed_statements = statements;
    auto drop_ms = repeat(runs, [&] { run_diff(empty); });
    std::size_t drop_statements = statements;

    std::printf(
        "{\"engine\": \"%s\", \"tables\": %zu, \"connect_ms\": %.3f, \"inspect_ms\": %s, "
        "\"diff_same_ms\": %s, \"diff_changed_ms\": %s, \"diff_changed_statements\": %zu, "
        "\"diff_drop_ms\": %s, \"diff_drop_statements\": %zu}\n",
        strata::to_string(connection->engine()), schema.tables.size(), connect_ms, list(inspect_ms).c_str(),
        list(same_ms).c_str(), list(changed_ms).c_str(), changed_statements, list(drop_ms).c_str(),
        drop_statements);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
