// Checksum throughput: strata::checksum (SHA-384 after BOM/CRLF
// normalisation) over typical migration-file sizes and a large file, with LF
// and with CRLF line endings (the CRLF path feeds OpenSSL line by line).
#include <benchmark/benchmark.h>

#include <string>

#include "corpus.hpp"
#include "strata/migration.hpp"

namespace {

std::string with_crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

void BM_Checksum(benchmark::State& state, bool crlf) {
  std::string text = strata::bench::realistic_script(static_cast<std::size_t>(state.range(0)));
  text.resize(static_cast<std::size_t>(state.range(0)));
  if (crlf) text = with_crlf(text);
  for (auto _ : state) benchmark::DoNotOptimize(strata::checksum(text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(text.size()));
}

}  // namespace

// 1 KiB is about one migration of the workload; 1 MiB a large data migration.
BENCHMARK_CAPTURE(BM_Checksum, lf, false)->Arg(1 << 10)->Arg(1 << 20);
BENCHMARK_CAPTURE(BM_Checksum, crlf, true)->Arg(1 << 10)->Arg(1 << 20);
