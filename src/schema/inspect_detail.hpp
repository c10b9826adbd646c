// src/schema/inspect_detail.hpp (internal): one catalog reader per engine
// behind strata::schema::inspect().
#pragma once

#include <string_view>

#include "strata/schema/inspect.hpp"

namespace strata::schema::detail {

Schema inspect_sqlite(Connection& connection, const InspectOptions& options);
Schema inspect_postgres(Connection& connection, const InspectOptions& options);

// Whether table (or view) `name` is left out by `options` (see InspectOptions).
bool excluded_table(std::string_view name, const InspectOptions& options);

}  // namespace strata::schema::detail
