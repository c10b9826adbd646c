// strata/schema/rebuild.hpp: change a SQLite table in a way ALTER TABLE
// cannot (drop a column an index uses, change a type, add a CHECK, ...) by
// rebuilding it, now, on a live database.
//
// rebuild_table() runs SQLite's documented procedure
// (https://sqlite.org/lang_altertable.html#otheralter) with the statements
// the differ renders for a rebuild (schema::diff, ChangeKind::rebuild_table):
//   1. PRAGMA foreign_keys = OFF, outside any transaction (the pragma does
//      nothing inside one);
//   2. BEGIN; drop the views that read the table; create the new table; copy
//      the rows; drop the old table; rename the new one; recreate the
//      table's indexes and triggers and the views;
//   3. PRAGMA foreign_key_check: any violating row fails the call, naming
//      each (table, rowid, parent), and everything is rolled back;
//   4. COMMIT; foreign keys back to what they were, failure or not.
// A crash part-way leaves the old table as it was (the transaction never
// committed).
//
// PostgreSQL ALTERs tables in place (diff() renders ALTER TABLE there), so
// these functions refuse it with Error{ErrorKind::usage}.
#pragma once

#include <functional>
#include <string_view>

#include "strata/schema/diff.hpp"
#include "strata/schema/model.hpp"

namespace strata {
class Connection;
}

namespace strata::schema {

struct RebuildOptions {
  // Only report the diff; run nothing.
  bool dry_run = false;
};

// Makes the table named desired.name look like `desired`: inspects the
// database, replaces that table in the inspected schema with `desired`,
// diffs, and runs the result as described above. `desired` is usually an
// inspected Table edited (see the overload below); its indexes are the ones
// the table ends with, and the schema's triggers and views on it are kept.
// When ALTER TABLE can make the change (adding a plain column), the differ's
// in-place statements run instead, in the same guarded transaction.
// Returns the diff that ran (empty: nothing differed, nothing ran).
// Throws Error{ErrorKind::usage} on PostgreSQL, inside an open transaction,
// for a table that does not exist, or for a change the differ cannot make
// (Diff::unsupported); Error{ErrorKind::sql} for a failed statement or a
// failed foreign key check (rolled back).
Diff rebuild_table(Connection& connection, const Table& desired, const RebuildOptions& options = {});

// The same, with `edit` applied to the inspected table named `table`:
//   rebuild_table(c, "users", [](Table& t) { std::erase_if(t.columns, ...); });
Diff rebuild_table(Connection& connection, std::string_view table, const std::function<void(Table&)>& edit,
                   const RebuildOptions& options = {});

}  // namespace strata::schema
