// strata/value.hpp: values bound to and read from SQL, the same on both engines.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace strata {

using Blob = std::vector<std::byte>;
// Timestamps are UTC with microsecond precision. SQLite stores them as ISO-8601
// text ("2025-04-10 12:00:00.000000"); PostgreSQL as timestamp/timestamptz.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;
struct Null {
  bool operator==(const Null&) const = default;
};

// One SQL value. Reading a result gives the engine's natural type: integers as
// int64, floating point as double, text, blob, bool (PostgreSQL boolean), null.
// Timestamps are read as text; Value::as<Timestamp>() parses them.
class Value {
 public:
  using Storage = std::variant<Null, std::int64_t, double, std::string, Blob, bool, Timestamp>;

  Value() = default;
  Value(Null) {}
  Value(std::nullopt_t) {}
  Value(int v) : v_(std::int64_t{v}) {}
  Value(long v) : v_(std::int64_t{v}) {}
  Value(long long v) : v_(static_cast<std::int64_t>(v)) {}
  Value(unsigned v) : v_(std::int64_t{v}) {}
  Value(double v) : v_(v) {}
  Value(bool v) : v_(v) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(Blob v) : v_(std::move(v)) {}
  Value(Timestamp v) : v_(v) {}
  template <class T>
  Value(const std::optional<T>& v) {
    if (v) *this = Value(*v);
  }

  bool is_null() const { return std::holds_alternative<Null>(v_); }
  const Storage& storage() const { return v_; }

  // Converts to T, throwing Error{ErrorKind::usage} when the value cannot be
  // represented (text to int, null to a non-optional, ...). Integers convert
  // to bool (0/1, as SQLite stores booleans) and to double; text in ISO-8601
  // form converts to Timestamp. std::optional<T> gives nullopt for null.
  // Also: a double with an exact integral value converts to an integer; an
  // integer to int only when in range; text and blob convert to each other;
  // a Timestamp to text (format_timestamp). Everything else throws.
  // T is one of std::int64_t, long long, int, double, bool, std::string,
  // Blob, Timestamp, or std::optional of one of them.
  template <class T>
  T as() const;

  // A human-readable rendering, for status output and tests: NULL, 42, 1.5,
  // the text itself, x'00ff' for blobs, true/false, a formatted timestamp.
  std::string to_string() const;

  bool operator==(const Value&) const = default;

 private:
  Storage v_;
};

// One result row; columns are shared with the result set that owns the row.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  std::size_t size() const { return values_.size(); }
  const Value& operator[](std::size_t i) const { return values_.at(i); }
  template <class T>
  T get(std::size_t i) const { return values_.at(i).as<T>(); }
  const std::vector<Value>& values() const { return values_; }

 private:
  std::vector<Value> values_;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by an INSERT/UPDATE/DELETE
};

std::string format_timestamp(Timestamp t);               // "2025-04-10 12:00:00.000000"
// Accepts "YYYY-MM-DD[( |T)HH:MM[:SS[.fraction]]][Z|(+|-)HH[[:]MM[[:]SS]]]"
// (PostgreSQL's timestamptz output in any session TimeZone, SQLite's
// CURRENT_TIMESTAMP, RFC 3339); the result is UTC, fractions beyond
// microseconds are truncated. nullopt for anything else.
std::optional<Timestamp> parse_timestamp(std::string_view text);

// For GoogleTest's messages: prints Value::to_string().
void PrintTo(const Value& value, std::ostream* os);

}  // namespace strata
