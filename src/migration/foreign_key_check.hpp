// src/migration/foreign_key_check.hpp (internal): SQLite's PRAGMA
// foreign_key_check, turned into an error that names the violating rows.
// Shared by the migrator (foreign-keys-off migrations) and the table rebuild.
#pragma once

#include <fmt/format.h>

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::detail {

// Runs PRAGMA foreign_key_check on `c` and, when it finds violations,
// throws Error{ErrorKind::sql}: "foreign key check failed <after> (N
// violating rows); <outcome>:" followed by up to 20 rows (table, rowid,
// parent). The caller's transaction is expected to roll back.
//
// With `tables`, only those tables' foreign keys are checked (PRAGMA
// foreign_key_check(t) for each): what a table rebuild needs, the rebuilt
// table and the tables that reference it, without scanning the rest of a
// large database.
inline void check_foreign_keys(Connection& c, std::string_view after, std::string_view outcome,
                               const std::vector<std::string>& tables = {}) {
  std::vector<Row> rows;
  if (tables.empty()) {
    rows = c.fetch("PRAGMA foreign_key_check");
  } else {
    for (const std::string& t : tables) {
      std::string quoted = "\"";
      for (char ch : t) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      quoted += '"';
      std::vector<Row> more = c.fetch("PRAGMA foreign_key_check(" + quoted + ")");
      rows.insert(rows.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    }
  }
  if (rows.empty()) return;
  std::string list;
  for (std::size_t i = 0; i < rows.size() && i < 20; ++i) {
    const Row& r = rows[i];
    list += fmt::format("\n  table {} rowid {} references a missing row of {}", r[0].to_string(),
                        r[1].is_null() ? "(none: WITHOUT ROWID)" : r[1].to_string(), r[2].to_string());
  }
  if (rows.size() > 20) list += fmt::format("\n  ... and {} more", rows.size() - 20);
  throw Error(ErrorKind::sql,
              fmt::format("foreign key check failed {} ({} violating row{}); {}:{}", after, rows.size(),
                          rows.size() == 1 ? "" : "s", outcome, list),
              "SQLITE_CONSTRAINT_FOREIGNKEY (787)", "PRAGMA foreign_key_check");
}

}  // namespace strata::detail
