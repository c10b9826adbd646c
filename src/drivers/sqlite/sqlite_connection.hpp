// Internal: the SQLite driver (libsqlite3 stays out of public headers).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/connection.hpp"

namespace strata::detail {

// Opens (creating with mode 0600 if missing) the database `url` names.
std::unique_ptr<Connection> open_sqlite(const DatabaseUrl& url, const ConnectOptions& options);

// One call of SQLite's authorizer (sqlite3_set_authorizer): `action` is an
// SQLITE_* action code (SQLITE_DROP_TABLE, SQLITE_ALTER_TABLE, ...), the
// strings its arguments ("" for NULL). `inner` names the trigger or view the
// access comes from; empty at the statement's own level.
struct AuthorizerCall {
  int action = 0;
  std::string arg1;
  std::string arg2;
  std::string database;
  std::string inner;
};

// Prepares the first statement of `sql` on `connection` with an authorizer
// that appends every call to `calls` and allows it, then finalizes it without
// stepping: nothing runs. Returns "" on success, else SQLite's message.
// REQUIRES: `connection` is a SQLite connection (else Error{internal}), not
// used by another thread.
std::string prepare_authorized(Connection& connection, std::string_view sql, std::vector<AuthorizerCall>& calls);

}  // namespace strata::detail
