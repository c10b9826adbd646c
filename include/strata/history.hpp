// strata/history.hpp: the table that records applied migrations.
//
// Layout (PostgreSQL types; SQLite uses INTEGER/TEXT equivalents):
//   CREATE TABLE <schema>.<table> (
//     version            BIGINT PRIMARY KEY,
//     description        TEXT NOT NULL,
//     checksum           TEXT NOT NULL,      -- hex SHA-384, see checksum()
//     applied_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
//     execution_time_us  BIGINT NOT NULL,    -- microseconds
//     success            BOOLEAN NOT NULL,   -- false: started, not finished (dirty)
//     failure            TEXT,               -- for a dirty row: what failed
//     compat_floor       BIGINT              -- set by a breaking / compatible-with migration
//   )
// The database's compatibility floor is the largest compat_floor recorded:
// code whose newest migration is below it must not use the database.
// The table name is validated by validate_identifier(), the schema
// (PostgreSQL only) by validate_schema_name(); both are always quoted when
// built into SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "strata/error.hpp"
#include "strata/migration.hpp"

namespace strata {

class Connection;

// The layout of the history table.
//   strata: the layout above.
//   sqlx:   sqlx's `_sqlx_migrations`, exactly as sqlx-cli and sqlx::migrate!
//           read and write it: version BIGINT PRIMARY KEY, description TEXT
//           (the file's description with '_' as ' '), installed_on
//           TIMESTAMPTZ (SQLite: TIMESTAMP) DEFAULT now, success BOOLEAN,
//           checksum BYTEA (SQLite: BLOB) = SHA-384 of the file's raw bytes,
//           execution_time BIGINT in nanoseconds. No failure text and no
//           compatibility floor (sqlx has neither): a failed no-transaction
//           migration is success = false, as sqlx records it. The migration
//           lock is then sqlx's own advisory lock (0x3d32ad9e times the
//           CRC-32 of the database name), so sqlx and strata exclude each
//           other.
//   mautrix: mautrix-go's `version` table (version INTEGER, compat INTEGER,
//           one row), as its dbutil reads and writes it: after each
//           migration the row is replaced (DELETE, then INSERT) with the
//           migration's version and compatibility floor (its own version
//           unless it declares one). It records no checksums, times or
//           failures: read() returns that one row (compat_floor = compat, or
//           the version when compat is NULL or 0), a failed no-transaction
//           migration leaves the previous version in place (as mautrix-go
//           does), and remove() is refused (Error{usage}): the table cannot
//           say which version came before. strata's own lock is used.
enum class HistoryFormat { strata, sqlx, mautrix };

const char* to_string(HistoryFormat format) noexcept;

struct HistoryOptions {
  std::string table = "strata_migrations";
  std::string schema = "public";  // ignored on SQLite
  HistoryFormat format = HistoryFormat::strata;
};

struct AppliedMigration {
  Version version = 0;
  std::string description;
  std::string checksum;
  std::string applied_at;  // as the engine formats it, UTC
  std::int64_t execution_time_us = 0;
  bool success = true;
  std::string failure;
  std::optional<Version> compat_floor;
};

// The largest compat_floor in `history`, if any migration set one.
std::optional<Version> compat_floor(const std::vector<AppliedMigration>& history);

// Throws Error{ErrorKind::config} unless `name` is 1-63 bytes of ASCII letters,
// digits and '_', not starting with a digit. `what` names it in the message.
void validate_identifier(std::string_view name, std::string_view what);
// The same rule, but '-' is also allowed after the first byte: per-instance
// schemas (strata/instance_host.hpp) are a prefix plus an instance id such
// as "my-bot". Safe because the schema is always quoted.
void validate_schema_name(std::string_view name, std::string_view what);

// Reads and writes the history table on one connection. Not thread-safe.
class History {
 public:
  // Validates the names in `options`; throws Error{ErrorKind::config}.
  History(Connection& connection, HistoryOptions options);

  // The quoted, schema-qualified table name.
  const std::string& qualified_name() const noexcept { return qualified_; }
  bool exists();
  // Creates the schema (PostgreSQL) and table if missing.
  void ensure();
  // All rows, ordered by version. An absent table reads as empty.
  std::vector<AppliedMigration> read();
  // Inserts a row. Call inside the migration's transaction.
  void record(const Migration& m, std::int64_t execution_time_us, bool success,
              std::optional<Version> compat_floor, std::string_view failure = {});
  // Removes a row (a reverted migration, or `repair --forget`).
  void remove(Version version);
  // No-transaction migrations: record(m, 0, false) before the first statement,
  // then finish() after the last, or mark_dirty() naming what failed.
  void finish(Version version, std::int64_t execution_time_us);
  void mark_dirty(Version version, std::string_view failure);
  // The SQL record() runs, rendered with literals, for `up --sql`.
  std::string record_sql(const Migration& m, std::optional<Version> compat_floor) const;
  std::string ensure_sql() const;

 private:
  [[noreturn]] void throw_unknown_layout(const Error& cause);
  std::vector<AppliedMigration> read_sqlx();
  std::vector<AppliedMigration> read_mautrix();
  void write_mautrix(Version version, Version compat);
  std::optional<Version> mautrix_started_compat_;  // record(success=false) .. finish()
  bool mautrix_add_compat_ = false;                // read() found a table without "compat"
  Connection& connection_;
  HistoryOptions options_;
  std::string qualified_;
  bool known_to_exist_ = false;  // once seen, the table stays (strata never drops it)
};

}  // namespace strata
