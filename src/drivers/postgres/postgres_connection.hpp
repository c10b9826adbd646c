// Internal: the PostgreSQL driver (libpq stays out of public headers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "strata/connection.hpp"

namespace strata::detail {

std::unique_ptr<Connection> open_postgres(const DatabaseUrl& url, const ConnectOptions& options);

// Runs `copy_sql` (a COPY ... FROM STDIN) on `connection`, which must be a
// PostgreSQL connection (Error{usage} otherwise), and streams what `next`
// produces: each call appends data in the COPY's format to its (cleared)
// buffer and returns false once there is no more. Returns the row count the
// server reports. If `next` throws, the COPY is aborted (the server rolls the
// statement back) and the exception propagates; a server-side failure throws
// Error as query() does, its message carrying the server's CONTEXT line
// ("COPY t, line 12, column c: ...").
std::int64_t copy_in(Connection& connection, std::string_view copy_sql,
                     const std::function<bool(std::string& buffer)>& next);

// The highest $n parameter `sql` uses outside strings, quoted identifiers,
// dollar-quoted bodies and comments (0 for none; -1 when the text ends inside
// one of those, which the server reports better). Exposed for tests.
int highest_postgres_parameter(std::string_view sql);

// The byte offset of 1-based character `position` in UTF-8 `sql`.
std::size_t utf8_char_to_byte_offset(std::string_view sql, long position);

}  // namespace strata::detail
