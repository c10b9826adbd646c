#include "strata/history.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata {

namespace {

bool identifier_ok(std::string_view name, bool allow_hyphen) {
  bool ok = !name.empty() && name.size() <= 63 && !(name[0] >= '0' && name[0] <= '9') && name[0] != '-';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                (allow_hyphen && c == '-'));
  }
  return ok;
}

}  // namespace

void validate_identifier(std::string_view name, std::string_view what) {
  if (!identifier_ok(name, false)) {
    throw Error(ErrorKind::config,
                fmt::format("invalid {} '{}': use 1 to 63 ASCII letters, digits and '_', "
                            "not starting with a digit",
                            what, name));
  }
}

void validate_schema_name(std::string_view name, std::string_view what) {
  if (!identifier_ok(name, true)) {
    throw Error(ErrorKind::config,
                fmt::format("invalid {} '{}': use 1 to 63 ASCII letters, digits, '_' and '-', "
                            "starting with a letter or '_'",
                            what, name));
  }
}

namespace {

std::string literal(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

const char* to_string(HistoryFormat format) noexcept {
  return format == HistoryFormat::sqlx ? "sqlx" : format == HistoryFormat::mautrix ? "mautrix" : "strata";
}

namespace {

bool sqlx(const HistoryOptions& o) { return o.format == HistoryFormat::sqlx; }
bool mautrix(const HistoryOptions& o) { return o.format == HistoryFormat::mautrix; }

// sqlx's description: the file name's, with '_' as ' '.
std::string sqlx_description(const Migration& m) {
  std::string d = m.description;
  std::replace(d.begin(), d.end(), '_', ' ');
  return d;
}

Blob unhex(std::string_view hex) {
  Blob out;
  auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(digit(hex[i]) * 16 + digit(hex[i + 1])));
  }
  return out;
}

}  // namespace

History::History(Connection& connection, HistoryOptions options)
    : connection_(connection), options_(std::move(options)) {
  validate_identifier(options_.table, "history table name");
  if (connection_.engine() == Engine::postgres) {
    validate_schema_name(options_.schema, "history schema name");
    qualified_ = Connection::quote_identifier(options_.schema) + "." +
                 Connection::quote_identifier(options_.table);
  } else {
    qualified_ = Connection::quote_identifier(options_.table);
  }
}

bool History::exists() {
  if (known_to_exist_) return true;  // strata never drops it
  if (connection_.engine() == Engine::sqlite) {
    known_to_exist_ = !connection_.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
                              {options_.table})
                .rows.empty();
    return known_to_exist_;
  }
  known_to_exist_ = !connection_.query("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2",
                            {options_.schema, options_.table})
              .rows.empty();
  return known_to_exist_;
}

std::string History::ensure_sql() const {
  if (mautrix(options_)) return fmt::format("CREATE TABLE IF NOT EXISTS {} (version INTEGER, compat INTEGER)", qualified_);
  if (sqlx(options_)) {  // sqlx's own statements, column for column
    const bool lite = connection_.engine() == Engine::sqlite;
    return fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (\n"
        "  version BIGINT PRIMARY KEY,\n"
        "  description TEXT NOT NULL,\n"
        "  installed_on {} NOT NULL DEFAULT {},\n"
        "  success BOOLEAN NOT NULL,\n"
        "  checksum {} NOT NULL,\n"
        "  execution_time BIGINT NOT NULL\n"
        ")",
        qualified_, lite ? "TIMESTAMP" : "TIMESTAMPTZ", lite ? "CURRENT_TIMESTAMP" : "now()",
        lite ? "BLOB" : "BYTEA");
  }
  if (connection_.engine() == Engine::sqlite) {
    return fmt::format(
        "CREATE TABLE IF NOT EXISTS {} (\n"
        "  version INTEGER PRIMARY KEY,\n"
        "  description TEXT NOT NULL,\n"
        "  checksum TEXT NOT NULL,\n"
        "  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),\n"
        "  execution_time_us INTEGER NOT NULL,\n"
        "  success INTEGER NOT NULL,\n"
        "  failure TEXT,\n"
        "  compat_floor INTEGER\n"
        ")",
        qualified_);
  }
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {} (\n"
      "  version BIGINT PRIMARY KEY,\n"
      "  description TEXT NOT NULL,\n"
      "  checksum TEXT NOT NULL,\n"
      "  applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
      "  execution_time_us BIGINT NOT NULL,\n"
      "  success BOOLEAN NOT NULL,\n"
      "  failure TEXT,\n"
      "  compat_floor BIGINT\n"
      ")",
      qualified_);
}

void History::ensure() {
  if (exists()) return;
  if (connection_.engine() == Engine::postgres &&
      connection_.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {options_.schema})
          .rows.empty()) {
    // Only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE
    // privilege on the database even when the schema is already there.
    connection_.execute("CREATE SCHEMA IF NOT EXISTS " + Connection::quote_identifier(options_.schema));
  }
  connection_.execute(ensure_sql());
  known_to_exist_ = true;
}

std::vector<AppliedMigration> History::read_mautrix() {
  ResultSet rows;
  try {
    rows = connection_.query(fmt::format("SELECT version, compat FROM {} LIMIT 1", qualified_));
  } catch (Error& e) {
    if (e.kind() != ErrorKind::sql) throw;
    // mautrix-go's tables from before 2022 have no compat column (it adds
    // one at start-up): read the version alone.
    try {
      rows = connection_.query(fmt::format("SELECT version, NULL FROM {} LIMIT 1", qualified_));
      mautrix_add_compat_ = true;  // as mautrix-go does, before the next write
    } catch (Error&) {
      throw_unknown_layout(e);
    }
  }
  std::vector<AppliedMigration> out;
  for (const auto& r : rows.rows) {
    AppliedMigration a;
    a.version = r.get<std::optional<std::int64_t>>(0).value_or(0);
    const std::int64_t compat = r.get<std::optional<std::int64_t>>(1).value_or(0);
    a.compat_floor = compat != 0 ? compat : a.version;
    a.description = "mautrix-go version table";
    if (a.version > 0) out.push_back(std::move(a));
  }
  return out;
}

void History::write_mautrix(Version version, Version compat) {
  if (!exists()) ensure();
  if (mautrix_add_compat_) {
    connection_.execute(fmt::format("ALTER TABLE {} ADD COLUMN compat INTEGER", qualified_));
    mautrix_add_compat_ = false;
  }
  connection_.execute(fmt::format("DELETE FROM {}", qualified_));
  connection_.execute(fmt::format("INSERT INTO {} (version, compat) VALUES ($1, $2)", qualified_), {version, compat});
}

// A table of the history's name that strata cannot read: name it, list
// its columns and say what to do, instead of the failed SELECT alone.
void History::throw_unknown_layout(const Error& cause) {
  std::vector<std::string> columns;
  try {
    const auto rows = connection_.engine() == Engine::sqlite
                          ? connection_.query("SELECT name FROM pragma_table_info($1)", {options_.table})
                          : connection_.query("SELECT column_name::text FROM information_schema.columns "
                                              "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                                              {options_.schema, options_.table});
    for (const auto& r : rows.rows) columns.push_back(r.get<std::string>(0));
  } catch (const Error&) {
  }
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + c;
  const bool looks_sqlx = std::find(columns.begin(), columns.end(), "installed_on") != columns.end() &&
                          std::find(columns.begin(), columns.end(), "execution_time") != columns.end();
  Error e(ErrorKind::config,
          fmt::format("reading the history table {} in {} format: the table exists but is not laid out that way "
                      "(columns found: {}; expected {}). Another tool's table of that name? "
                      "The database said: {}",
                      qualified_, to_string(options_.format), list.empty() ? "none readable" : list,
                      sqlx(options_)      ? "version, description, installed_on, success, checksum, execution_time"
                      : mautrix(options_) ? "version, compat"
                                          : "version, description, checksum, applied_at, execution_time_us, success, "
                                            "failure, compat_floor",
                      cause.engine_message()),
          cause.engine_code());
  e.hint(looks_sqlx && !sqlx(options_)
             ? "it is sqlx's layout: pass --history-format sqlx (or history_format = \"sqlx\" under [migrations]) "
               "to read and write it as sqlx does, or `strata adopt` another tool's history into strata's own table"
             : "--history-format takes strata, sqlx or mautrix; or point strata at its own table with --history-table NAME "
               "(history_table in strata.toml), and `strata adopt` the other tool's history into it");
  throw e;
}

std::vector<AppliedMigration> History::read() {
  std::vector<AppliedMigration> out;
  // On PostgreSQL, outside a transaction, strata's own table is read
  // without asking the catalog first whether it is there: in a new backend
  // that question (the pg_tables view, cold caches) costs ~4 ms, a tenth of
  // a no-op `up` (bench/noop). A missing table or schema then fails the
  // read (42P01, 3F000), which means absent, at the price of one ERROR line
  // in the server's log before the first migration. Inside a transaction
  // the error would abort it, so the catalog is asked first there.
  const bool read_to_find_out = connection_.engine() == Engine::postgres && !known_to_exist_ &&
                                !connection_.in_transaction() && !sqlx(options_) && !mautrix(options_);
  if (!read_to_find_out && !exists()) return out;
  if (sqlx(options_)) return read_sqlx();
  if (mautrix(options_)) return read_mautrix();
  const char* applied_at = connection_.engine() == Engine::sqlite
                               ? "applied_at"
                               : "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')";
  ResultSet rows;
  try {
    rows = connection_.query(
        fmt::format("SELECT version, description, checksum, {}, execution_time_us, success, failure, "
                    "compat_floor "
                    "FROM {} ORDER BY version",
                    applied_at, qualified_));
  } catch (Error& e) {
    if (e.kind() != ErrorKind::sql) throw;
    if (read_to_find_out && (e.engine_code() == "42P01" || e.engine_code() == "3F000")) return out;
    throw_unknown_layout(e);
  }
  known_to_exist_ = true;
  out.reserve(rows.rows.size());
  for (const auto& r : rows.rows) {
    AppliedMigration a;
    a.version = r.get<std::int64_t>(0);
    a.description = r.get<std::string>(1);
    a.checksum = r.get<std::string>(2);
    a.applied_at = r.get<std::string>(3);
    a.execution_time_us = r.get<std::int64_t>(4);
    a.success = r.get<bool>(5);
    a.failure = r.get<std::optional<std::string>>(6).value_or("");
    a.compat_floor = r.get<std::optional<std::int64_t>>(7);
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<AppliedMigration> History::read_sqlx() {
  const bool lite = connection_.engine() == Engine::sqlite;
  ResultSet rows;
  try {
    rows = connection_.query(fmt::format(
        "SELECT version, description, {}, {}, execution_time, success FROM {} ORDER BY version",
        lite ? "lower(hex(checksum))" : "encode(checksum, 'hex')",
        lite ? "CAST(installed_on AS TEXT)" : "to_char(installed_on AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        qualified_));
  } catch (Error& e) {
    if (e.kind() != ErrorKind::sql) throw;
    throw_unknown_layout(e);
  }
  std::vector<AppliedMigration> out;
  out.reserve(rows.rows.size());
  for (const auto& r : rows.rows) {
    AppliedMigration a;
    a.version = r.get<std::int64_t>(0);
    a.description = r.get<std::string>(1);
    a.checksum = r.get<std::string>(2);
    a.applied_at = r.get<std::string>(3);
    a.execution_time_us = r.get<std::int64_t>(4) / 1000;
    a.success = r.get<bool>(5);
    if (!a.success) a.failure = "recorded as failed (success = false in sqlx's table)";
    out.push_back(std::move(a));
  }
  return out;
}

void History::record(const Migration& m, std::int64_t execution_time_us, bool success,
                     std::optional<Version> compat_floor, std::string_view failure) {
  if (mautrix(options_)) {
    // A no-transaction migration's "started" mark has no place in the
    // table: the version moves when it finishes.
    if (success) write_mautrix(m.version, compat_floor.value_or(m.version));
    else mautrix_started_compat_ = compat_floor.value_or(m.version);
    return;
  }
  if (sqlx(options_)) {
    connection_.execute(fmt::format("INSERT INTO {} (version, description, success, checksum, execution_time) "
                                    "VALUES ($1, $2, $3, $4, $5)",
                                    qualified_),
                        {m.version, sqlx_description(m), success, unhex(sqlx_checksum(m)), execution_time_us * 1000});
    return;
  }
  connection_.execute(
      fmt::format("INSERT INTO {} (version, description, checksum, execution_time_us, success, failure, "
                  "compat_floor) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                  qualified_),
      {m.version, m.description, m.checksum, execution_time_us, success,
       failure.empty() ? Value() : Value(failure), Value(compat_floor)});
}

void History::remove(Version version) {
  if (mautrix(options_)) {
    throw Error(ErrorKind::usage,
                fmt::format("cannot remove migration {} from mautrix-go's version table, which holds only the "
                            "newest version (mautrix migrations are not reverted)",
                            version));
  }
  connection_.execute(fmt::format("DELETE FROM {} WHERE version = $1", qualified_), {version});
}

std::optional<Version> compat_floor(const std::vector<AppliedMigration>& history) {
  std::optional<Version> floor;
  for (const auto& a : history) {
    if (a.compat_floor && (!floor || *a.compat_floor > *floor)) floor = a.compat_floor;
  }
  return floor;
}

void History::finish(Version version, std::int64_t execution_time_us) {
  if (mautrix(options_)) {
    write_mautrix(version, mautrix_started_compat_.value_or(version));
    mautrix_started_compat_.reset();
    return;
  }
  if (sqlx(options_)) {
    connection_.execute(
        fmt::format("UPDATE {} SET success = $1, execution_time = $2 WHERE version = $3", qualified_),
        {true, execution_time_us * 1000, version});
    return;
  }
  connection_.execute(
      fmt::format("UPDATE {} SET success = $1, failure = NULL, execution_time_us = $2 WHERE version = $3",
                  qualified_),
      {true, execution_time_us, version});
}

void History::mark_dirty(Version version, std::string_view failure) {
  if (mautrix(options_)) return;  // no place for it: the previous version stays
  if (sqlx(options_)) {  // sqlx keeps no failure text
    connection_.execute(fmt::format("UPDATE {} SET success = $1 WHERE version = $2", qualified_), {false, version});
    return;
  }
  connection_.execute(fmt::format("UPDATE {} SET success = $1, failure = $2 WHERE version = $3", qualified_),
                      {false, failure, version});
}

std::string History::record_sql(const Migration& m, std::optional<Version> compat_floor) const {
  if (mautrix(options_)) {
    return fmt::format("DELETE FROM {};\nINSERT INTO {} (version, compat) VALUES ({}, {})", qualified_, qualified_,
                       m.version, compat_floor.value_or(m.version));
  }
  if (sqlx(options_)) {
    const std::string sum = sqlx_checksum(m);
    return fmt::format(
        "INSERT INTO {} (version, description, success, checksum, execution_time) VALUES ({}, {}, {}, {}, 0)",
        qualified_, m.version, literal(sqlx_description(m)), connection_.engine() == Engine::sqlite ? "1" : "true",
        connection_.engine() == Engine::sqlite ? "X'" + sum + "'" : "'\\x" + sum + "'::bytea");
  }
  return fmt::format(
      "INSERT INTO {} (version, description, checksum, execution_time_us, success, compat_floor) "
      "VALUES ({}, {}, {}, 0, {}, {})",
      qualified_, m.version, literal(m.description), literal(m.checksum),
      connection_.engine() == Engine::sqlite ? "1" : "true",
      compat_floor ? std::to_string(*compat_floor) : "NULL");
}

}  // namespace strata
