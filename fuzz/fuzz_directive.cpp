// fuzz/fuzz_directive.cpp: libFuzzer entry point for strata::fuzz::directive (targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::fuzz::directive(data, size);
  return 0;
}
