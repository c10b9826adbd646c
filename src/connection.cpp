#include "strata/connection.hpp"

#include "drivers/postgres/postgres_connection.hpp"
#include "drivers/sqlite/sqlite_connection.hpp"
#include "strata/error.hpp"

namespace strata {

std::string Connection::quote_identifier(std::string_view name) {
  if (name.empty()) throw Error(ErrorKind::config, "an SQL identifier cannot be empty");
  if (name.find('\0') != std::string_view::npos) {
    throw Error(ErrorKind::config, "an SQL identifier cannot contain a NUL byte");
  }
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::optional<Row> Connection::fetch_one(std::string_view sql, std::span<const Value> params) {
  auto result = query(sql, params);
  if (result.rows.empty()) return std::nullopt;
  return std::move(result.rows.front());
}

Value Connection::fetch_value(std::string_view sql, std::span<const Value> params) {
  auto result = query(sql, params);
  if (result.rows.empty()) {
    throw Error(ErrorKind::usage, "fetch_value: the statement returned no row", {}, std::string(sql));
  }
  if (result.rows.front().size() == 0) {
    throw Error(ErrorKind::usage, "fetch_value: the statement returned no column", {}, std::string(sql));
  }
  return result.rows.front()[0];
}

std::unique_ptr<Connection> connect(const DatabaseUrl& url, const ConnectOptions& options) {
  switch (url.engine) {
    case Engine::sqlite: return detail::open_sqlite(url, options);
    case Engine::postgres: return detail::open_postgres(url, options);
  }
  throw Error(ErrorKind::internal, "unknown engine");
}

std::unique_ptr<Connection> connect(std::string_view url, const ConnectOptions& options) {
  return connect(DatabaseUrl::parse(url), options);
}

}  // namespace strata
