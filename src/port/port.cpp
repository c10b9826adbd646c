// port/port.cpp: strata::port, SQLite to PostgreSQL (see strata/port.hpp).
//
// The source is read through a read-only sqlite3 handle of our own (never
// through strata's Connection, which would switch the file to WAL): rows
// stream from sqlite3_step straight into COPY text, a batch at a time, so
// memory does not grow with the table. Each value is converted by the
// target column's type family, from the inspected target schema.
#include "strata/port.hpp"

// OpenSSL's low-level SHA384_* (deprecated in OpenSSL 3, still shipped), as
// strata::checksum uses them: no provider loading for one digest.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "drivers/postgres/postgres_connection.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/synapse.hpp"
#include "strata/transaction.hpp"
#include "strata/value.hpp"
#include "util/number_text.hpp"
#include "util/utf8.hpp"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;
using schema::TypeFamily;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

std::string q(std::string_view name) { return Connection::quote_identifier(name); }

// ---------------------------------------------------------------- source

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtCloser {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtCloser>;

// A read-only handle on the source file: port never writes to the source.
class Source {
 public:
  explicit Source(const DatabaseUrl& url) : url_(url) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(url.sqlite_path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);
    if (rc != SQLITE_OK) {
      throw Error(ErrorKind::connection, "cannot open the source " + url.redacted() + ": " +
                                             (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db, 5000);
  }

  StmtHandle prepare(std::string_view sql) const {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) {
      throw Error(ErrorKind::sql, std::string("reading the source: ") + sqlite3_errmsg(db_.get()), {},
                  std::string(sql));
    }
    return StmtHandle(stmt);
  }
  // Steps; true for a row. Throws on error.
  bool step(sqlite3_stmt* stmt) const {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw Error(ErrorKind::sql, std::string("reading the source: ") + sqlite3_errmsg(db_.get()), {},
                sqlite3_sql(stmt) != nullptr ? sqlite3_sql(stmt) : "");
  }
  bool table_exists(std::string_view name) const {
    auto stmt = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    sqlite3_bind_text(stmt.get(), 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    return step(stmt.get());
  }
  std::int64_t count(std::string_view table) const {
    auto stmt = prepare("SELECT count(*) FROM " + q(table));
    step(stmt.get());
    return sqlite3_column_int64(stmt.get(), 0);
  }
  const DatabaseUrl& url() const { return url_; }

 private:
  DatabaseUrl url_;
  SqliteHandle db_;
};

std::string column_text(sqlite3_stmt* stmt, int i) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return text != nullptr ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))) : std::string();
}

// ---------------------------------------------------------------- conversion

// How one source column is written into its target column.
struct ColumnPlan {
  std::string name;
  TypeFamily family = TypeFamily::text;
  std::string raw;  // the target's type, for messages
};

struct TablePlan {
  std::string name;
  std::vector<ColumnPlan> columns;
  std::vector<std::string> key;  // ORDER BY columns; empty = rowid
  bool replace = false;          // strata's queue tables: the target's rows are replaced
};

void append_copy_text(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
}

constexpr char kHex[] = "0123456789abcdef";

void append_hex(std::string& out, const unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
}

std::string uuid_text(const unsigned char* p) {
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

bool valid_utf8_without_nul(std::string_view s) {
  return s.find('\0') == std::string_view::npos && !util::find_invalid_utf8(s);
}

// Seconds since the Unix epoch as UTC text PostgreSQL reads for any
// date/time type.
std::string epoch_text(double seconds) {
  auto us = static_cast<std::int64_t>(std::llround(seconds * 1e6));
  return format_timestamp(Timestamp(std::chrono::microseconds(us))) + "+00";
}

// The value of column `i` of `stmt` as the target column wants it, in COPY
// text form (escaped, or \N), appended to `out`. Returns false (and leaves a
// reason) when it does not convert.
bool convert(sqlite3_stmt* stmt, int i, const ColumnPlan& c, std::string& out, std::string& why) {
  const int type = sqlite3_column_type(stmt, i);
  if (type == SQLITE_NULL) {
    out += "\\N";
    return true;
  }
  switch (c.family) {
    case TypeFamily::integer: {
      if (type == SQLITE_INTEGER) {
        out += std::to_string(sqlite3_column_int64(stmt, i));
        return true;
      }
      if (type == SQLITE_FLOAT) {
        double d = sqlite3_column_double(stmt, i);
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {
          out += std::to_string(static_cast<std::int64_t>(d));
          return true;
        }
        why = "a fractional number for an integer column";
        return false;
      }
      if (type == SQLITE_TEXT) {
        std::string t = column_text(stmt, i);
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec == std::errc() && end == t.data() + t.size()) {
          out += t;
          return true;
        }
        why = "text that is not an integer";
        return false;
      }
      why = "a blob for an integer column";
      return false;
    }
    case TypeFamily::floating:
    case TypeFamily::numeric: {
      if (type == SQLITE_INTEGER) {
        out += std::to_string(sqlite3_column_int64(stmt, i));
      } else if (type == SQLITE_FLOAT) {
        out += util::shortest_double(sqlite3_column_double(stmt, i));
      } else if (type == SQLITE_TEXT) {
        append_copy_text(out, column_text(stmt, i));  // the server parses it
      } else {
        why = "a blob for a numeric column";
        return false;
      }
      return true;
    }
    case TypeFamily::boolean: {
      if (type == SQLITE_INTEGER) {
        std::int64_t v = sqlite3_column_int64(stmt, i);
        if (v == 0 || v == 1) {
          out += v == 1 ? "t" : "f";
          return true;
        }
        why = "an integer other than 0 or 1 for a boolean column";
        return false;
      }
      if (type == SQLITE_TEXT) {
        std::string t = column_text(stmt, i);
        for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (t == "t" || t == "true" || t == "1") {
          out += "t";
          return true;
        }
        if (t == "f" || t == "false" || t == "0") {
          out += "f";
          return true;
        }
      }
      why = "a value that is not 0, 1, true or false for a boolean column";
      return false;
    }
    case TypeFamily::binary: {
      const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, i));
      auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
      out += "\\\\x";  // \x, escaped for COPY text
      if (p != nullptr) append_hex(out, p, n);
      return true;
    }
    case TypeFamily::uuid:
      if (type == SQLITE_BLOB && sqlite3_column_bytes(stmt, i) == 16) {
        out += uuid_text(static_cast<const unsigned char*>(sqlite3_column_blob(stmt, i)));
        return true;
      }
      break;
    case TypeFamily::timestamp:
    case TypeFamily::timestamptz:
      if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
        out += epoch_text(sqlite3_column_double(stmt, i));
        return true;
      }
      break;
    default: break;
  }
  // Text-like targets (text, json, uuid, dates, enums, arrays, ...): the
  // value's text, which the server parses and checks.
  if (type == SQLITE_INTEGER) {
    out += std::to_string(sqlite3_column_int64(stmt, i));
    return true;
  }
  if (type == SQLITE_FLOAT) {
    out += util::shortest_double(sqlite3_column_double(stmt, i));
    return true;
  }
  std::string t = column_text(stmt, i);
  if (!valid_utf8_without_nul(t)) {
    why = type == SQLITE_BLOB ? "a blob that is not UTF-8 text (or holds a NUL byte) for a text column"
                              : "text holding a NUL byte or invalid UTF-8, which PostgreSQL text cannot hold";
    return false;
  }
  append_copy_text(out, t);
  return true;
}

std::string truncated(std::string s, std::size_t max = 60) {
  if (s.size() > max) {
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

// The source value for messages: text as is, blobs in hex, truncated.
std::string shown_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_INTEGER: return std::to_string(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT: return util::shortest_double(sqlite3_column_double(stmt, i));
    case SQLITE_BLOB: {
      std::string out = "x'";
      append_hex(out, static_cast<const unsigned char*>(sqlite3_column_blob(stmt, i)),
                 std::min<std::size_t>(static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)), 30));
      return out + (sqlite3_column_bytes(stmt, i) > 30 ? "...'" : "'");
    }
    default: return "'" + truncated(column_text(stmt, i)) + "'";
  }
}

std::string select_sql(const TablePlan& t, std::string_view extra = {}) {
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += q(t.columns[i].name);
  }
  sql += " FROM " + q(t.name) + " ORDER BY ";
  if (t.key.empty()) {
    sql += "rowid";
  } else {
    for (std::size_t i = 0; i < t.key.size(); ++i) sql += (i > 0 ? ", " : "") + q(t.key[i]);
  }
  sql += extra;
  return sql;
}

// "(id=42)" or "(rowid=42)" for the row at 1-based position `line` of the
// copy order; *value gets `column`'s value there when asked.
std::string row_key(const Source& source, const TablePlan& t, std::int64_t line, std::string_view column,
                    std::string* value) {
  std::vector<std::string> keys = t.key.empty() ? std::vector<std::string>{"rowid"} : t.key;
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < keys.size(); ++i) sql += (i > 0 ? ", " : "") + (t.key.empty() ? keys[i] : q(keys[i]));
  sql += ", " + (column.empty() ? std::string("NULL") : q(column)) + " FROM " + q(t.name) + " ORDER BY ";
  for (std::size_t i = 0; i < keys.size(); ++i) sql += (i > 0 ? ", " : "") + (t.key.empty() ? keys[i] : q(keys[i]));
  sql += " LIMIT 1 OFFSET " + std::to_string(std::max<std::int64_t>(line - 1, 0));
  auto stmt = source.prepare(sql);
  if (!source.step(stmt.get())) return "(row " + std::to_string(line) + ")";
  std::string out = "(";
  for (std::size_t i = 0; i < keys.size(); ++i) {
    out += (i > 0 ? ", " : "") + keys[i] + "=" + shown_value(stmt.get(), static_cast<int>(i));
  }
  if (value != nullptr) *value = shown_value(stmt.get(), static_cast<int>(keys.size()));
  return out + ")";
}

// ---------------------------------------------------------------- verification

// A canonical text per value, by the target column's family, the same
// whichever engine it was read from (see port.hpp: verify).
std::string strip_decimal(std::string s) {
  if (s.find('.') != std::string::npos && s.find_first_of("eE") == std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s;
}

std::string canonical(const Value& v, const ColumnPlan& c) {
  if (v.is_null()) return "\\N";
  const auto& st = v.storage();
  auto text = [&]() -> std::string {
    if (const auto* s = std::get_if<std::string>(&st)) return *s;
    if (const auto* b = std::get_if<Blob>(&st)) return std::string(reinterpret_cast<const char*>(b->data()), b->size());
    return v.to_string();
  };
  switch (c.family) {
    case TypeFamily::integer: return v.to_string();
    case TypeFamily::floating: {
      double d = v.as<double>();
      if (c.raw == "real") d = static_cast<double>(static_cast<float>(d));
      return util::shortest_double(d);
    }
    case TypeFamily::numeric: return strip_decimal(std::holds_alternative<double>(st) ? util::shortest_double(std::get<double>(st)) : text());
    case TypeFamily::boolean: return v.as<bool>() ? "t" : "f";
    case TypeFamily::binary: {
      std::string raw = text();
      std::string out;
      append_hex(out, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
      return out;
    }
    case TypeFamily::json: {
      auto j = nlohmann::json::parse(text(), nullptr, false);
      return j.is_discarded() ? text() : j.dump();
    }
    case TypeFamily::uuid: {
      if (const auto* b = std::get_if<Blob>(&st); b != nullptr && b->size() == 16) {
        return uuid_text(reinterpret_cast<const unsigned char*>(b->data()));
      }
      std::string s = text();
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    }
    case TypeFamily::timestamp:
    case TypeFamily::timestamptz: {
      if (std::holds_alternative<std::int64_t>(st) || std::holds_alternative<double>(st)) {
        return format_timestamp(Timestamp(std::chrono::microseconds(std::llround(v.as<double>() * 1e6))));
      }
      auto t = parse_timestamp(text());
      return t ? format_timestamp(*t) : text();
    }
    default: return text();
  }
}

class Sha384 {
 public:
  Sha384() { SHA384_Init(&ctx_); }
  void add(std::string_view s) { SHA384_Update(&ctx_, s.data(), s.size()); }
  std::string hex() {
    unsigned char out[SHA384_DIGEST_LENGTH];
    SHA384_Final(out, &ctx_);
    std::string h;
    append_hex(h, out, sizeof out);
    return h;
  }

 private:
  SHA512_CTX ctx_;
};

Value sqlite_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL: return Value(Null{});
    case SQLITE_INTEGER: return Value(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i)));
    case SQLITE_FLOAT: return Value(sqlite3_column_double(stmt, i));
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::byte*>(sqlite3_column_blob(stmt, i));
      return Value(Blob(p, p + sqlite3_column_bytes(stmt, i)));
    }
    default: return Value(column_text(stmt, i));
  }
}

void add_row(Sha384& hash, const std::vector<Value>& row, const TablePlan& t) {
  std::string line;
  for (std::size_t i = 0; i < row.size(); ++i) {
    line += canonical(row[i], t.columns[i]);
    line += '\x1f';
  }
  line += '\x1e';
  hash.add(line);
}

std::string source_checksum(const Source& source, const TablePlan& t) {
  Sha384 hash;
  auto stmt = source.prepare(select_sql(t));
  std::vector<Value> row(t.columns.size());
  while (source.step(stmt.get())) {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      Value v = sqlite_value(stmt.get(), static_cast<int>(i));
      // Booleans and uuids as the converter reads them.
      if (t.columns[i].family == TypeFamily::boolean && std::holds_alternative<std::string>(v.storage())) {
        std::string s = std::get<std::string>(v.storage());
        for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        v = Value(s == "t" || s == "true" || s == "1");
      }
      row[i] = std::move(v);
    }
    add_row(hash, row, t);
  }
  return hash.hex();
}

// REQUIRES: t.key is not empty (rows are compared in key order).
std::string target_checksum(Connection& target, const TablePlan& t) {
  Sha384 hash;
  Transaction tx(target);
  std::string select = "SELECT ";
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    if (i > 0) select += ", ";
    // Text forms that compare with SQLite's values; the rest read natively.
    const auto f = t.columns[i].family;
    select += q(t.columns[i].name);
    if (f == TypeFamily::timestamptz) select += " AT TIME ZONE 'UTC'";
    if (f == TypeFamily::json) select += "::text";
  }
  select += " FROM " + q(t.name) + " ORDER BY ";
  for (std::size_t i = 0; i < t.key.size(); ++i) select += (i > 0 ? ", " : "") + q(t.key[i]);
  target.execute("DECLARE strata_port_verify NO SCROLL CURSOR FOR " + select);
  while (true) {
    auto rows = target.fetch("FETCH 5000 FROM strata_port_verify");
    if (rows.empty()) break;
    for (const Row& r : rows) add_row(hash, r.values(), t);
  }
  target.execute("CLOSE strata_port_verify");
  tx.commit();
  return hash.hex();
}

// ---------------------------------------------------------------- the port

constexpr const char* kProgressTable = "strata_port_progress";
constexpr const char* kForeignKeyTable = "strata_port_foreign_keys";

class Port {
 public:
  Port(const DatabaseUrl& from, const DatabaseUrl& to, const MigrationSet& migrations, const PortOptions& options)
      : from_(from), to_(to), migrations_(migrations), options_(options), source_(from) {
    if (from.engine != Engine::sqlite || from.is_memory()) {
      throw Error(ErrorKind::usage, "strata port reads a SQLite database file (--from sqlite:PATH), not " +
                                        from.redacted());
    }
    if (to.engine != Engine::postgres) {
      throw Error(ErrorKind::usage, "strata port writes to a PostgreSQL database (--to postgresql://...), not " +
                                        to.redacted());
    }
    validate_identifier(options.history.table, "history table");
    validate_schema_name(options.history.schema, "history schema");
    schema_ = options.history.schema;
    bg_schema_ = options.background.schema.empty() ? schema_ : options.background.schema;
  }

  PortResult run() {
    const auto start = Clock::now();
    target_ = connect(to_);
    target_->execute("SET TimeZone = 'UTC'");
    const Version version = source_version();
    result_.version = version;

    const bool interrupted = table_exists(*target_, schema_, kProgressTable);
    if (interrupted && !options_.resume) {
      throw Error(ErrorKind::port_target,
                  "the target " + to_.redacted() + " holds an interrupted port (table " + schema_ + "." +
                      kProgressTable + "): run again with --resume to continue it");
    }
    if (!interrupted) prepare_target(version);
    else check_target_version(version);

    plan_tables();
    copy_all();
    finish();
    result_.duration = since(start);
    return result_;
  }

 private:
  static bool table_exists(Connection& c, std::string_view schema, std::string_view table) {
    return c.fetch_value<bool>("SELECT to_regclass($1) IS NOT NULL", {q(schema) + "." + q(table)});
  }

  std::string qualified(std::string_view schema, std::string_view table) const { return q(schema) + "." + q(table); }

  // The newest version applied to the source, from its strata history (or,
  // for a Synapse layout, its schema_version).
  Version source_version() {
    if (options_.synapse) return synapse_source_version();
    const auto& h = options_.history.table;
    if (!source_.table_exists(h)) {
      throw Error(ErrorKind::usage, "the source " + from_.redacted() + " has no strata history table " + h +
                                        ": migrate it with strata first (strata up), so port knows its version");
    }
    auto stmt = source_.prepare("SELECT max(version), count(*) FILTER (WHERE NOT success) FROM " + q(h));
    source_.step(stmt.get());
    if (sqlite3_column_int64(stmt.get(), 1) > 0) {
      throw Error(ErrorKind::dirty, "the source " + from_.redacted() +
                                        " has a failed no-transaction migration (dirty): repair it before porting");
    }
    Version v = sqlite3_column_int64(stmt.get(), 0);
    if (migrations_.find(v) == nullptr && v != 0) {
      throw Error(ErrorKind::validation, "the source is at version " + std::to_string(v) +
                                             ", which the migration source does not have");
    }
    return v;
  }

  Version synapse_source_version() {
    const Version code = options_.synapse->layout.schema_version;
    if (!source_.table_exists("schema_version")) {
      throw Error(ErrorKind::usage, "the source " + from_.redacted() +
                                        " has no schema_version table: it is not a Synapse-layout database "
                                        "(create or upgrade it with strata up first)");
    }
    auto stmt = source_.prepare("SELECT version FROM schema_version");
    if (!source_.step(stmt.get())) {
      throw Error(ErrorKind::usage, "the source " + from_.redacted() + " has an empty schema_version table");
    }
    const Version v = sqlite3_column_int64(stmt.get(), 0);
    if (v != code) {
      throw Error(ErrorKind::validation,
                  "the source " + from_.redacted() + " is at Synapse schema version " + std::to_string(v) +
                      " but the layout's schema_version is " + std::to_string(code) +
                      (v < code ? ": upgrade the source first (strata up)" : ": port it with the newer tree"));
    }
    return v;
  }

  std::optional<Version> target_version() {
    if (options_.synapse) {
      if (!table_exists(*target_, schema_, "schema_version")) return std::nullopt;
      auto v = target_->fetch_value("SELECT max(version) FROM " + qualified(schema_, "schema_version"));
      if (v.is_null()) return std::nullopt;
      return v.as<std::int64_t>();
    }
    History history(*target_, options_.history);
    if (!history.exists()) return std::nullopt;
    auto rows = history.read();
    if (rows.empty()) return std::nullopt;
    Version v = 0;
    for (const auto& r : rows) v = std::max(v, r.version);
    return v;
  }

  void check_target_version(Version version) {
    auto v = target_version();
    if (v.value_or(0) != version) {
      throw Error(ErrorKind::port_target, "the target " + to_.redacted() + " is at version " +
                                              (v ? std::to_string(*v) : std::string("none (no history)")) +
                                              " but the source is at version " + std::to_string(version));
    }
  }

  // Refuses a target at another version or with rows; migrates it to
  // `version`; records the plan's progress tables and drops foreign keys.
  void prepare_target(Version version) {
    auto v = target_version();
    if (v && *v != version) {
      throw Error(ErrorKind::port_target,
                  "the target " + to_.redacted() + " is at version " + std::to_string(*v) +
                      " but the source is at version " + std::to_string(version) +
                      ": port needs an empty target or one migrated to exactly the source's version");
    }
    // Rows in user tables (before migrating: whatever is there now).
    auto existing = schema::inspect(*target_, inspect_options());
    std::vector<std::string> full;
    for (const auto& t : existing.tables) {
      auto n = target_->fetch_value<std::int64_t>("SELECT count(*) FROM (SELECT 1 FROM " + q(t.name) +
                                                  " LIMIT 1) x");
      if (n > 0) full.push_back(t.name);
    }
    if (!full.empty()) {
      std::string names;
      for (const auto& n : full) names += (names.empty() ? "" : ", ") + n;
      throw Error(ErrorKind::port_target, "the target " + to_.redacted() + " already holds rows (in " + names +
                                              "): port fills an empty database only");
    }
    if (!v && options_.synapse) {
      SynapseMigrator migrator(*target_, options_.synapse->layout, options_.synapse->logical,
                               options_.synapse->options);
      migrator.up();
    } else if (!v && version > 0) {
      MigratorOptions mo;
      mo.history = options_.history;
      mo.background_queue = BackgroundTables{bg_schema_, options_.background.queue, options_.background.log};
      mo.on_warning = options_.on_warning;
      Migrator migrator(*target_, migrations_, mo);
      UpOptions up;
      up.target = version;
      migrator.up(up);
    }
    Transaction tx(*target_);
    target_->execute("CREATE TABLE " + qualified(schema_, kProgressTable) +
                     " (table_name TEXT PRIMARY KEY, state TEXT NOT NULL, rows BIGINT NOT NULL DEFAULT 0,"
                     " updated_at TIMESTAMPTZ NOT NULL DEFAULT now())");
    target_->execute("CREATE TABLE " + qualified(schema_, kForeignKeyTable) +
                     " (table_name TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,"
                     " PRIMARY KEY (table_name, name))");
    // Keep every foreign key among the user tables, then drop it.
    auto fks = target_->fetch(
        "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con"
        " JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE con.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2");
    std::set<std::string> user_tables = user_table_names();
    for (const Row& r : fks) {
      auto table = r.get<std::string>(0);
      if (user_tables.count(table) == 0) continue;
      target_->execute("INSERT INTO " + qualified(schema_, kForeignKeyTable) + " VALUES ($1, $2, $3)",
                       {table, r.get<std::string>(1), r.get<std::string>(2)});
      target_->execute("ALTER TABLE " + q(table) + " DROP CONSTRAINT " + q(r.get<std::string>(1)));
    }
    tx.commit();
  }

  schema::InspectOptions inspect_options() const {
    schema::InspectOptions o;
    o.exclude_tables = {options_.history.table, kProgressTable, kForeignKeyTable};
    return o;
  }

  std::set<std::string> user_table_names() {
    std::set<std::string> out;
    for (const auto& t : schema::inspect(*target_, inspect_options()).tables) out.insert(t.name);
    return out;
  }

  // The tables to copy, in foreign-key order, with each column's conversion.
  void plan_tables() {
    schema::Schema target = schema::inspect(*target_, inspect_options());
    // Foreign keys were dropped: order by the saved definitions' targets.
    std::map<std::string, std::set<std::string>> parents;
    for (const Row& r : target_->fetch("SELECT table_name, definition FROM " +
                                       qualified(schema_, kForeignKeyTable))) {
      auto def = r.get<std::string>(1);
      auto at = def.find("REFERENCES ");
      if (at == std::string::npos) continue;
      std::string rest = def.substr(at + 11);
      std::string parent = rest.substr(0, rest.find('('));
      if (!parent.empty() && parent.front() == '"') parent = parent.substr(1, parent.size() - 2);
      parents[r.get<std::string>(0)].insert(parent);
    }
    std::map<std::string, TablePlan> plans;
    for (const auto& t : target.tables) {
      if (!source_.table_exists(t.name)) continue;  // a target-only table stays empty
      if (options_.synapse && t.name == "applied_schema_deltas") continue;  // merged in finish()
      if (is_shadow_or_virtual(t.name)) {
        // A SQLite virtual table (an FTS index, say) holds what the engine
        // derived from other rows, in the engine's own form: it is not data
        // to copy. The target's table of that name stays empty.
        if (options_.on_warning) {
          options_.on_warning("table " + t.name + " is a SQLite virtual table (or one of its shadow tables) on the "
                              "source: not copied; the target's " + t.name + " stays empty (rebuild it there)");
        }
        continue;
      }
      TablePlan plan;
      plan.name = t.name;
      // Source columns by their name folded to lower case: SQLite matches
      // column names without regard to ASCII case, and PostgreSQL folds an
      // unquoted name to lower case, so Synapse's "Lock CHAR(1)" is "lock"
      // on the target.
      auto folded = [](std::string name) {
        for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return name;
      };
      std::map<std::string, std::string> source_columns;
      {
        auto stmt = source_.prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden IN (0, 1)");
        sqlite3_bind_text(stmt.get(), 1, t.name.c_str(), -1, SQLITE_TRANSIENT);
        while (source_.step(stmt.get())) {
          std::string name = column_text(stmt.get(), 0);
          source_columns.emplace(folded(name), name);
        }
      }
      for (const auto& c : t.columns) {
        if (c.generated != schema::GeneratedKind::none) continue;
        if (source_columns.erase(folded(c.name)) == 0) continue;  // target-only: its default
        plan.columns.push_back({c.name, c.type.family, c.type.raw});
      }
      // Source columns the target lacks would be lost: refuse.
      {
        auto stmt = source_.prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden IN (2, 3)");
        sqlite3_bind_text(stmt.get(), 1, t.name.c_str(), -1, SQLITE_TRANSIENT);
        while (source_.step(stmt.get())) source_columns.erase(folded(column_text(stmt.get(), 0)));
      }
      if (!source_columns.empty()) {
        throw Error(ErrorKind::port_target, "the target table " + t.name + " has no column " +
                                                source_columns.begin()->second +
                                                ", which the source has: the schemas differ (same migrations?)");
      }
      if (t.primary_key) plan.key = t.primary_key->columns;
      plans.emplace(t.name, std::move(plan));
    }
    // Source tables the target lacks.
    {
      auto stmt = source_.prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
      while (source_.step(stmt.get())) {
        std::string name = column_text(stmt.get(), 0);
        if (plans.count(name) > 0 || name == options_.history.table || name.rfind("strata_", 0) == 0) continue;
        if (target.find_table(name) == nullptr && !is_shadow_or_virtual(name)) {
          throw Error(ErrorKind::port_target, "the source table " + name +
                                                  " does not exist on the target: the schemas differ");
        }
      }
    }
    // Kahn's algorithm, smallest name first; a cycle is broken at its smallest member.
    std::set<std::string> done;
    while (done.size() < plans.size()) {
      const TablePlan* next = nullptr;
      for (const auto& [name, plan] : plans) {
        if (done.count(name) > 0) continue;
        bool ready = true;
        for (const auto& p : parents[name]) {
          if (p != name && plans.count(p) > 0 && done.count(p) == 0) ready = false;
        }
        if (ready) {
          next = &plan;
          break;
        }
      }
      if (next == nullptr) {
        for (const auto& [name, plan] : plans) {
          if (done.count(name) == 0) {
            next = &plan;
            break;
          }
        }
      }
      done.insert(next->name);
      tables_.push_back(*next);
    }
    // strata's background-update queue and log, replaced as they are.
    for (const std::string& name : {options_.background.queue, options_.background.log}) {
      if (!source_.table_exists(name) || !table_exists(*target_, bg_schema_, name)) continue;
      schema::InspectOptions o;
      o.schema = bg_schema_;
      o.include_strata_tables = true;
      auto s = schema::inspect(*target_, o);
      const auto* t = s.find_table(name);
      if (t == nullptr) continue;
      TablePlan plan;
      plan.name = name;
      plan.replace = true;
      for (const auto& c : t->columns) plan.columns.push_back({c.name, c.type.family, c.type.raw});
      if (t->primary_key) plan.key = t->primary_key->columns;
      tables_.push_back(std::move(plan));
    }
    // Progress rows for tables not seen yet.
    for (const auto& t : tables_) {
      target_->execute("INSERT INTO " + qualified(schema_, kProgressTable) +
                       " (table_name, state) VALUES ($1, 'pending') ON CONFLICT (table_name) DO NOTHING",
                       {t.name});
    }
  }

  bool is_shadow_or_virtual(const std::string& name) {
    auto stmt = source_.prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' AND"
        " (name = ?1 OR ?1 LIKE name || '\\_%' ESCAPE '\\')");
    sqlite3_bind_text(stmt.get(), 1, name.c_str(), -1, SQLITE_TRANSIENT);
    return source_.step(stmt.get());
  }

  void report(const PortProgress& p) {
    if (!options_.on_progress) return;
    std::lock_guard lock(progress_mutex_);
    options_.on_progress(p);
  }

  void copy_all() {
    std::map<std::string, std::string> states;
    for (const Row& r : target_->fetch("SELECT table_name, state FROM " + qualified(schema_, kProgressTable))) {
      states[r.get<std::string>(0)] = r.get<std::string>(1);
    }
    std::atomic<std::size_t> next{0};
    std::mutex results_mutex;
    std::vector<std::exception_ptr> failures;
    std::vector<PortTable> copied(tables_.size());
    auto worker = [&] {
      try {
        Source source(from_);
        auto target = connect(to_);
        target->execute("SET TimeZone = 'UTC'");
        while (true) {
          std::size_t i = next++;
          if (i >= tables_.size()) break;
          {
            std::lock_guard lock(results_mutex);
            if (!failures.empty()) break;
          }
          const TablePlan& t = tables_[i];
          if (states[t.name] == "done") {
            copied[i].name = t.name;
            copied[i].resumed = true;
            copied[i].rows = target->fetch_value<std::int64_t>(
                "SELECT rows FROM " + qualified(schema_, kProgressTable) + " WHERE table_name = $1", {t.name});
            if (options_.on_warning) options_.on_warning("table " + t.name + " was copied by an earlier run: skipped");
            continue;
          }
          copied[i] = copy_table(source, *target, t);
        }
      } catch (...) {
        std::lock_guard lock(results_mutex);
        failures.push_back(std::current_exception());
      }
    };
    int jobs = std::max(1, std::min<int>(options_.jobs, static_cast<int>(tables_.size())));
    if (jobs == 1) {
      worker();
    } else {
      std::vector<std::thread> threads;
      for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
      for (auto& t : threads) t.join();
    }
    if (!failures.empty()) std::rethrow_exception(failures.front());
    for (auto& t : copied) {
      result_.rows += t.rows;
      result_.tables.push_back(std::move(t));
    }
  }

  PortTable copy_table(const Source& source, Connection& target, const TablePlan& t) {
    const auto start = Clock::now();
    PortProgress progress{t.name, 0, source.count(t.name), {}, false};
    report(progress);
    auto stmt = source.prepare(select_sql(t));
    std::string copy = "COPY " + (t.replace ? qualified(bg_schema_, t.name) : q(t.name)) + " (";
    for (std::size_t i = 0; i < t.columns.size(); ++i) copy += (i > 0 ? ", " : "") + q(t.columns[i].name);
    copy += ") FROM STDIN";
    Transaction tx(target);
    const std::string target_table = t.replace ? qualified(bg_schema_, t.name) : q(t.name);
    // The table's own triggers stay off while its rows arrive: the source's
    // rows already hold what they did (a trigger counting events into
    // room_stats would count every copied event twice). Back on before the
    // commit, in the same transaction.
    const bool has_triggers = target.fetch_value<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal)", {target_table});
    if (has_triggers) target.execute("ALTER TABLE " + target_table + " DISABLE TRIGGER USER");
    // Rows the migrations seeded (the source has them too) are replaced.
    target.execute("DELETE FROM " + target_table);
    std::int64_t rows = 0;
    bool more = true;
    auto last_report = Clock::now();
    auto produce = [&](std::string& buffer) {
      for (int n = 0; n < options_.batch_rows && more; ++n) {
        if (!source.step(stmt.get())) {
          more = false;
          break;
        }
        ++rows;
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
          if (i > 0) buffer += '\t';
          std::string why;
          if (!convert(stmt.get(), static_cast<int>(i), t.columns[i], buffer, why)) {
            std::string value = shown_value(stmt.get(), static_cast<int>(i));
            throw Error(ErrorKind::port_conversion,
                        "table " + t.name + ", row " + row_key(source, t, rows, {}, nullptr) + ", column " +
                            t.columns[i].name + " (" + t.columns[i].raw + "): cannot convert " + value + ": " +
                            why + "; nothing of " + t.name + " was committed");
          }
        }
        buffer += '\n';
      }
      if (Clock::now() - last_report > std::chrono::milliseconds(200) || !more) {
        progress.rows_done = rows;
        progress.elapsed = since(start);
        report(progress);
        last_report = Clock::now();
      }
      return more;
    };
    try {
      detail::copy_in(target, copy, produce);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::sql) throw;
      // The server refused a value: name the row from the CONTEXT line
      // ("COPY t, line 12, column c: ...").
      std::string message = e.engine_message();
      std::int64_t line = 0;
      std::string column;
      // (JSON errors carry a "JSON data, line 1" context line of their own.)
      auto copy_at = message.find("COPY ");
      if (auto at = message.find(", line ", copy_at == std::string::npos ? 0 : copy_at);
          copy_at != std::string::npos && at != std::string::npos) {
        std::from_chars(message.data() + at + 7, message.data() + message.size(), line);
        if (auto col = message.find(", column ", at); col != std::string::npos) {
          auto end = message.find(':', col + 9);
          column = message.substr(col + 9, end == std::string::npos ? std::string::npos : end - col - 9);
        }
      }
      if (line <= 0) throw;
      std::string value;
      std::string key = row_key(source, t, line, column, &value);
      std::string first_line = message.substr(0, message.find('\n'));
      throw Error(ErrorKind::port_conversion,
                  "table " + t.name + ", row " + key + (column.empty() ? "" : ", column " + column) +
                      (value.empty() ? "" : ": cannot convert " + value) + ": " + first_line +
                      "; nothing of " + t.name + " was committed",
                  e.engine_code(), {});
    }
    if (has_triggers) target.execute("ALTER TABLE " + target_table + " ENABLE TRIGGER USER");
    target.execute("UPDATE " + qualified(schema_, kProgressTable) +
                       " SET state = 'done', rows = $2, updated_at = now() WHERE table_name = $1",
                   {t.name, rows});
    tx.commit();
    progress.rows_done = rows;
    progress.elapsed = since(start);
    progress.finished = true;
    report(progress);
    PortTable out;
    out.name = t.name;
    out.rows = rows;
    out.duration = since(start);
    return out;
  }

  void finish() {
    Connection& target = *target_;
    // History: the source's rows as they are (applied_at, execution time,
    // floors); the checksum stays the target's, which is that of the file
    // PostgreSQL runs (an engine variant differs from SQLite's). A Synapse
    // layout's state tables were copied with the other tables.
    if (!options_.synapse) {
      auto stmt = source_.prepare("SELECT version, applied_at, execution_time_us, success, failure, compat_floor FROM " +
                                  q(options_.history.table));
      Transaction tx(target);
      History history(target, options_.history);
      while (source_.step(stmt.get())) {
        std::vector<Value> params{sqlite_value(stmt.get(), 0), sqlite_value(stmt.get(), 1),
                                  sqlite_value(stmt.get(), 2), Value(sqlite3_column_int64(stmt.get(), 3) != 0),
                                  sqlite_value(stmt.get(), 4), sqlite_value(stmt.get(), 5)};
        target.execute("UPDATE " + history.qualified_name() +
                           " SET applied_at = ($2::text || '+00')::timestamptz, execution_time_us = $3,"
                           " success = $4, failure = $5, compat_floor = $6 WHERE version = $1",
                       params);
      }
      tx.commit();
    }
    // Foreign keys back (each validated), progress tables gone, in one step.
    {
      Transaction tx(target);
      if (options_.synapse) merge_applied_deltas(target);
      for (const Row& r : target.fetch("SELECT table_name, name, definition FROM " +
                                       qualified(schema_, kForeignKeyTable) + " ORDER BY 1, 2")) {
        try {
          target.execute("ALTER TABLE " + q(r.get<std::string>(0)) + " ADD CONSTRAINT " + q(r.get<std::string>(1)) +
                         " " + r.get<std::string>(2));
        } catch (Error& e) {
          e.context("restoring foreign key " + r.get<std::string>(1) + " on " + r.get<std::string>(0) +
                    " after copying");
          throw;
        }
      }
      // Sequences and identity columns past the copied maximum.
      for (const auto& t : tables_) {
        if (t.replace) continue;
        for (const auto& c : t.columns) {
          if (c.family != TypeFamily::integer) continue;
          auto seq = target.fetch_value("SELECT pg_get_serial_sequence($1, $2)", {q(t.name), c.name});
          if (seq.is_null()) continue;
          target.execute("SELECT setval($1::regclass, COALESCE((SELECT max(" + q(c.name) + ") FROM " + q(t.name) +
                             "), 0) + 1, false)",
                         {seq});
          result_.sequences_reset.push_back(t.name + "." + c.name);
        }
      }
      // Counts, then checksums.
      for (auto& pt : result_.tables) {
        const TablePlan& t = *std::find_if(tables_.begin(), tables_.end(), [&](const TablePlan& p) { return p.name == pt.name; });
        auto source_rows = source_.count(t.name);
        auto target_rows = target.fetch_value<std::int64_t>(
            "SELECT count(*) FROM " + (t.replace ? qualified(bg_schema_, t.name) : q(t.name)));
        if (source_rows != target_rows) {
          throw Error(ErrorKind::port_verify, "table " + t.name + ": the source has " + std::to_string(source_rows) +
                                                  " rows, the target " + std::to_string(target_rows));
        }
        if (options_.verify && !t.replace && !t.key.empty()) {
          std::string a = source_checksum(source_, t);
          std::string b = target_checksum(target, t);
          if (a != b) {
            throw Error(ErrorKind::port_verify, "table " + t.name + ": the rows' checksums differ (source " +
                                                    a.substr(0, 16) + "..., target " + b.substr(0, 16) + "...)");
          }
          pt.checksum = a;
        }
      }
      target.execute("DROP TABLE " + qualified(schema_, kForeignKeyTable));
      target.execute("DROP TABLE " + qualified(schema_, kProgressTable));
      tx.commit();
    }
  }

  // Synapse records a delta by its file name, so a SQLite database lists
  // "12/01x.sql.sqlite" where PostgreSQL runs "12/01x.sql.postgres", and
  // has no row at all for a PostgreSQL-only delta. So applied_schema_deltas
  // is merged rather than replaced: the target keeps the rows its own
  // migrator wrote (what PostgreSQL ran) and gains every source row it
  // lacks, a SQLite-variant name becoming the PostgreSQL one wherever the
  // tree has that file (else Synapse, and strata, would see the PostgreSQL
  // file as never applied).
  void merge_applied_deltas(Connection& target) {
    const auto& layout = options_.synapse->layout;
    std::vector<std::string> dirs{"common"};
    for (const auto& l : options_.synapse->logical) dirs.push_back(l);
    const std::string table = qualified(schema_, "applied_schema_deltas");
    if (!table_exists(target, schema_, "applied_schema_deltas") || !source_.table_exists("applied_schema_deltas")) return;
    auto stmt = source_.prepare("SELECT version, file FROM applied_schema_deltas");
    while (source_.step(stmt.get())) {
      const std::int64_t version = sqlite3_column_int64(stmt.get(), 0);
      std::string file = column_text(stmt.get(), 1);
      for (const auto& [from, to] : {std::pair<std::string, std::string>{".sql.sqlite", ".sql.postgres"},
                                     std::pair<std::string, std::string>{".sqlite.sql", ".postgres.sql"}}) {
        if (file.size() <= from.size() || file.compare(file.size() - from.size(), from.size(), from) != 0) continue;
        const std::string renamed = file.substr(0, file.size() - from.size()) + to;
        const std::string name = renamed.substr(renamed.find('/') + 1);
        bool exists = false;
        for (const auto& d : dirs) {
          std::error_code ec;
          exists = exists || std::filesystem::exists(layout.root / d / "delta" / std::to_string(version) / name, ec);
        }
        if (exists) file = renamed;
      }
      target.execute("INSERT INTO " + table + " (version, file) SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM " +
                         table + " WHERE version = $1 AND file = $2)",
                     {Value(version), Value(file)});
    }
  }

  DatabaseUrl from_;
  DatabaseUrl to_;
  const MigrationSet& migrations_;
  PortOptions options_;
  Source source_;
  std::string schema_;
  std::string bg_schema_;
  std::unique_ptr<Connection> target_;
  std::vector<TablePlan> tables_;
  PortResult result_;
  std::mutex progress_mutex_;
};

}  // namespace

PortResult port(const DatabaseUrl& from, const DatabaseUrl& to, const MigrationSet& migrations,
                const PortOptions& options) {
  Port p(from, to, migrations, options);
  return p.run();
}

}  // namespace strata
