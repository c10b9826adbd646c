// fuzz/fuzz_splitter.cpp: libFuzzer entry point for strata::fuzz::splitter (targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::fuzz::splitter(data, size);
  return 0;
}
