// Internal: the SQLite driver (libsqlite3 stays out of public headers).
#pragma once

#include <memory>

#include "strata/connection.hpp"

namespace strata::detail {

// Opens (creating with mode 0600 if missing) the database `url` names.
std::unique_ptr<Connection> open_sqlite(const DatabaseUrl& url, const ConnectOptions& options);

}  // namespace strata::detail
