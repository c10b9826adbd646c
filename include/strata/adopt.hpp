// strata/adopt.hpp: taking over a database from another migration tool
// without running anything (`strata adopt`, docs/adopt.md).
//
// The other tool's table says which migrations are applied; strata records
// the same ones in its own history (or sqlx's, with HistoryFormat::sqlx),
// in one transaction under the migration lock, and leaves the other table
// as it is. The strata history must be empty: adoption is for the switch,
// not a merge (use `strata stamp` afterwards to adjust).
//   alembic         alembic_version (version_num: one row per head); each
//                   migration names its revision with
//                   "-- strata: alembic-revision REV"; every ancestor of
//                   the heads is recorded.
//   mautrix         mautrix-go's version table (version, compat): every
//                   migration up to that version.
//   dbmate          schema_migrations with one row per applied version.
//   golang-migrate  schema_migrations (version, dirty) with one row: every
//                   migration up to it; dirty refuses.
//   flyway          flyway_schema_history: successful versioned rows (a
//                   BASELINE row counts for every version up to it), each
//                   SQL row's checksum checked against the file with
//                   Flyway's own rule (CRC-32 of the lines without their
//                   line breaks, a BOM removed, as a signed 32-bit value).
// The other tool's versions must be strata's versions (integers); a version
// the source does not have, a changed checksum or a failed row is an error
// naming it, and nothing is written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"

namespace strata {

enum class AdoptFrom { alembic, mautrix, dbmate, golang_migrate, flyway };

// "alembic", "mautrix", "dbmate", "golang-migrate", "flyway".
const char* to_string(AdoptFrom from) noexcept;

struct AdoptOptions {
  AdoptFrom from = AdoptFrom::dbmate;
  // The other tool's table; empty: its default (alembic_version, version,
  // schema_migrations, flyway_schema_history). PostgreSQL: in the history
  // schema unless qualified by `schema`.
  std::string table;
  std::string schema;  // PostgreSQL; empty: the history schema
  bool dry_run = false;
};

struct AdoptResult {
  std::string found;              // what the other tool's table says, for people
  std::vector<Version> recorded;  // the versions strata recorded (or would)
};

// Flyway's checksum of a file's text.
std::int32_t flyway_checksum(std::string_view text);

}  // namespace strata
