// src/schema/inspect_detail.hpp (internal): one catalog reader per engine
// behind strata::schema::inspect().
#pragma once

#include "strata/schema/inspect.hpp"

namespace strata::schema::detail {

Schema inspect_sqlite(Connection& connection, const InspectOptions& options);
Schema inspect_postgres(Connection& connection, const InspectOptions& options);

}  // namespace strata::schema::detail
