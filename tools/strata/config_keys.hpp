// tools/strata/config_keys.hpp: the keys strata.toml may hold.
#pragma once

#include <toml++/toml.h>

#include <string>

namespace strata::cli {

// Refuses (Error{config}, exit 3) a key strata.toml does not define, naming
// file:line:column and the closest valid key (config_keys.cpp lists them).
void check_config_keys(const std::string& file, const toml::table& root);

}  // namespace strata::cli
