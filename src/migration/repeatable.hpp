// src/migration/repeatable.hpp: the table recording repeatable migrations
// (strata/migration.hpp, MigrationSet::repeatables()).
//
//   CREATE TABLE <schema>.<history table>_repeatable (
//     name               TEXT PRIMARY KEY,   -- R_<name>.sql
//     checksum           TEXT NOT NULL,      -- of the text that last ran
//     applied_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
//     execution_time_us  BIGINT NOT NULL
//   )
// Beside the history table, created only when a source has repeatables.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "strata/history.hpp"

namespace strata {

class Connection;

namespace detail {

class RepeatableTable {
 public:
  // Error{config} when the derived name is not a valid identifier (too long).
  RepeatableTable(Connection& connection, const HistoryOptions& history);
  bool exists();
  void ensure();
  std::string ensure_sql() const;
  // name -> checksum; an absent table reads as empty.
  std::map<std::string, std::string> read();
  // Inserts or updates the row of `name`. Call inside the run's transaction.
  void record(const std::string& name, const std::string& checksum, std::int64_t execution_time_us);
  std::string record_sql(const std::string& name, const std::string& checksum) const;

 private:
  Connection& connection_;
  std::string schema_, table_, qualified_;
};

}  // namespace detail
}  // namespace strata
