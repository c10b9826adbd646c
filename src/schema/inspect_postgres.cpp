// schema/inspect_postgres.cpp: reads a postgres catalog into the schema model.
// (Being written on its own branch; until it lands, inspect() refuses.)
#include "schema/inspect_detail.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {

Schema inspect_postgres(Connection&, const InspectOptions&) {
  throw Error(ErrorKind::internal, "schema inspection is not available for postgres yet");
}

}  // namespace strata::schema::detail
