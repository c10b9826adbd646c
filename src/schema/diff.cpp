// schema/diff.cpp: compares two schema models and renders the changes.
// (Being written on its own branch; until it lands, diff() refuses.)
#include "strata/schema/diff.hpp"

#include "strata/error.hpp"

namespace strata::schema {

Diff diff(const Schema&, const Schema&, const DiffOptions&) {
  throw Error(ErrorKind::internal, "schema diff is not available yet");
}

}  // namespace strata::schema
