// fuzz/fuzz_url.cpp: libFuzzer entry point for strata::fuzz::url (targets.hpp).
#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::fuzz::url(data, size);
  return 0;
}
