// The built-in background-update handlers. Each reads its parameters from
// the progress JSON; identifiers are validated and quoted, the "sql" and
// "where" texts are SQL the migration author wrote (trusted as migration
// files are).
#include "background/builtin.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/history.hpp"

namespace strata::detail {
namespace {

using json = nlohmann::json;

Error bad_progress(std::string_view handler, std::string_view problem) {
  return Error(ErrorKind::usage, fmt::format("{}: {} (see docs/background-updates.md)", handler, problem));
}

json parse_progress(std::string_view progress, std::string_view handler) {
  json p = json::parse(progress, nullptr, false);
  if (p.is_discarded() || !p.is_object()) {
    throw bad_progress(handler, fmt::format("the progress must be a JSON object, not: {}", progress));
  }
  return p;
}

std::string text(const json& p, const char* key, std::string_view handler) {
  auto it = p.find(key);
  if (it == p.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw bad_progress(handler, fmt::format("the progress needs \"{}\" as a non-empty string", key));
  }
  return it->get<std::string>();
}

std::string identifier(const json& p, const char* key, std::string_view handler) {
  std::string name = text(p, key, handler);
  validate_identifier(name, fmt::format("{} \"{}\"", handler, key));
  return name;
}

std::optional<std::string> optional_identifier(const json& p, const char* key, std::string_view handler) {
  if (!p.contains(key) || p[key].is_null()) return std::nullopt;
  return identifier(p, key, handler);
}

std::int64_t integer(const json& p, const char* key, std::string_view handler) {
  auto it = p.find(key);
  if (it == p.end() || !it->is_number_integer()) {
    throw bad_progress(handler, fmt::format("\"{}\" must be an integer", key));
  }
  return it->get<std::int64_t>();
}

// The table as the handler names it in SQL: "schema"."table", or "table"
// (found through the search path on PostgreSQL).
std::string qualified_table(const json& p, std::string_view handler) {
  std::string table = Connection::quote_identifier(identifier(p, "table", handler));
  if (auto schema = optional_identifier(p, "schema", handler)) {
    return Connection::quote_identifier(*schema) + "." + table;
  }
  return table;
}

// PostgreSQL: the schema the table lives in (Error{sql} when there is no such table).
std::string table_schema(Connection& c, const std::string& qualified, std::string_view handler) {
  auto rows = c.query(
      "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.oid = to_regclass($1)",
      {qualified});
  if (rows.rows.empty()) {
    throw Error(ErrorKind::sql, fmt::format("{}: table {} does not exist", handler, qualified));
  }
  return rows.rows.at(0).get<std::string>(0);
}

std::optional<std::int64_t> key_value(const Value& v, std::string_view key) {
  if (v.is_null()) return std::nullopt;
  try {
    return v.as<std::int64_t>();
  } catch (const Error&) {
    throw Error(ErrorKind::usage, fmt::format("{}: the key column {} must hold integers, but it holds {}",
                                              builtin_handler::sql_batches, key, v.to_string()));
  }
}

// {"table", "key" (default "id"), "sql", ["schema"], ["last"], ["max"]}.
// The first batch fills in "last" (the smallest key minus one) and "max"
// (the largest key) when absent, and "first" (the starting "last"). Each
// batch finds the key `batch_size` rows further on and runs `sql` with
// $1 = last, $2 = that key (at most max), so keys inserted above "max" later
// are left alone (the application writes new rows correctly by then).
// "rows" counts the rows covered so far; the total is estimated from the
// key density seen so far (exact for dense keys, and at the end).
//
// The next-key query has no upper bound on purpose: `key > $1 ORDER BY key
// LIMIT 1 OFFSET n` is planned as an index scan that stops after n rows even
// on a table without statistics, where a two-sided range may be planned as a
// bitmap scan of the whole range plus a sort.
BatchResult sql_batches(Connection& c, std::string_view progress, std::int64_t size) {
  constexpr std::string_view name = builtin_handler::sql_batches;
  json p = parse_progress(progress, name);
  const std::string table = qualified_table(p, name);
  const std::string key_name = p.contains("key") ? identifier(p, "key", name) : std::string("id");
  const std::string key = Connection::quote_identifier(key_name);
  const std::string sql = text(p, "sql", name);

  if (!p.contains("first")) {
    if (!p.contains("last") || !p.contains("max")) {
      auto bounds = c.query(fmt::format("SELECT min({}), max({}) FROM {}", key, key, table)).rows.at(0);
      if (!p.contains("last")) {
        auto low = key_value(bounds[0], key_name);
        p["last"] = low ? *low - 1 : 0;
      }
      if (!p.contains("max")) p["max"] = key_value(bounds[1], key_name).value_or(integer(p, "last", name));
    }
    p["first"] = integer(p, "last", name);
    p["rows"] = 0;
  }
  const std::int64_t first = integer(p, "first", name);
  const std::int64_t last = integer(p, "last", name);
  const std::int64_t max = integer(p, "max", name);
  std::int64_t rows = integer(p, "rows", name);
  auto estimate = [&](std::int64_t at) -> std::int64_t {
    if (at >= max) return rows;
    double density = at > first ? static_cast<double>(rows) / static_cast<double>(at - first) : 1.0;
    return rows + std::llround(static_cast<double>(max - at) * density);
  };
  if (last >= max) return BatchResult{0, p.dump(), true, rows};

  std::int64_t upper = max;
  std::int64_t items = 0;
  auto next = c.query(
      fmt::format("SELECT {} FROM {} WHERE {} > $1 ORDER BY {} LIMIT 1 OFFSET {}", key, table, key, key, size - 1),
      {last});
  auto found = next.rows.empty() ? std::nullopt : key_value(next.rows.at(0)[0], key_name);
  if (found && *found < max) {
    upper = *found;
    items = size;
  } else {
    items = c.query(fmt::format("SELECT count(*) FROM {} WHERE {} > $1 AND {} <= $2", table, key, key), {last, max})
                .rows.at(0)
                .get<std::int64_t>(0);
  }
  try {
    c.execute(sql, {last, upper});
  } catch (Error& e) {
    e.context(fmt::format("{}: running \"sql\" for {} in ({}, {}]", name, key_name, last, upper));
    throw;
  }
  rows += items;
  p["last"] = upper;
  p["rows"] = rows;
  return BatchResult{items, p.dump(), upper >= max, estimate(upper)};
}

struct IndexSpec {
  std::string table;  // quoted, schema-qualified when given
  std::string index;  // unquoted
  std::string columns;
  bool unique = false;
  std::string where;
};

IndexSpec index_spec(const json& p) {
  constexpr std::string_view name = builtin_handler::create_index;
  IndexSpec s;
  s.table = qualified_table(p, name);
  s.index = identifier(p, "index", name);
  auto columns = p.find("columns");
  if (columns == p.end() || !columns->is_array() || columns->empty()) {
    throw bad_progress(name, "the progress needs \"columns\" as a non-empty array of column names");
  }
  for (const auto& column : *columns) {
    if (!column.is_string()) throw bad_progress(name, "\"columns\" must hold column names (strings)");
    validate_identifier(column.get<std::string>(), fmt::format("{} column", name));
    if (!s.columns.empty()) s.columns += ", ";
    s.columns += Connection::quote_identifier(column.get<std::string>());
  }
  if (p.contains("unique")) {
    if (!p["unique"].is_boolean()) throw bad_progress(name, "\"unique\" must be true or false");
    s.unique = p["unique"].get<bool>();
  }
  if (p.contains("where")) s.where = text(p, "where", name);
  return s;
}

std::string create_index_sql(const IndexSpec& s, std::string_view how, std::string_view index) {
  return fmt::format("CREATE {}INDEX {}{} ON {} ({}){}", s.unique ? "UNIQUE " : "", how, index, s.table, s.columns,
                     s.where.empty() ? "" : " WHERE " + s.where);
}

// SQLite: one plain CREATE INDEX IF NOT EXISTS inside the batch's transaction.
BatchResult create_index_sqlite(Connection& c, std::string_view progress, std::int64_t) {
  json p = parse_progress(progress, builtin_handler::create_index);
  IndexSpec s = index_spec(p);
  c.execute(create_index_sql(s, "IF NOT EXISTS ", Connection::quote_identifier(s.index)));
  p["outcome"] = "created";
  return BatchResult{1, p.dump(), true, 1};
}

// PostgreSQL, outside any transaction: an index of that name that is valid
// means an earlier attempt finished (done); an invalid one is the leftover of
// an interrupted or failed CREATE INDEX CONCURRENTLY, dropped concurrently
// before building again. The runner's advisory lock keeps two runners from
// building it at once (and waits for a killed runner's backend still building).
BatchResult create_index_postgres(Connection& c, std::string_view progress, std::int64_t) {
  constexpr std::string_view name = builtin_handler::create_index;
  json p = parse_progress(progress, name);
  IndexSpec s = index_spec(p);
  const std::string schema = table_schema(c, s.table, name);
  const std::string index = Connection::quote_identifier(schema) + "." + Connection::quote_identifier(s.index);
  auto existing = c.query(
      "SELECT i.indisvalid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid WHERE n.nspname = $1 AND c.relname = $2",
      {schema, s.index});
  std::string outcome = "created";
  if (!existing.rows.empty()) {
    if (existing.rows.at(0).get<bool>(0)) {
      p["outcome"] = "already valid";
      return BatchResult{1, p.dump(), true, 1};
    }
    c.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index);
    outcome = "replaced an invalid leftover";
  }
  c.execute(create_index_sql(s, "CONCURRENTLY ", Connection::quote_identifier(s.index)));
  p["outcome"] = outcome;
  return BatchResult{1, p.dump(), true, 1};
}

// PostgreSQL: VALIDATE CONSTRAINT scans the table under SHARE UPDATE
// EXCLUSIVE, which lets reads and writes go on; a constraint already
// validated is done.
BatchResult validate_constraint_postgres(Connection& c, std::string_view progress, std::int64_t) {
  constexpr std::string_view name = builtin_handler::validate_constraint;
  json p = parse_progress(progress, name);
  const std::string table = qualified_table(p, name);
  const std::string constraint = identifier(p, "constraint", name);
  auto existing = c.query(
      "SELECT con.convalidated FROM pg_catalog.pg_constraint con WHERE con.conrelid = to_regclass($1) "
      "AND con.conname = $2",
      {table, constraint});
  if (!existing.rows.empty() && existing.rows.at(0).get<bool>(0)) {
    p["outcome"] = "already valid";
    return BatchResult{1, p.dump(), true, 1};
  }
  c.execute(fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", table, Connection::quote_identifier(constraint)));
  p["outcome"] = "validated";
  return BatchResult{1, p.dump(), true, 1};
}

BatchResult validate_constraint_sqlite(Connection&, std::string_view, std::int64_t) {
  throw Error(ErrorKind::usage,
              fmt::format("{} is not offered on SQLite: SQLite cannot add a constraint to an existing table, so "
                          "no constraint is ever NOT VALID. Queue it from PostgreSQL-only SQL (a .postgres.sql "
                          "file or a `-- only: postgres` line); on SQLite, check existing rows with a query (or "
                          "PRAGMA foreign_key_check) in the migration itself",
                          builtin_handler::validate_constraint));
}

}  // namespace

std::optional<Builtin> find_builtin(std::string_view name, Engine engine) {
  const bool pg = engine == Engine::postgres;
  if (name == builtin_handler::sql_batches) return Builtin{sql_batches, HandlerMode::transactional};
  if (name == builtin_handler::create_index) {
    if (pg) return Builtin{create_index_postgres, HandlerMode::outside_transaction};
    return Builtin{create_index_sqlite, HandlerMode::transactional};
  }
  if (name == builtin_handler::validate_constraint) {
    return Builtin{pg ? validate_constraint_postgres : validate_constraint_sqlite, HandlerMode::transactional};
  }
  return std::nullopt;
}

}  // namespace strata::detail

namespace strata {

bool is_builtin_handler(std::string_view name) {
  return name == builtin_handler::sql_batches || name == builtin_handler::create_index ||
         name == builtin_handler::validate_constraint;
}

}  // namespace strata
