// schema/inspect.cpp: inspect() picks the engine's reader.
#include "strata/schema/inspect.hpp"

#include <algorithm>

#include "schema/inspect_detail.hpp"
#include "strata/connection.hpp"

namespace strata::schema {

Schema inspect(Connection& connection, const InspectOptions& options) {
  return connection.engine() == Engine::sqlite ? detail::inspect_sqlite(connection, options)
                                               : detail::inspect_postgres(connection, options);
}

namespace detail {

bool excluded_table(std::string_view name, const InspectOptions& options) {
  if (std::find(options.exclude_tables.begin(), options.exclude_tables.end(), name) != options.exclude_tables.end()) {
    return true;
  }
  return !options.include_strata_tables && name.starts_with("strata_");
}

}  // namespace detail

}  // namespace strata::schema
