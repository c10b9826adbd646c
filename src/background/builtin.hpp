// src/background/builtin.hpp: the built-in background-update handlers
// (strata::builtin_handler names them; docs/background-updates.md documents
// their progress JSON). Internal.
#pragma once

#include <optional>
#include <string_view>

#include "strata/background.hpp"
#include "strata/url.hpp"

namespace strata::detail {

struct Builtin {
  BatchHandler handler;
  HandlerMode mode;
};

// The built-in handler of that name for this engine, or nullopt.
std::optional<Builtin> find_builtin(std::string_view name, Engine engine);

}  // namespace strata::detail
