#include "migration/repeatable.hpp"

#include <fmt/format.h>

#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::detail {

RepeatableTable::RepeatableTable(Connection& connection, const HistoryOptions& history)
    : connection_(connection), schema_(history.schema), table_(history.table + "_repeatable") {
  if (history.format == HistoryFormat::sqlx) {
    throw Error(ErrorKind::config, "repeatable migrations need strata's history format: sqlx's table has no place "
                                   "for them (drop --history-format sqlx, or turn R_ files into versioned ones)");
  }
  validate_identifier(table_, "repeatable-migration table name (the history table's name + _repeatable)");
  qualified_ = connection_.engine() == Engine::postgres
                   ? Connection::quote_identifier(schema_) + "." + Connection::quote_identifier(table_)
                   : Connection::quote_identifier(table_);
}

bool RepeatableTable::exists() {
  if (connection_.engine() == Engine::sqlite) {
    return !connection_.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", {table_}).rows.empty();
  }
  return !connection_
              .query("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2", {schema_, table_})
              .rows.empty();
}

std::string RepeatableTable::ensure_sql() const {
  const bool lite = connection_.engine() == Engine::sqlite;
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (\n"
      "  name TEXT PRIMARY KEY,\n"
      "  checksum TEXT NOT NULL,\n"
      "  applied_at {} NOT NULL DEFAULT {},\n"
      "  execution_time_us BIGINT NOT NULL\n"
      ")",
      qualified_, lite ? "TEXT" : "TIMESTAMPTZ", lite ? "(strftime('%Y-%m-%d %H:%M:%f', 'now'))" : "now()");
}

void RepeatableTable::ensure() {
  if (!exists()) connection_.execute(ensure_sql());
}

std::map<std::string, std::string> RepeatableTable::read() {
  std::map<std::string, std::string> out;
  if (!exists()) return out;
  for (const auto& r : connection_.query("SELECT name, checksum FROM " + qualified_).rows) {
    out.emplace(r.get<std::string>(0), r.get<std::string>(1));
  }
  return out;
}

void RepeatableTable::record(const std::string& name, const std::string& checksum, std::int64_t execution_time_us) {
  const char* now = connection_.engine() == Engine::sqlite ? "strftime('%Y-%m-%d %H:%M:%f', 'now')" : "now()";
  connection_.execute(fmt::format("INSERT INTO {} (name, checksum, execution_time_us) VALUES ($1, $2, $3) "
                                  "ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum, applied_at = {}, "
                                  "execution_time_us = excluded.execution_time_us",
                                  qualified_, now),
                      {name, checksum, execution_time_us});
}

std::string RepeatableTable::record_sql(const std::string& name, const std::string& checksum) const {
  auto literal = [](const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  return fmt::format("INSERT INTO {} (name, checksum, execution_time_us) VALUES ({}, {}, 0) ON CONFLICT (name) DO "
                     "UPDATE SET checksum = excluded.checksum",
                     qualified_, literal(name), literal(checksum));
}

}  // namespace strata::detail
