// fuzz/fuzz_config.cpp: libFuzzer entry point for the strata.toml reader
// (tools/strata/common.cpp apply_config_text, config_keys.cpp): any text
// either configures the options or raises strata::Error{config}.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common.hpp"
#include "strata/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::cli::CommonOptions options;
  try {
    strata::cli::apply_config_text(options, std::string_view(reinterpret_cast<const char*>(data), size),
                                   "fuzz.toml");
  } catch (const strata::Error& e) {
    if (e.kind() != strata::ErrorKind::config && e.kind() != strata::ErrorKind::source &&
        e.kind() != strata::ErrorKind::usage) {
      std::abort();  // a bad config is a config error (a layout root that is not a tree: source)
    }
  }
  return 0;
}
