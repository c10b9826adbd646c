// Loading a migration source: strata::load_directory over 1,000 files of
// the benchmark's workload (list, parse names, read, validate UTF-8,
// checksum). The no-op `strata up` and `strata status` spend most of their
// own instructions here.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "strata/migration.hpp"
#include "strata/source.hpp"

namespace {

namespace fs = std::filesystem;

constexpr int kFiles = 1000;

// A directory of kFiles migrations like bench/workload.py writes, removed at exit.
struct SourceDir {
  fs::path path;
  std::size_t bytes = 0;
  SourceDir() {
    std::string templ = (fs::temp_directory_path() / "strata-bench-source.XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) std::abort();
    path = templ;
    for (int i = 1; i <= kFiles; ++i) {
      char table[16], name[64];
      std::snprintf(table, sizeof table, "t%05d", i);
      std::snprintf(name, sizeof name, "%04d_create_%s.sql", i, table);
      std::string t = table;
      std::string sql = "CREATE TABLE " + t + " (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  value INTEGER NOT NULL\n);\n";
      sql += "CREATE INDEX " + t + "_name_idx ON " + t + " (name);\n";
      sql += "INSERT INTO " + t + " (id, name, value) VALUES\n";
      for (int r = 1; r <= 10; ++r) {
        sql += "  (" + std::to_string(r) + ", 'row " + std::to_string(r) + " of " + t + "', " +
               std::to_string(i * 100 + r) + (r == 10 ? ");\n" : "),\n");
      }
      std::ofstream(path / name, std::ios::binary) << sql;
      bytes += sql.size();
    }
  }
  ~SourceDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const SourceDir& source_dir() {
  static const SourceDir dir;
  return dir;
}

void BM_LoadDirectory(benchmark::State& state) {
  const auto& dir = source_dir();
  for (auto _ : state) {
    strata::MigrationSet set = strata::load_directory(dir.path, strata::Engine::postgres);
    benchmark::DoNotOptimize(set);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(dir.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kFiles);
}

}  // namespace

BENCHMARK(BM_LoadDirectory)->Unit(benchmark::kMillisecond);
