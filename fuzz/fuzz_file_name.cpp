// fuzz/fuzz_file_name.cpp: libFuzzer entry point for strata::fuzz::file_name (targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::fuzz::file_name(data, size);
  return 0;
}
