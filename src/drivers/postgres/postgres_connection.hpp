// Internal: the PostgreSQL driver (libpq stays out of public headers).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "strata/connection.hpp"

namespace strata::detail {

std::unique_ptr<Connection> open_postgres(const DatabaseUrl& url, const ConnectOptions& options);

// The highest $n parameter `sql` uses outside strings, quoted identifiers,
// dollar-quoted bodies and comments (0 for none; -1 when the text ends inside
// one of those, which the server reports better). Exposed for tests.
int highest_postgres_parameter(std::string_view sql);

// The byte offset of 1-based character `position` in UTF-8 `sql`.
std::size_t utf8_char_to_byte_offset(std::string_view sql, long position);

}  // namespace strata::detail
