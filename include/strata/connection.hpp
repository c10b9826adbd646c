// strata/connection.hpp: one open connection to SQLite or PostgreSQL.
//
// A Connection owns its engine handle (sqlite3* or PGconn*); the C libraries
// never appear in public headers. A Connection is not thread-safe: use one
// per thread (strata/pool.hpp hands them out to many threads).
//
// Parameters are written $1, $2, ... on both engines. Every failure throws
// strata::Error carrying the engine's code, its message and the SQL text.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/url.hpp"
#include "strata/value.hpp"

namespace strata {

struct ConnectOptions {
  // SQLite: how long a writer waits for another's lock (busy_timeout).
  std::chrono::milliseconds busy_timeout{5000};
  // PostgreSQL: connect_timeout handed to libpq (seconds, rounded up).
  std::chrono::milliseconds connect_timeout{10000};
  // PostgreSQL: application_name shown in pg_stat_activity.
  std::string application_name = "strata";
  // Reading only (dump, diff and drift sources): SQLite opens the file
  // read-only (never created, never switched to WAL, so a rollback-journal
  // database keeps its header byte for byte); PostgreSQL sessions run with
  // default_transaction_read_only = on.
  bool read_only = false;
};

// What the engine says about a statement it prepared without running it
// (Connection::describe; `strata prepare` builds on it).
struct ParameterDescription {
  // PostgreSQL: the type the server inferred (format_type: "integer",
  // "text", "timestamp with time zone") and its OID. SQLite: empty and 0
  // (SQLite parameters have no type).
  std::string type;
  std::uint32_t type_oid = 0;
};

struct ColumnDescription {
  std::string name;  // as the engine names the result column
  // PostgreSQL: format_type of the column's type, and its OID. SQLite: the
  // declared type of the table column it comes from (sqlite3_column_decltype),
  // empty for an expression.
  std::string type;
  std::uint32_t type_oid = 0;
  // The table column the value comes straight from (PQftable/PQftablecol;
  // sqlite3_column_table_name/origin_name): empty for an expression. Tables
  // are named without their schema.
  std::string table;
  std::string table_column;
  // The catalog's NOT NULL for that table column (attnotnull;
  // sqlite3_table_column_metadata, where an INTEGER PRIMARY KEY also counts).
  // False for an expression. Joins are not considered here.
  bool not_null = false;
};

struct StatementDescription {
  std::vector<ParameterDescription> parameters;  // $1..$n, in order
  std::vector<ColumnDescription> columns;
};

class Connection {
 public:
  virtual ~Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Engine engine() const noexcept = 0;
  // Whether DDL can be rolled back (true on both engines we support).
  virtual bool transactional_ddl() const noexcept = 0;
  // The URL with its password hidden.
  const std::string& redacted_url() const noexcept { return redacted_url_; }

  // Runs one statement with parameters and returns its rows (empty for DDL).
  // The SQL must hold exactly one statement (trailing ';', whitespace and
  // comments are fine; more is Error{ErrorKind::usage}: use execute_script);
  // blank SQL runs nothing and returns an empty result. The number of values
  // must equal the highest $n the statement uses (Error{ErrorKind::usage}).
  // PostgreSQL: integers are sent as int8, doubles as float8, bools as bool,
  // blobs as bytea; text, timestamps and NULL untyped, so the server infers
  // their type from the context (write $1::int where an int4 is required,
  // e.g. a function argument).
  virtual ResultSet query(std::string_view sql, std::span<const Value> params = {}) = 0;
  ResultSet query(std::string_view sql, std::initializer_list<Value> params) {
    return query(sql, std::span<const Value>(params.begin(), params.size()));
  }
  // Runs one statement; returns the number of rows it changed.
  std::int64_t execute(std::string_view sql, std::span<const Value> params = {}) {
    return query(sql, params).affected;
  }
  std::int64_t execute(std::string_view sql, std::initializer_list<Value> params) {
    return query(sql, params).affected;
  }
  // Convenience readers over query(), with the same rules and errors.
  // fetch: every row. fetch_one: the first row, or nullopt when there is
  // none (further rows are discarded). fetch_value: the first column of the
  // first row; Error{ErrorKind::usage} when the statement returns no row or
  // no column. fetch_value<T> converts it with Value::as<T>() (so
  // fetch_value<std::optional<T>> reads NULL as nullopt, but a missing row
  // still throws).
  std::vector<Row> fetch(std::string_view sql, std::span<const Value> params = {}) {
    return query(sql, params).rows;
  }
  std::vector<Row> fetch(std::string_view sql, std::initializer_list<Value> params) {
    return query(sql, params).rows;
  }
  std::optional<Row> fetch_one(std::string_view sql, std::span<const Value> params = {});
  std::optional<Row> fetch_one(std::string_view sql, std::initializer_list<Value> params) {
    return fetch_one(sql, std::span<const Value>(params.begin(), params.size()));
  }
  Value fetch_value(std::string_view sql, std::span<const Value> params = {});
  Value fetch_value(std::string_view sql, std::initializer_list<Value> params) {
    return fetch_value(sql, std::span<const Value>(params.begin(), params.size()));
  }
  template <class T>
  T fetch_value(std::string_view sql, std::span<const Value> params = {}) {
    return fetch_value(sql, params).template as<T>();
  }
  template <class T>
  T fetch_value(std::string_view sql, std::initializer_list<Value> params) {
    return fetch_value(sql, params).template as<T>();
  }
  // Prepares one statement without running it and describes its parameters
  // and result columns (PostgreSQL: PQprepare + PQdescribePrepared on the
  // unnamed statement, then the catalog; SQLite: sqlite3_prepare_v3 and the
  // column metadata API). Same one-statement rule and errors as query(); a
  // statement the engine rejects throws its Error{ErrorKind::sql} with
  // sql_offset() set when the engine names a position.
  virtual StatementDescription describe(std::string_view sql) = 0;

  // Runs a script of several statements without parameters, as the engine's
  // own multi-statement API does (PQexec; on SQLite a prepare/step loop over
  // the script). Errors carry no file position (migrations go through the
  // splitter instead), but their sql() is the whole script and sql_offset()
  // an offset into it when the engine named one.
  virtual void execute_script(std::string_view sql) = 0;

  // Quotes an identifier for this engine ("a""b"). Throws
  // Error{ErrorKind::config} for an empty name or one holding a NUL byte.
  static std::string quote_identifier(std::string_view name);

  // Transaction nesting depth, maintained by strata::Transaction.
  int transaction_depth() const noexcept { return depth_; }
  // Whether the engine itself has a transaction open (sqlite3_get_autocommit,
  // PQtransactionStatus): false after the engine ended one on its own, e.g.
  // a failed COMMIT on PostgreSQL or a BEGIN/COMMIT inside a script.
  virtual bool in_transaction() const noexcept { return depth_ > 0; }

 protected:
  explicit Connection(std::string redacted_url) : redacted_url_(std::move(redacted_url)) {}

 private:
  friend class Transaction;
  std::string redacted_url_;
  int depth_ = 0;
};

// Opens a connection. SQLite files are created if missing (mode 0600), and
// every SQLite connection runs with foreign_keys=ON, journal_mode=WAL (for
// files) and the busy timeout. Throws Error{ErrorKind::connection} with the
// redacted URL and the engine's reason.
std::unique_ptr<Connection> connect(const DatabaseUrl& url, const ConnectOptions& options = {});
std::unique_ptr<Connection> connect(std::string_view url, const ConnectOptions& options = {});

}  // namespace strata
