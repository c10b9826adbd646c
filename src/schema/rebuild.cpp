// schema/rebuild.cpp: SQLite's table rebuild run on a live database (see
// strata/schema/rebuild.hpp). The SQL comes from diff(); this file only
// wraps it in the procedure's guard rails.
#include "strata/schema/rebuild.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/transaction.hpp"
#include "migration/foreign_key_check.hpp"

namespace strata::schema {
namespace {

void require_sqlite_outside_transaction(Connection& c) {
  if (c.engine() != Engine::sqlite) {
    throw Error(ErrorKind::usage,
                "rebuild_table is for SQLite only: PostgreSQL changes tables in place with ALTER TABLE "
                "(use schema::diff and run its statements)");
  }
  if (c.in_transaction()) {
    throw Error(ErrorKind::usage,
                "rebuild_table cannot run inside an open transaction: it must turn foreign keys off "
                "first, and PRAGMA foreign_keys does nothing inside a transaction");
  }
}

// Restores PRAGMA foreign_keys to its value before the rebuild, failure or not.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(Connection& c) : c_(c) {
    was_on_ = c_.fetch_value<std::int64_t>("PRAGMA foreign_keys") != 0;
    if (was_on_) c_.execute("PRAGMA foreign_keys = OFF");
  }
  ~ForeignKeysOff() {
    if (!was_on_) return;
    try {
      c_.execute("PRAGMA foreign_keys = ON");
    } catch (...) {  // a destructor never throws; the connection is broken anyway
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  Connection& c_;
  bool was_on_ = false;
};

// PRAGMA secure_delete = FAST for the rebuild when no column's data goes
// away, restored after. Debian's SQLite is built with SECURE_DELETE on, so
// dropping the old table would zero every one of its pages (a third of a
// 1M-row rebuild's time); when every value is copied into the new table
// there is nothing to erase. A dropped column keeps the connection's
// setting, so its values are erased as ALTER TABLE DROP COLUMN would.
class SecureDeleteFast {
 public:
  SecureDeleteFast(Connection& c, bool drops_data) : c_(c) {
    if (drops_data) return;
    was_ = c_.fetch_value<std::int64_t>("PRAGMA secure_delete");
    if (was_ == 1) c_.execute("PRAGMA secure_delete = FAST");
  }
  ~SecureDeleteFast() {
    if (was_ != 1) return;
    try {
      c_.execute("PRAGMA secure_delete = 1");
    } catch (...) {  // a destructor never throws; the connection is broken anyway
    }
  }
  SecureDeleteFast(const SecureDeleteFast&) = delete;
  SecureDeleteFast& operator=(const SecureDeleteFast&) = delete;

 private:
  Connection& c_;
  std::int64_t was_ = -1;
};

bool drops_a_column(const Table& from, const Table& to) {
  return std::any_of(from.columns.begin(), from.columns.end(),
                     [&](const Column& c) { return to.find_column(c.name) == nullptr; });
}

// The rebuilt table's own foreign keys and those of every table that
// references it: nothing else changed.
void check_foreign_keys(Connection& c, const Schema& schema, const std::string& table) {
  std::vector<std::string> tables{table};
  for (const Table& t : schema.tables) {
    if (t.name == table) continue;
    if (std::any_of(t.foreign_keys.begin(), t.foreign_keys.end(),
                    [&](const ForeignKey& fk) { return fk.referenced_table == table; })) {
      tables.push_back(t.name);
    }
  }
  strata::detail::check_foreign_keys(c, "after rebuilding table " + table, "everything was rolled back", tables);
}

}  // namespace

Diff rebuild_table(Connection& connection, const Table& desired, const RebuildOptions& options) {
  require_sqlite_outside_transaction(connection);
  const Schema current = inspect(connection);
  Schema target = current;
  auto it = std::find_if(target.tables.begin(), target.tables.end(),
                         [&](const Table& t) { return t.name == desired.name; });
  if (it == target.tables.end()) {
    throw Error(ErrorKind::usage, fmt::format("rebuild_table: no table {} in the database", desired.name));
  }
  *it = desired;
  Diff d = diff(current, target);
  if (!d.unsupported.empty()) {
    std::string list;
    for (const std::string& u : d.unsupported) list += "\n  " + u;
    throw Error(ErrorKind::usage, fmt::format("rebuild_table {}: cannot make these changes:{}", desired.name, list));
  }
  if (d.empty() || options.dry_run) return d;

  ForeignKeysOff fk_off(connection);
  SecureDeleteFast fast(connection, drops_a_column(*current.find_table(desired.name), desired));
  Transaction tx(connection);
  for (const Change& c : d.changes) {
    for (const std::string& s : c.statements) connection.execute(s);
  }
  check_foreign_keys(connection, target, desired.name);
  tx.commit();
  return d;
}

Diff rebuild_table(Connection& connection, std::string_view table, const std::function<void(Table&)>& edit,
                   const RebuildOptions& options) {
  require_sqlite_outside_transaction(connection);
  const Schema current = inspect(connection);
  const Table* t = current.find_table(table);
  if (t == nullptr) throw Error(ErrorKind::usage, fmt::format("rebuild_table: no table {} in the database", table));
  Table desired = *t;
  edit(desired);
  if (desired.name != t->name) {
    throw Error(ErrorKind::usage, fmt::format("rebuild_table {}: the edit renamed the table; rename with ALTER TABLE", table));
  }
  return rebuild_table(connection, desired, options);
}

}  // namespace strata::schema
