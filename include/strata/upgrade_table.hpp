// strata/upgrade_table.hpp: migrations registered in C++ (maubot's
// UpgradeTable, Synapse's code deltas), alone or beside SQL files.
//
//   strata::UpgradeTable table("notes");
//   table.add_sql(1, "create_notes", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);");
//   table.add(2, "backfill_titles", [](strata::Connection& c, strata::Engine engine) {
//     c.execute(engine == strata::Engine::postgres ? "UPDATE ... ILIKE ..." : "UPDATE ... LIKE ...");
//   });
//   auto set = strata::merge(strata::load_directory("migrations", engine), table);
//   strata::Migrator(connection, set).up();
//
// A table is plain data: build it once (typically at start-up), then read it
// from any number of threads. Registering is not thread-safe.
//
// Code steps. The function runs with the connection and its engine, inside
// the step's transaction (with the history row) unless `transactional` is
// false; then it runs in autocommit mode, is recorded as started first, and a
// failure leaves the database dirty, exactly like a "-- strata:
// no-transaction" file. An exception from the function fails the step; one
// that is not a strata::Error becomes Error{ErrorKind::sql} with its what().
//
// Code step checksum. The function body cannot be hashed, so a code step's
// checksum covers what identifies it:
//   checksum("code:" + <version in decimal> + "\n" + <description> + "\n" + <revision>)
// (strata::checksum: hex SHA-384, after removing a leading BOM and turning
// CRLF into LF). Changing the description or the revision of an applied step
// therefore reports it as changed; editing only its function does not. Bump
// `revision` (any text, e.g. "2") when an applied step's behaviour changes on
// purpose and existing databases should be flagged; the transactional flag,
// down function and compatibility floor are not covered.
//
// SQL steps are migrations given as text: checksummed, split and run exactly
// like a file with that text (directives such as "-- strata: no-transaction"
// included), and the same text on both engines (use "-- only: postgres" lines
// or a code step to differ). Their path, shown in messages and error
// positions, is "<table name>#<version>" ("notes#3:2:7: SQL error ...").
//
// Both kinds appear in history and status like files, under their version
// and description.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"

namespace strata {

struct CodeStepOptions {
  // false: run outside a transaction (see above).
  bool transactional = true;
  // SQLite: run with foreign keys off (Migration::code_foreign_keys_off).
  bool foreign_keys_off = false;
  // Makes the step reversible (strata::Migrator::down).
  MigrationFunction down;
  // The compatibility floor this step sets once applied (Migration::compat_floor).
  std::optional<Version> compat_floor;
  // Part of the checksum (see above).
  std::string revision;
};

struct SqlStepOptions {
  // Makes the step reversible; run like a .down.sql file.
  std::string down_sql;
};

class UpgradeTable {
 public:
  // `name` prefixes SQL steps' paths; it should say whose table this is.
  explicit UpgradeTable(std::string name = "upgrade_table");

  // Register a step. Throw Error{ErrorKind::usage} for a version < 1, an
  // empty description or (code) an empty function, and Error{ErrorKind::source}
  // for a version this table already has. Return *this for chaining.
  UpgradeTable& add(Version version, std::string description, MigrationFunction up,
                    CodeStepOptions options = {});
  UpgradeTable& add_sql(Version version, std::string description, std::string sql, SqlStepOptions options = {});

  const std::string& name() const noexcept { return name_; }
  // The registered steps as a set, linked linearly by version (each step's
  // parent is the previous version).
  MigrationSet migrations() const;

 private:
  void check_new(Version version, const std::string& description) const;

  std::string name_;
  std::vector<Migration> steps_;
};

// The checksum of a code step (see the file comment).
std::string code_checksum(Version version, std::string_view description, std::string_view revision);

// One ordered set from two: typically files (load_directory / load_embedded)
// and an upgrade table. Every migration's parents are relinked linearly by
// version. A version in both is Error{ErrorKind::source} naming both sides
// (every clash, not just the first).
MigrationSet merge(MigrationSet a, MigrationSet b);
MigrationSet merge(MigrationSet files, const UpgradeTable& table);

}  // namespace strata
