// strata/query.hpp: checked queries. Named SQL queries in files, prepared
// against the schema the migrations produce, recorded in a checked-in JSON
// file and turned into typed C++ (`strata prepare`, docs/queries.md).
//
// Query files follow sqlc's convention: each statement is preceded by
//   -- name: FindUser :one
// where the kind is :one (at most one row: std::optional<Row>), :many (every
// row: std::vector<Row>), :exec (nothing) or :execrows (the number of rows
// changed). Parameters are $1..$n on both engines.
//
// Pure parts (parse_queries, to_json/from_json, compare, generate_cpp) never
// touch a database; prepare_query does.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"
#include "strata/sql/splitter.hpp"
#include "strata/url.hpp"

namespace strata {

class Connection;

enum class QueryKind { one, many, exec, execrows };
const char* to_string(QueryKind kind) noexcept;  // "one", "many", "exec", "execrows"
std::optional<QueryKind> parse_query_kind(std::string_view text);  // without the ':'

struct Query {
  std::string name;  // a C++ identifier, unique within a query directory
  QueryKind kind = QueryKind::many;
  std::string sql;   // the statement, as the splitter gives it (no ';')
  std::string file;  // as the user should see it, e.g. "queries/users.sql"
  int line = 0;      // 1-based position of the statement's first token
  int column = 0;
};

struct QueryParse {
  std::vector<Query> queries;
  std::vector<sql::Diagnostic> diagnostics;
  bool ok() const;  // no error diagnostics
};

// Splits `text` with strata's splitter (so "-- only:" lines work) and names
// each statement by the "-- name: NAME :KIND" comment line between it and the
// previous statement. Errors: a statement without a name line, two name lines
// for one statement, a malformed name line (bad identifier or kind), the
// splitter's own errors. Never throws.
QueryParse parse_queries(std::string_view text, std::string_view file, Engine dialect);

// Every "*.sql" file of `dir` (not recursive, sorted by name), files named
// "<dir as given>/<file name>". Throws Error{ErrorKind::source} listing every
// diagnostic (rendered with the offending line) and duplicate names across
// files, or when `dir` cannot be read.
std::vector<Query> load_queries(const std::filesystem::path& dir, Engine engine);

// The value types of generated code: std::int64_t, double, std::string,
// strata::Blob, bool, strata::Timestamp.
enum class ValueType { int64, float64, text, blob, boolean, timestamp };
const char* to_string(ValueType type) noexcept;  // "int64", "double", "text", "blob", "bool", "timestamp"
std::optional<ValueType> parse_value_type(std::string_view text);
// The engine's type name (format_type on PostgreSQL, a declared type on
// SQLite, any case) as a value type; nullopt when there is no rule (on
// SQLite: an empty declared type). See docs/queries.md for the table.
std::optional<ValueType> value_type_for(Engine engine, std::string_view engine_type);

struct PreparedParameter {
  std::string name;         // a C++ identifier: the column it is compared with or assigned to, else "argN"
  std::string engine_type;  // PostgreSQL: the inferred type; SQLite: the declared type it was inferred from
  ValueType type = ValueType::text;
  bool nullable = false;    // assigned to a nullable column (INSERT ... VALUES, UPDATE ... SET)
};

struct PreparedColumn {
  std::string name;         // a C++ identifier (the engine's name, annotations removed)
  std::string engine_type;
  ValueType type = ValueType::text;
  bool nullable = true;
};

struct PreparedQuery {
  std::string name;
  QueryKind kind = QueryKind::many;
  std::string file;
  std::string sql;
  std::string sha384;  // strata::checksum(sql)
  std::vector<PreparedParameter> parameters;
  std::vector<PreparedColumn> columns;
};

// What `strata prepare` records in .strata/queries.json.
struct PreparedSet {
  Engine engine = Engine::sqlite;
  std::string migrations;  // migration_fingerprint() of the set the queries were prepared against
  std::vector<PreparedQuery> queries;  // sorted by name
};

// Hex SHA-384 over "<version> <checksum>\n" for each migration, in order.
std::string migration_fingerprint(const MigrationSet& migrations);

// Prepares `query` on `connection` (Connection::describe plus the rules of
// docs/queries.md for types, nullability and parameter names). Throws the
// engine's Error positioned at the query's file:line:column (moved to the
// offending token when the engine names one) with the query's name as
// context, or Error{ErrorKind::sql} when a type cannot be told.
PreparedQuery prepare_query(Connection& connection, const Query& query);

// The JSON document: 2-space indent, keys sorted, queries by name, a final
// newline, so a re-prepare that changes nothing rewrites the same bytes.
std::string to_json(const PreparedSet& set);
// Throws Error{ErrorKind::source} naming `file` when `text` is not such a document.
PreparedSet prepared_set_from_json(std::string_view text, std::string_view file);

// Every difference between what was recorded and what a new prepare found,
// one line each, naming the query and, for a column or parameter, both types.
std::vector<std::string> compare(const PreparedSet& recorded, const PreparedSet& current);

struct CodegenOptions {
  std::string namespace_name = "queries";  // may be nested: "app::db"
  std::string header_name = "queries.hpp";  // what the source #includes
};
struct GeneratedCode {
  std::string header;
  std::string source;
};
// A struct per result row ("<Name>Row") and, per query, one function taking
// strata::Connection& and one taking strata::Pool&, then the parameters.
GeneratedCode generate_cpp(const PreparedSet& set, const CodegenOptions& options = {});

}  // namespace strata
