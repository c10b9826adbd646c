// strata/schema/inspect.hpp: reading a live database's schema into the model.
//
// inspect() is the one reader of the catalogs: diff, drift, the SQLite
// table rebuild, lint, port and checked queries all see a schema through it.
#pragma once

#include <string>
#include <vector>

#include "strata/schema/model.hpp"

namespace strata {
class Connection;
}

namespace strata::schema {

struct InspectOptions {
  // PostgreSQL: the schema to inspect. Ignored on SQLite (always "main").
  std::string schema = "public";
  // Tables (and views) to leave out, matched exactly, with their indexes,
  // constraints, triggers and owned sequences.
  std::vector<std::string> exclude_tables;
  // strata's own tables are left out unless this is set: the history table
  // strata_migrations and every table whose name starts with "strata_"
  // (the background-update queue and log, port progress, ...). A history
  // table renamed with --history-table is passed in exclude_tables.
  bool include_strata_tables = false;
};

// Reads the schema of the database `connection` is open on. Reads only; on
// PostgreSQL it runs in a read-only repeatable-read transaction (a savepoint
// when one is open), so the result is one consistent snapshot. SQLite's
// internal tables (sqlite_sequence, sqlite_stat*), automatic indexes and the
// shadow tables of virtual tables are never listed. Objects the model cannot
// represent are named in Schema::unsupported.
// Throws Error{ErrorKind::sql} for a failed catalog query and
// Error{ErrorKind::usage} for a PostgreSQL schema that does not exist.
Schema inspect(Connection& connection, const InspectOptions& options = {});

}  // namespace strata::schema
