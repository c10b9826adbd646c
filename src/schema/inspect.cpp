// schema/inspect.cpp: inspect() picks the engine's reader.
#include "strata/schema/inspect.hpp"

#include "schema/inspect_detail.hpp"
#include "strata/connection.hpp"

namespace strata::schema {

Schema inspect(Connection& connection, const InspectOptions& options) {
  return connection.engine() == Engine::sqlite ? detail::inspect_sqlite(connection, options)
                                               : detail::inspect_postgres(connection, options);
}

}  // namespace strata::schema
