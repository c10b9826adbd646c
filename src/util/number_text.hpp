// src/util/number_text.hpp: doubles as text, the same everywhere.
#pragma once

#include <charconv>
#include <cmath>
#include <string>

namespace strata::util {

// The shortest text that reads back as `d` ("0.1", "1e+300"), and
// PostgreSQL's spellings for the special values: NaN, Infinity, -Infinity.
inline std::string shortest_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  (void)ec;
  return std::string(buf, end);
}

}  // namespace strata::util
