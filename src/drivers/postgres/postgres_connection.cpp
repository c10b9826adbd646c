// The PostgreSQL driver (libpq).
//
// Connecting: PQconnectdbParams with expand_dbname=1 and the URL as "dbname",
// so libpq parses any URI or key=value string itself. connect_timeout and
// fallback_application_name come before it (the URL's own settings win);
// client_encoding=UTF8 comes after it (forced: error positions are converted
// from characters to bytes assuming UTF-8). Each session then runs
//   SET DateStyle = ISO; SET extra_float_digits = 3; SET client_min_messages = warning
// and, on PostgreSQL 14 and later, SET client_connection_check_interval = '1s'
// (a backend whose client died stops its statement and releases its locks)
// (ISO output keeps the day/month order setting; extra_float_digits makes
// older servers print round-trippable floats) and drops NOTICEs and WARNINGs
// with a no-op notice processor, so libpq never writes to stderr.
//
// Statements go through PQexecParams (the extended protocol: one statement,
// text results). See Connection::query for how parameters are typed.
#include "drivers/postgres/postgres_connection.hpp"

#include "drivers/postgres/libpq.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

#include "sql/lexer.hpp"
#include "strata/error.hpp"
#include "util/number_text.hpp"

namespace strata::detail {
namespace {

// Type OIDs from pg_type.h (stable since forever).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;

struct ConnCloser {
  void operator()(PGconn* conn) const noexcept { libpq().PQfinish(conn); }
};
using ConnHandle = std::unique_ptr<PGconn, ConnCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const noexcept { libpq().PQclear(result); }
};
using ResultHandle = std::unique_ptr<PGresult, ResultClearer>;

void drop_notice(void*, const char*) {}

// libpq messages end with '\n' and continue lines with "\n\t": one line.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string trim_newlines(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}


std::string digits_text(long long v) { return std::to_string(v); }


int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea text output: "\x0a0b..." (hex, the default) or the old escape format.
Blob decode_bytea(std::string_view text) {
  Blob out;
  if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x') {
    out.reserve((text.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
      int hi = hex_value(text[i]);
      int lo = hex_value(text[i + 1]);
      if (hi < 0 || lo < 0) break;
      out.push_back(static_cast<std::byte>(hi * 16 + lo));
    }
    return out;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back(std::byte{'\\'});
      ++i;
    } else if (text[i] == '\\' && i + 3 < text.size()) {
      int v = 0;
      for (std::size_t k = 1; k <= 3; ++k) v = v * 8 + (text[i + k] - '0');
      out.push_back(static_cast<std::byte>(v & 0xff));
      i += 3;
    } else {
      out.push_back(static_cast<std::byte>(text[i]));
    }
  }
  return out;
}

Value read_value(const PGresult* result, int row, int column) {
  if (libpq().PQgetisnull(result, row, column) != 0) return Value(Null{});
  const char* data = libpq().PQgetvalue(result, row, column);
  std::string_view text(data, static_cast<std::size_t>(libpq().PQgetlength(result, row, column)));
  switch (libpq().PQftype(result, column)) {
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kOidOid: {
      long long v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) return Value(v);
      return Value(std::string(text));
    }
    case kFloat4Oid:
    case kFloat8Oid: {
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc() && end == text.data() + text.size()) return Value(v);
      return Value(std::string(text));
    }
    case kBoolOid: return Value(!text.empty() && text[0] == 't');
    case kByteaOid: return Value(decode_bytea(text));
    default: return Value(std::string(text));
  }
}

Error usage_error(std::string message, std::string_view sql) {
  return Error(ErrorKind::usage, std::move(message), {}, std::string(sql));
}

// Rows changed: only INSERT/UPDATE/DELETE/MERGE/COPY count (PQcmdTuples also
// reports SELECT and FETCH counts, which SQLite's changes() does not).
std::int64_t affected_rows(PGresult* result) {
  std::string_view status = libpq().PQcmdStatus(result);
  std::string_view verb = status.substr(0, status.find(' '));
  if (verb != "INSERT" && verb != "UPDATE" && verb != "DELETE" && verb != "MERGE" && verb != "COPY") return 0;
  const char* tuples = libpq().PQcmdTuples(result);
  long long n = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), n);
  return n;
}

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(ConnHandle conn, std::string redacted_url)
      : Connection(std::move(redacted_url)), conn_(std::move(conn)) {}

  Engine engine() const noexcept override { return Engine::postgres; }
  bool transactional_ddl() const noexcept override { return true; }
  bool in_transaction() const noexcept override {
    PGTransactionStatusType status = libpq().PQtransactionStatus(conn_.get());
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }

  ResultSet query(std::string_view sql, std::span<const Value> params) override {
    std::string text = c_string(sql);
    if (!params.empty()) {
      // Only checked with values: a statement without any can still hold
      // "$1" meaning something else (CREATE FUNCTION ... RETURN $1 + 1).
      int counted = highest_postgres_parameter(sql);
      auto highest = static_cast<std::size_t>(counted);
      if (counted >= 0 && highest != params.size()) {
        throw usage_error("the statement uses " + std::to_string(highest) + " parameter(s) ($1..$" +
                              std::to_string(highest) + ") but " + std::to_string(params.size()) +
                              " value(s) were given",
                          sql);
      }
    }
    std::vector<Oid> types(params.size());
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size());
    std::vector<int> lengths(params.size());
    std::vector<int> formats(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) encode(params[i], sql, types[i], storage[i], values[i], lengths[i], formats[i]);

    ResultHandle result(libpq().PQexecParams(conn_.get(), text.c_str(), static_cast<int>(params.size()),
                                     params.empty() ? nullptr : types.data(), params.empty() ? nullptr : values.data(),
                                     params.empty() ? nullptr : lengths.data(), params.empty() ? nullptr : formats.data(),
                                     0));
    check(result, sql);

    ResultSet out;
    int columns = libpq().PQnfields(result.get());
    int rows = libpq().PQntuples(result.get());
    out.columns.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) out.columns.emplace_back(libpq().PQfname(result.get(), c));
    out.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<Value> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) row.push_back(read_value(result.get(), r, c));
      out.rows.emplace_back(std::move(row));
    }
    out.affected = affected_rows(result.get());
    return out;
  }

  std::int64_t copy_in(std::string_view copy_sql, const std::function<bool(std::string&)>& next) {
    std::string text = c_string(copy_sql);
    PGconn* conn = conn_.get();
    ResultHandle start(libpq().PQexec(conn, text.c_str()));
    if (!start) check(start, copy_sql);
    if (libpq().PQresultStatus(start.get()) != PGRES_COPY_IN) {
      if (libpq().PQresultStatus(start.get()) == PGRES_COPY_OUT || libpq().PQresultStatus(start.get()) == PGRES_COPY_BOTH) {
        abandon_copy(libpq().PQresultStatus(start.get()));
        throw usage_error("copy_in needs COPY ... FROM STDIN", copy_sql);
      }
      check(start, copy_sql);
      throw usage_error("copy_in needs COPY ... FROM STDIN", copy_sql);
    }
    start.reset();
    std::string buffer;
    bool failed_to_send = false;
    try {
      while (true) {
        buffer.clear();
        bool more = next(buffer);
        if (!buffer.empty() &&
            libpq().PQputCopyData(conn, buffer.data(), static_cast<int>(buffer.size())) != 1) {
          failed_to_send = true;
          break;
        }
        if (!more) break;
      }
    } catch (...) {
      libpq().PQputCopyEnd(conn, "aborted by strata");
      while (ResultHandle r{libpq().PQgetResult(conn)}) {
      }
      throw;
    }
    if (!failed_to_send) libpq().PQputCopyEnd(conn, nullptr);
    ResultHandle result(libpq().PQgetResult(conn));
    std::int64_t rows = 0;
    std::optional<Error> error;
    if (!result) {
      error.emplace(ErrorKind::connection, one_line(libpq().PQerrorMessage(conn)), std::string(), std::string(copy_sql));
    } else if (libpq().PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      error.emplace(result_error(result.get(), copy_sql));
    } else {
      rows = affected_rows(result.get());
    }
    while (ResultHandle r{libpq().PQgetResult(conn)}) {
    }
    if (error) throw *error;
    return rows;
  }

  void execute_script(std::string_view sql) override {
    std::string text = c_string(sql);
    ResultHandle result(libpq().PQexec(conn_.get(), text.c_str()));
    check(result, sql);
  }

  // The unnamed prepared statement is replaced by the next query() (also an
  // unnamed statement), so describe() leaves nothing behind on the server.
  StatementDescription describe(std::string_view sql) override {
    std::string text = c_string(sql);
    ResultHandle prepared(libpq().PQprepare(conn_.get(), "", text.c_str(), 0, nullptr));
    check(prepared, sql);
    ResultHandle result(libpq().PQdescribePrepared(conn_.get(), ""));
    check(result, sql);
    StatementDescription out;
    const PGresult* r = result.get();
    for (int i = 0; i < libpq().PQnparams(r); ++i) {
      out.parameters.push_back({{}, static_cast<std::uint32_t>(libpq().PQparamtype(r, i))});
    }
    for (int c = 0; c < libpq().PQnfields(r); ++c) {
      ColumnDescription column;
      column.name = libpq().PQfname(r, c);
      column.type_oid = static_cast<std::uint32_t>(libpq().PQftype(r, c));
      Oid table = libpq().PQftable(r, c);
      int number = libpq().PQftablecol(r, c);
      if (table != InvalidOid && number > 0) {
        // Table columns: name, NOT NULL and the declared type (with its
        // modifier, e.g. character varying(20)), from the catalog.
        auto row = fetch_one(
            "SELECT c.relname, a.attname, a.attnotnull, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
            "WHERE a.attrelid = $1::oid AND a.attnum = $2::int2",
            {static_cast<std::int64_t>(table), number});
        if (row) {
          column.table = row->get<std::string>(0);
          column.table_column = row->get<std::string>(1);
          column.not_null = row->get<bool>(2);
          column.type = row->get<std::string>(3);
        }
      }
      out.columns.push_back(std::move(column));
    }
    // Type names for the parameters and the expression columns.
    auto type_name = [&](std::uint32_t oid) {
      return fetch_value<std::string>("SELECT format_type($1::oid, NULL)", {static_cast<std::int64_t>(oid)});
    };
    for (auto& p : out.parameters) p.type = type_name(p.type_oid);
    for (auto& c : out.columns) {
      if (c.type.empty()) c.type = type_name(c.type_oid);
    }
    return out;
  }

 private:
  static std::string c_string(std::string_view sql) {
    if (sql.find('\0') != std::string_view::npos) {
      throw usage_error("the SQL text contains a NUL byte, which PostgreSQL does not accept", sql);
    }
    return std::string(sql);
  }

  static void encode(const Value& value, std::string_view sql, Oid& type, std::string& storage, const char*& data,
                     int& length, int& format) {
    type = 0;
    format = 0;
    length = 0;
    data = nullptr;
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Null>) {
            return;
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            type = kInt8Oid;
            storage = digits_text(v);
          } else if constexpr (std::is_same_v<T, double>) {
            type = kFloat8Oid;
            storage = util::shortest_double(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            if (v.find('\0') != std::string::npos) {
              throw usage_error("a text parameter contains a NUL byte, which PostgreSQL text cannot hold", sql);
            }
            storage = v;
          } else if constexpr (std::is_same_v<T, Blob>) {
            type = kByteaOid;
            format = 1;
            storage.assign(reinterpret_cast<const char*>(v.data()), v.size());
          } else if constexpr (std::is_same_v<T, bool>) {
            type = kBoolOid;
            storage = v ? "true" : "false";
          } else if constexpr (std::is_same_v<T, Timestamp>) {
            // Untyped, with an explicit UTC offset: right for timestamptz,
            // and a timestamp column takes the UTC wall time.
            storage = format_timestamp(v) + "+00";
          }
          data = storage.c_str();
          length = static_cast<int>(storage.size());
        },
        value.storage());
  }

  // Throws for anything but success; leaves the connection ready for the
  // next command (COPY is refused and drained).
  void check(ResultHandle& result, std::string_view sql) {
    PGconn* conn = conn_.get();
    if (!result) {
      ErrorKind kind = libpq().PQstatus(conn) == CONNECTION_BAD ? ErrorKind::connection : ErrorKind::sql;
      throw Error(kind, one_line(libpq().PQerrorMessage(conn)), {}, std::string(sql));
    }
    switch (libpq().PQresultStatus(result.get())) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
      case PGRES_SINGLE_TUPLE: return;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH: {
        abandon_copy(libpq().PQresultStatus(result.get()));
        throw usage_error("COPY ... FROM STDIN / TO STDOUT is not supported", sql);
      }
      default: break;
    }
    throw result_error(result.get(), sql);
  }

  // Ends a COPY the statement started (strata has no data to send or take).
  void abandon_copy(ExecStatusType status) noexcept {
    PGconn* conn = conn_.get();
    while (true) {
      if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH) {
        libpq().PQputCopyEnd(conn, "COPY FROM STDIN is not supported by strata");
      } else if (status == PGRES_COPY_OUT) {
        char* buffer = nullptr;
        while (libpq().PQgetCopyData(conn, &buffer, 0) > 0) libpq().PQfreemem(buffer);
      }
      ResultHandle next(libpq().PQgetResult(conn));
      if (!next) break;
      status = libpq().PQresultStatus(next.get());
    }
  }

  Error result_error(const PGresult* result, std::string_view sql) const {
    auto field = [&](int code) -> std::string_view {
      const char* v = libpq().PQresultErrorField(result, code);
      return v != nullptr ? std::string_view(v) : std::string_view();
    };
    std::string sqlstate(field(PG_DIAG_SQLSTATE));
    std::string message(field(PG_DIAG_MESSAGE_PRIMARY));
    if (message.empty()) message = one_line(libpq().PQresultErrorMessage(result));
    if (message.empty()) message = one_line(libpq().PQerrorMessage(conn_.get()));
    if (auto detail = field(PG_DIAG_MESSAGE_DETAIL); !detail.empty()) message += "\nDETAIL: " + trim_newlines(detail);
    if (auto hint = field(PG_DIAG_MESSAGE_HINT); !hint.empty()) message += "\nHINT: " + trim_newlines(hint);
    if (auto context = field(PG_DIAG_CONTEXT); !context.empty()) message += "\nCONTEXT: " + trim_newlines(context);

    std::string_view severity = field(PG_DIAG_SEVERITY_NONLOCALIZED);
    ErrorKind kind = ErrorKind::sql;
    if (libpq().PQstatus(conn_.get()) == CONNECTION_BAD || severity == "FATAL" || severity == "PANIC" ||
        (sqlstate.rfind("08", 0) == 0 && sqlstate != "08P01") || sqlstate == "57P01" || sqlstate == "57P02" ||
        sqlstate == "57P03") {
      kind = ErrorKind::connection;
    } else if (sqlstate == "08P01") {
      // protocol_violation: the client's fault, in practice "bind message
      // supplies 0 parameters, but prepared statement "" requires 1".
      kind = ErrorKind::usage;
    }
    Error e(kind, std::move(message), std::move(sqlstate), std::string(sql));
    if (auto position = field(PG_DIAG_STATEMENT_POSITION); !position.empty()) {
      long chars = 0;
      std::from_chars(position.data(), position.data() + position.size(), chars);
      if (chars > 0) e.set_sql_offset(static_cast<int>(utf8_char_to_byte_offset(sql, chars)));
    }
    return e;
  }

  ConnHandle conn_;
};

}  // namespace

std::size_t utf8_char_to_byte_offset(std::string_view sql, long position) {
  if (position <= 1) return 0;
  long seen = 0;  // characters started before i
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) {
      if (seen == position - 1) return i;
      ++seen;
    }
  }
  return sql.size();
}

int highest_postgres_parameter(std::string_view sql) {
  // The splitter's lexer knows PostgreSQL's strings, E'' escapes, nested
  // comments and dollar quotes; it notes each $n it meets outside them.
  auto lexed = sql::detail::lex(sql, Engine::postgres);
  return lexed.unterminated ? -1 : lexed.highest_parameter;
}

std::int64_t copy_in(Connection& connection, std::string_view copy_sql,
                     const std::function<bool(std::string& buffer)>& next) {
  auto* pg = dynamic_cast<PostgresConnection*>(&connection);
  if (pg == nullptr) throw Error(ErrorKind::usage, "COPY FROM STDIN needs a PostgreSQL connection");
  return pg->copy_in(copy_sql, next);
}

std::unique_ptr<Connection> open_postgres(const DatabaseUrl& url, const ConnectOptions& options) {
  const std::string redacted = url.redacted();
  auto ms = options.connect_timeout.count();
  std::string timeout = ms <= 0 ? "0" : std::to_string((ms + 999) / 1000);
  // Earlier entries are overridden by the URL's own settings; later ones win.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", "client_encoding", nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), url.text.c_str(), "UTF8", nullptr};
  ConnHandle conn(libpq().PQconnectdbParams(keywords, values, 1));
  if (!conn) throw Error(ErrorKind::connection, "cannot connect to " + redacted + ": out of memory");
  if (libpq().PQstatus(conn.get()) != CONNECTION_OK) {
    std::string reason = redact_passwords(one_line(libpq().PQerrorMessage(conn.get())));
    throw Error(ErrorKind::connection, "cannot connect to " + redacted + ": " + reason);
  }
  libpq().PQsetNoticeProcessor(conn.get(), drop_notice, nullptr);
  // On PostgreSQL 14+, the server checks every second during a long
  // statement that the client is still there, so a migrator killed
  // mid-statement does not leave its backend running and holding its locks
  // (an ACCESS EXCLUSIVE on a table being altered) until the statement ends.
  std::string setup_text = "SET DateStyle = ISO; SET extra_float_digits = 3; SET client_min_messages = warning";
  if (libpq().PQserverVersion(conn.get()) >= 140000) setup_text += "; SET client_connection_check_interval = '1s'";
  if (options.read_only) setup_text += "; SET default_transaction_read_only = on";
  ResultHandle setup(libpq().PQexec(conn.get(), setup_text.c_str()));
  if (!setup || libpq().PQresultStatus(setup.get()) != PGRES_COMMAND_OK) {
    std::string reason = redact_passwords(one_line(setup ? libpq().PQresultErrorMessage(setup.get()) : libpq().PQerrorMessage(conn.get())));
    throw Error(ErrorKind::connection, "cannot set up the session on " + redacted + ": " + reason);
  }
  return std::make_unique<PostgresConnection>(std::move(conn), redacted);
}

}  // namespace strata::detail
