// schema/inspect_sqlite.cpp: reads a sqlite catalog into the schema model.
// (Being written on its own branch; until it lands, inspect() refuses.)
#include "schema/inspect_detail.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {

Schema inspect_sqlite(Connection&, const InspectOptions&) {
  throw Error(ErrorKind::internal, "schema inspection is not available for sqlite yet");
}

}  // namespace strata::schema::detail
