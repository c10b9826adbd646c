// strata/port.hpp: moving a database from SQLite to PostgreSQL (`strata
// port`), typed by the schema, resumable, in batches through COPY.
//
// What port() does, in order:
//   1. Reads the source's history: the version it is at. Refuses
//      (Error{port_target}) a target that holds rows in any table it would
//      fill, or whose history is at another version, saying which; a target
//      at the same version with no rows (a migrated, empty database) is fine.
//   2. Migrates the target to the source's version with the same migration
//      set (Migrator::up with that target), unless it is already there.
//   3. Inspects both schemas (strata/schema/inspect.hpp). The tables copied
//      are the target's tables that the source also has; a source table
//      the target lacks is an error naming it (the sets differ).
//   4. Drops the target's foreign keys among the copied tables (their
//      definitions are kept in the progress table first, so a resumed run
//      can restore them), so tables copy in any order and in parallel, and
//      reference cycles need nothing special. Tables are still taken in
//      foreign-key order (referenced first; a cycle broken at its smallest
//      name), so a single job fills parents before children.
//   5. Copies each table in one transaction that first deletes what the
//      migrations seeded there (the source holds those rows too, as they are
//      now): the source rows stream, in
//      primary-key (else rowid) order, through COPY ... FROM STDIN in text
//      format, each value converted by the TARGET column's type (never a
//      hand-kept list): integers to boolean (0/1; also text 't'/'f',
//      'true'/'false'), text to json/jsonb/uuid/timestamptz (the server
//      checks it), a 16-byte blob to uuid, integers or reals to timestamps
//      as Unix seconds, blobs to bytea, text to bytea as its bytes, integers
//      to text as digits. A value that does not convert (a non-integer
//      string for a boolean, text holding a NUL byte, a float for an
//      integer column, a value the server rejects) stops the port with
//      Error{port_conversion} naming table, row key, column and the value
//      (truncated); that table's transaction rolls back, tables already
//      committed stay, and --resume continues from there.
//   6. Copies strata's own history rows (and the background-update queue
//      and log) as they are, replacing what step 2 wrote, so the target's
//      history says what the source's said.
//   7. Restores the foreign keys (each validated by PostgreSQL: a dangling
//      reference is an error naming the constraint), resets every sequence
//      and identity column past the copied maximum, and verifies row counts
//      per table (Error{port_verify} on a mismatch); with verify, also a
//      per-table checksum of every row as both engines read it back,
//      normalised by the target column's type.
// Progress lives on the target in strata_port_progress (one row per table:
// state, rows copied) and strata_port_foreign_keys (the dropped foreign
// keys); both are dropped when the port completes. A target that holds them
// is an interrupted port: port() refuses it unless resume is set, and then
// skips the tables already done.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "strata/background.hpp"
#include "strata/history.hpp"
#include "strata/migration.hpp"
#include "strata/synapse.hpp"
#include "strata/url.hpp"

namespace strata {

struct PortProgress {
  std::string table;
  std::int64_t rows_done = 0;
  std::int64_t rows_total = 0;  // the source's count, read before copying
  std::chrono::microseconds elapsed{0};
  bool finished = false;
};

// A source laid out as Synapse lays out its schema (strata/synapse.hpp):
// its version is Synapse's schema_version, not a strata history.
struct SynapsePortSource {
  SynapseLayout layout;
  std::vector<std::string> logical;  // the logical databases the SQLite file hosts (all of them, for Synapse)
  SynapseOptions options;            // code deltas, skip_code_deltas, lock
};

struct PortOptions {
  // Tables copied at once (each on its own pair of connections).
  int jobs = 1;
  // Continue an interrupted port (see above).
  bool resume = false;
  // Compare a checksum of every table's rows after copying.
  bool verify = false;
  // The history table and background-update tables, the same names on both
  // sides (BackgroundTables::schema empty = the history schema).
  HistoryOptions history;
  BackgroundTables background;
  // Set: the source is a Synapse-layout database. Its schema_version must
  // be the layout's schema_version (the source is up to date); the target
  // is created with SynapseMigrator (snapshot + deltas, as Synapse's own
  // prepare_database would), then every table is copied, Synapse's state
  // tables (schema_version, schema_compat_version, applied_schema_deltas,
  // applied_module_schemas) included, replacing what the migrator wrote.
  // The migration set passed to port() is then unused (pass an empty one).
  std::optional<SynapsePortSource> synapse;
  // Rows per COPY data message batch (memory stays bounded by it).
  int batch_rows = 5000;
  // Called from the copying threads (serialised by port()) as tables start,
  // advance (about every batch) and finish.
  std::function<void(const PortProgress&)> on_progress;
  // Warnings (a table skipped by resume, ...).
  std::function<void(std::string_view)> on_warning;
};

struct PortTable {
  std::string name;
  std::int64_t rows = 0;
  std::chrono::microseconds duration{0};
  bool resumed = false;        // already copied by an earlier run
  std::string checksum;        // with verify: hex SHA-384 of the rows
};

struct PortResult {
  Version version = 0;         // the version both databases are at
  std::vector<PortTable> tables;
  std::int64_t rows = 0;
  std::chrono::microseconds duration{0};
  std::vector<std::string> sequences_reset;  // "table.column" or sequence names
};

// Ports `from` (a SQLite URL) to `to` (a PostgreSQL URL) as described above,
// with `migrations` (for the target's engine) bringing the target to the
// source's version. Throws Error{usage} for wrong engines,
// Error{connection} for an unreachable database, Error{port_target},
// Error{port_conversion} or Error{port_verify} as above, and the migrator's
// errors while migrating the target.
PortResult port(const DatabaseUrl& from, const DatabaseUrl& to, const MigrationSet& migrations,
                const PortOptions& options = {});

}  // namespace strata
