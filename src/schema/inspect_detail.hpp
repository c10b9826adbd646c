// src/schema/inspect_detail.hpp (internal): one catalog reader per engine
// behind strata::schema::inspect().
#pragma once

#include <string_view>

#include "strata/schema/inspect.hpp"

namespace strata::schema::detail {

Schema inspect_sqlite(Connection& connection, const InspectOptions& options);
Schema inspect_postgres(Connection& connection, const InspectOptions& options);

// Whether table `table` is left out: named in options.exclude_tables
// (exactly), or strata's own ("strata_" prefix) unless
// options.include_strata_tables. Both readers use it.
bool excluded_table(std::string_view table, const InspectOptions& options);

}  // namespace strata::schema::detail
