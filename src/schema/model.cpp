// schema/model.cpp: the model's small helpers: type families, lookups and
// the equality rules model.hpp documents.
#include "strata/schema/model.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace strata::schema {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The first word of a declared type, upper-cased: "VARCHAR(20)" -> "VARCHAR".
std::string base_word(const std::string& upper_type) {
  std::size_t end = 0;
  while (end < upper_type.size() &&
         (std::isalnum(static_cast<unsigned char>(upper_type[end])) || upper_type[end] == '_')) {
    ++end;
  }
  return upper_type.substr(0, end);
}

template <class T>
const T* find_named(const std::vector<T>& items, std::string_view name) {
  for (const T& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

const char* to_string(TypeFamily family) noexcept {
  switch (family) {
    case TypeFamily::integer: return "integer";
    case TypeFamily::floating: return "floating";
    case TypeFamily::numeric: return "numeric";
    case TypeFamily::boolean: return "boolean";
    case TypeFamily::text: return "text";
    case TypeFamily::binary: return "binary";
    case TypeFamily::date: return "date";
    case TypeFamily::time: return "time";
    case TypeFamily::timestamp: return "timestamp";
    case TypeFamily::timestamptz: return "timestamptz";
    case TypeFamily::interval: return "interval";
    case TypeFamily::uuid: return "uuid";
    case TypeFamily::json: return "json";
    case TypeFamily::array: return "array";
    case TypeFamily::enumeration: return "enumeration";
    case TypeFamily::other: return "other";
  }
  return "other";
}

const char* to_sql(ReferentialAction action) noexcept {
  switch (action) {
    case ReferentialAction::no_action: return "NO ACTION";
    case ReferentialAction::restrict: return "RESTRICT";
    case ReferentialAction::cascade: return "CASCADE";
    case ReferentialAction::set_null: return "SET NULL";
    case ReferentialAction::set_default: return "SET DEFAULT";
  }
  return "NO ACTION";
}

TypeFamily sqlite_type_family(std::string_view declared) {
  const std::string t = upper(declared);
  const std::string word = base_word(t);
  // Names applications use for types SQLite has no affinity for.
  if (word == "BOOL" || word == "BOOLEAN") return TypeFamily::boolean;
  if (word == "DATE") return TypeFamily::date;
  if (word == "DATETIME" || word == "TIMESTAMP") {
    return contains(t, "WITH TIME ZONE") ? TypeFamily::timestamptz : TypeFamily::timestamp;
  }
  if (word == "TIMESTAMPTZ") return TypeFamily::timestamptz;
  if (word == "TIME" || word == "TIMETZ") return TypeFamily::time;
  if (word == "UUID") return TypeFamily::uuid;
  if (word == "JSON" || word == "JSONB") return TypeFamily::json;
  // SQLite's affinity rules (https://sqlite.org/datatype3.html, 3.1), in order.
  if (contains(t, "INT")) return TypeFamily::integer;
  if (contains(t, "CHAR") || contains(t, "CLOB") || contains(t, "TEXT")) return TypeFamily::text;
  if (t.empty() || contains(t, "BLOB")) return TypeFamily::binary;
  if (contains(t, "REAL") || contains(t, "FLOA") || contains(t, "DOUB")) return TypeFamily::floating;
  return TypeFamily::numeric;
}

TypeFamily postgres_type_family(std::string_view format_type, bool is_enum) {
  if (is_enum) return TypeFamily::enumeration;
  const std::string t(format_type);
  if (t.size() >= 2 && t.compare(t.size() - 2, 2, "[]") == 0) return TypeFamily::array;
  auto starts = [&](std::string_view p) { return t.compare(0, p.size(), p) == 0; };
  if (t == "smallint" || t == "integer" || t == "bigint") return TypeFamily::integer;
  if (t == "real" || t == "double precision") return TypeFamily::floating;
  if (starts("numeric") || t == "money") return TypeFamily::numeric;
  if (t == "boolean") return TypeFamily::boolean;
  if (t == "text" || starts("character") || t == "name" || t == "citext" || t == "\"char\"") {
    return TypeFamily::text;
  }
  if (t == "bytea") return TypeFamily::binary;
  if (t == "date") return TypeFamily::date;
  if (starts("timestamp")) {
    return contains(t, "with time zone") && !contains(t, "without") ? TypeFamily::timestamptz
                                                                   : TypeFamily::timestamp;
  }
  if (starts("time")) return TypeFamily::time;
  if (starts("interval")) return TypeFamily::interval;
  if (t == "uuid") return TypeFamily::uuid;
  if (t == "json" || t == "jsonb") return TypeFamily::json;
  return TypeFamily::other;
}

bool Index::operator==(const Index& o) const {
  return name == o.name && table == o.table && unique == o.unique && keys == o.keys && include == o.include &&
         predicate == o.predicate && method == o.method && nulls_not_distinct == o.nulls_not_distinct &&
         comment == o.comment;
}

const Column* Table::find_column(std::string_view column) const { return find_named(columns, column); }

bool Table::operator==(const Table& o) const {
  if (name != o.name || columns.size() != o.columns.size()) return false;
  for (const Column& c : columns) {
    const Column* other = o.find_column(c.name);
    if (other == nullptr || !(*other == c)) return false;
  }
  return primary_key == o.primary_key && foreign_keys == o.foreign_keys && uniques == o.uniques &&
         checks == o.checks && indexes == o.indexes && without_rowid == o.without_rowid && strict == o.strict &&
         unlogged == o.unlogged && comment == o.comment;
}

bool View::operator==(const View& o) const {
  return name == o.name && definition == o.definition && materialized == o.materialized && indexes == o.indexes &&
         comment == o.comment;
}

const Table* Schema::find_table(std::string_view table) const { return find_named(tables, table); }
const View* Schema::find_view(std::string_view view) const { return find_named(views, view); }

bool Schema::operator==(const Schema& o) const {
  return engine == o.engine && tables == o.tables && views == o.views && triggers == o.triggers &&
         sequences == o.sequences && enums == o.enums && domains == o.domains && functions == o.functions &&
         extensions == o.extensions && virtual_tables == o.virtual_tables;
}

}  // namespace strata::schema
