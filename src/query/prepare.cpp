// prepare_query: Connection::describe plus the rules of query/analysis.hpp,
// and the JSON form of what it finds (.strata/queries.json).
#include <algorithm>
#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "query/analysis.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/query.hpp"

namespace strata {
namespace {

using query::detail::Analysis;
using query::detail::ColumnRef;
using query::detail::SelectItem;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

struct CatalogColumn {
  std::string table;
  std::string type;
  bool not_null = false;
};

// The table column `ref` names, looked up in the catalog of each table it may
// belong to (the dialect's SQL; names compared case-insensitively).
std::optional<CatalogColumn> lookup(Connection& c, const Analysis& a, const ColumnRef& ref) {
  for (const auto& table : query::detail::candidate_tables(a, ref)) {
    std::optional<Row> row;
    if (c.engine() == Engine::sqlite) {
      row = c.fetch_one(
          "SELECT type, \"notnull\" <> 0 OR (pk <> 0 AND upper(type) = 'INTEGER') FROM pragma_table_info($1) "
          "WHERE lower(name) = $2",
          {table, ref.column});
    } else {
      row = c.fetch_one(
          "SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_catalog.pg_attribute a "
          "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
          "WHERE lower(c.relname) = $1 AND pg_catalog.pg_table_is_visible(c.oid) AND lower(a.attname) = $2 "
          "AND a.attnum > 0 AND NOT a.attisdropped",
          {table, ref.column});
    }
    if (row) return CatalogColumn{table, row->get<std::string>(0), row->get<bool>(1)};
  }
  return std::nullopt;
}

bool is_keyword(const std::string& s) {
  static const char* const words[] = {
      "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char", "class", "const",
      "constexpr", "continue", "default", "delete", "do", "double", "else", "enum", "explicit", "export", "extern",
      "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new",
      "noexcept", "not", "nullptr", "operator", "or", "private", "protected", "public", "register", "return",
      "short", "signed", "sizeof", "static", "struct", "switch", "template", "this", "throw", "true", "try",
      "typedef", "typename", "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
      "requires", "concept", "co_await", "co_return", "co_yield", "char8_t", "db", "pool"};
  return std::find(std::begin(words), std::end(words), s) != std::end(words);
}

// A C++ identifier for a column or parameter, unique among `taken`.
std::string identifier(std::string_view raw, std::vector<std::string>& taken, const std::string& fallback) {
  std::string out;
  for (char c : raw) out += (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_') ? c : '_';
  if (out.empty() || std::all_of(out.begin(), out.end(), [](char c) { return c == '_'; })) out = fallback;
  if (std::isdigit(static_cast<unsigned char>(out[0])) != 0) out = "_" + out;
  if (is_keyword(out)) out += "_";
  std::string unique = out;
  for (int n = 2; std::find(taken.begin(), taken.end(), unique) != taken.end(); ++n) unique = out + std::to_string(n);
  taken.push_back(unique);
  return unique;
}

// sqlx's column annotations: "name!" (not null), "name?" (nullable),
// "name: type" (a value type), combined as "name!: int64".
struct Annotation {
  std::string base;
  std::optional<bool> nullable;
  std::optional<ValueType> type;
  std::string error;
};

Annotation annotation(std::string_view name) {
  Annotation a;
  std::string_view base = name;
  if (auto colon = name.find(':'); colon != std::string_view::npos) {
    std::string_view type = trim(name.substr(colon + 1));
    a.type = parse_value_type(type);
    if (!a.type) a.error = "unknown type \"" + std::string(type) + "\" in column name \"" + std::string(name) +
                           "\" (int64, double, text, blob, bool, timestamp)";
    base = trim(name.substr(0, colon));
  }
  if (base.ends_with("!")) {
    a.nullable = false;
    base.remove_suffix(1);
  } else if (base.ends_with("?")) {
    a.nullable = true;
    base.remove_suffix(1);
  }
  a.base = std::string(trim(base));
  return a;
}

// Line and column of byte `offset` of a query's text.
SourcePosition position_of(const Query& q, int offset) {
  SourcePosition p{q.file, q.line, q.column, 0};
  for (int i = 0; i < offset && i < static_cast<int>(q.sql.size()); ++i) {
    if (q.sql[static_cast<std::size_t>(i)] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

Error query_error(const Query& q, std::string message) {
  Error e(ErrorKind::sql, std::move(message), {}, q.sql);
  e.at({q.file, q.line, q.column, 0});
  e.context("query " + q.name);
  return e;
}

}  // namespace

const char* to_string(ValueType type) noexcept {
  switch (type) {
    case ValueType::int64: return "int64";
    case ValueType::float64: return "double";
    case ValueType::text: return "text";
    case ValueType::blob: return "blob";
    case ValueType::boolean: return "bool";
    case ValueType::timestamp: return "timestamp";
  }
  return "text";
}

std::optional<ValueType> parse_value_type(std::string_view text) {
  for (auto t : {ValueType::int64, ValueType::float64, ValueType::text, ValueType::blob, ValueType::boolean,
                 ValueType::timestamp}) {
    if (text == to_string(t)) return t;
  }
  return std::nullopt;
}

std::optional<ValueType> value_type_for(Engine engine, std::string_view engine_type) {
  std::string t = lower(trim(engine_type));
  auto has = [&](std::string_view part) { return t.find(part) != std::string::npos; };
  if (engine == Engine::postgres) {
    if (t.empty()) return std::nullopt;
    if (has("[]")) return ValueType::text;
    std::string base = t.substr(0, t.find('('));
    static const std::map<std::string, ValueType, std::less<>> exact = {
        {"smallint", ValueType::int64}, {"integer", ValueType::int64}, {"bigint", ValueType::int64},
        {"int2", ValueType::int64}, {"int4", ValueType::int64}, {"int8", ValueType::int64},
        {"int", ValueType::int64}, {"oid", ValueType::int64}, {"real", ValueType::float64},
        {"double precision", ValueType::float64}, {"float4", ValueType::float64}, {"float8", ValueType::float64},
        {"boolean", ValueType::boolean}, {"bool", ValueType::boolean}, {"bytea", ValueType::blob}};
    if (auto it = exact.find(trim(base)); it != exact.end()) return it->second;
    if (base.starts_with("timestamp")) return ValueType::timestamp;
    return ValueType::text;  // text, varchar, numeric, uuid, json, date, ...: read as text
  }
  // SQLite: the affinity rules of https://sqlite.org/datatype3.html, after
  // the names strata reads as bool and timestamp.
  if (t.empty()) return std::nullopt;
  if (has("bool")) return ValueType::boolean;
  if (has("timestamp") || has("datetime")) return ValueType::timestamp;
  if (has("int")) return ValueType::int64;
  if (has("char") || has("clob") || has("text")) return ValueType::text;
  if (has("blob")) return ValueType::blob;
  if (has("real") || has("floa") || has("doub")) return ValueType::float64;
  if (has("date") || has("time")) return ValueType::text;
  return ValueType::float64;  // NUMERIC affinity
}

std::string migration_fingerprint(const MigrationSet& migrations) {
  std::string text;
  for (const auto& m : migrations.all()) text += std::to_string(m.version) + " " + m.checksum + "\n";
  return checksum(text);
}

PreparedQuery prepare_query(Connection& connection, const Query& q) {
  const Engine engine = connection.engine();
  StatementDescription desc;
  try {
    desc = connection.describe(q.sql);
  } catch (Error& e) {
    e.at(e.sql_offset() >= 0 ? position_of(q, e.sql_offset()) : SourcePosition{q.file, q.line, q.column, 0});
    e.context("query " + q.name);
    throw;
  }
  Analysis a = query::detail::analyze(q.sql, engine);

  PreparedQuery out;
  out.name = q.name;
  out.kind = q.kind;
  out.file = q.file;
  out.sql = q.sql;
  out.sha384 = checksum(q.sql);
  if ((q.kind == QueryKind::one || q.kind == QueryKind::many) && desc.columns.empty()) {
    throw query_error(q, std::string("the query is :") + to_string(q.kind) +
                             " but returns no columns (use :exec or :execrows)");
  }

  std::vector<std::string> taken;
  for (std::size_t i = 0; i < desc.parameters.size(); ++i) {
    const std::string label = "$" + std::to_string(i + 1);
    query::detail::ParameterUse use;
    if (i < a.parameters.size()) use = a.parameters[i];
    PreparedParameter p;
    std::optional<CatalogColumn> target;
    if (use.assigned) target = lookup(connection, a, *use.assigned);
    std::optional<CatalogColumn> compared = target;
    if (!compared && use.compared) compared = lookup(connection, a, *use.compared);
    if (engine == Engine::postgres) {
      p.engine_type = desc.parameters[i].type;
      p.type = value_type_for(engine, p.engine_type).value_or(ValueType::text);
    } else if (!use.cast_type.empty() && value_type_for(engine, use.cast_type)) {
      p.engine_type = use.cast_type;
      p.type = *value_type_for(engine, use.cast_type);
    } else if (compared && value_type_for(engine, compared->type)) {
      p.engine_type = compared->type;
      p.type = *value_type_for(engine, compared->type);
    } else if (use.limit) {
      p.engine_type = "INTEGER";
      p.type = ValueType::int64;
    } else {
      throw query_error(q, "cannot tell the type of parameter " + label +
                               " on SQLite: compare or assign it to a table column, or write CAST(" + label +
                               " AS INTEGER|REAL|TEXT|BLOB|BOOLEAN|TIMESTAMP)");
    }
    p.nullable = target.has_value() && !target->not_null;
    const ColumnRef* named = use.assigned ? &*use.assigned : use.compared ? &*use.compared : nullptr;
    std::string fallback = "arg" + std::to_string(i + 1);
    p.name = identifier(named != nullptr ? named->column : use.limit ? "limit" : fallback, taken, fallback);
    out.parameters.push_back(std::move(p));
  }

  taken.clear();
  const bool items_line_up = a.items.size() == desc.columns.size();
  for (std::size_t i = 0; i < desc.columns.size(); ++i) {
    const ColumnDescription& d = desc.columns[i];
    Annotation note = annotation(d.name);
    if (!note.error.empty()) throw query_error(q, note.error);
    const SelectItem* item = items_line_up ? &a.items[i] : nullptr;
    std::optional<CatalogColumn> origin;
    if (d.table.empty() && item != nullptr && item->shape == SelectItem::Shape::column) {
      origin = lookup(connection, a, item->column);
    }
    PreparedColumn c;
    c.engine_type = d.type;
    std::optional<ValueType> type = note.type ? note.type : value_type_for(engine, d.type);
    if (!type && item != nullptr) {
      switch (item->shape) {
        case SelectItem::Shape::count:
        case SelectItem::Shape::integer: type = ValueType::int64; break;
        case SelectItem::Shape::exists: type = ValueType::boolean; break;
        case SelectItem::Shape::real: type = ValueType::float64; break;
        case SelectItem::Shape::text: type = ValueType::text; break;
        case SelectItem::Shape::cast:
          type = value_type_for(engine, item->cast_type);
          c.engine_type = item->cast_type;
          break;
        case SelectItem::Shape::column:
          if (origin) {
            type = value_type_for(engine, origin->type);
            c.engine_type = origin->type;
          }
          break;
        case SelectItem::Shape::other: break;
      }
    }
    if (!type) {
      throw query_error(q, "cannot tell the type of column \"" + d.name +
                               "\" on SQLite (an expression has no declared type): write CAST(... AS "
                               "INTEGER|REAL|TEXT|BLOB) or name it \"" + note.base + ": int64\" (or double, text, "
                               "blob, bool, timestamp)");
    }
    c.type = *type;
    if (note.nullable) {
      c.nullable = *note.nullable;
    } else if (!d.table.empty()) {
      c.nullable = !d.not_null || a.nullable_tables.count(lower(d.table)) != 0;
    } else if (origin) {
      c.nullable = !origin->not_null || a.nullable_tables.count(origin->table) != 0;
    } else if (item != nullptr) {
      using S = SelectItem::Shape;
      c.nullable = !(item->shape == S::count || item->shape == S::exists || item->shape == S::integer ||
                     item->shape == S::real || item->shape == S::text);
    } else {
      c.nullable = true;
    }
    c.name = identifier(note.base, taken, "column" + std::to_string(i + 1));
    out.columns.push_back(std::move(c));
  }
  return out;
}

// ------------------------------------------------------------------ JSON

std::string to_json(const PreparedSet& set) {
  nlohmann::json queries = nlohmann::json::array();
  std::vector<const PreparedQuery*> sorted;
  for (const auto& q : set.queries) sorted.push_back(&q);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const auto* q : sorted) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : q->parameters) {
      params.push_back({{"name", p.name}, {"engine_type", p.engine_type}, {"type", to_string(p.type)},
                        {"nullable", p.nullable}});
    }
    nlohmann::json columns = nlohmann::json::array();
    for (const auto& c : q->columns) {
      columns.push_back({{"name", c.name}, {"engine_type", c.engine_type}, {"type", to_string(c.type)},
                         {"nullable", c.nullable}});
    }
    queries.push_back({{"name", q->name}, {"kind", to_string(q->kind)}, {"file", q->file}, {"sql", q->sql},
                       {"sha384", q->sha384}, {"parameters", params}, {"columns", columns}});
  }
  nlohmann::json doc{{"version", 1},
                     {"engine", to_string(set.engine)},
                     {"migrations", set.migrations},
                     {"queries", queries}};
  return doc.dump(2) + "\n";
}

PreparedSet prepared_set_from_json(std::string_view text, std::string_view file) {
  auto fail = [&](const std::string& why) {
    return Error(ErrorKind::source, std::string(file) + ": " + why + " (run `strata prepare` to rewrite it)");
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("not valid JSON: ") + e.what());
  }
  try {
    if (doc.at("version").get<int>() != 1) throw fail("unsupported version");
    PreparedSet set;
    std::string engine = doc.at("engine").get<std::string>();
    if (engine != "sqlite" && engine != "postgres") throw fail("engine must be sqlite or postgres");
    set.engine = engine == "sqlite" ? Engine::sqlite : Engine::postgres;
    set.migrations = doc.at("migrations").get<std::string>();
    auto value_type = [&](const nlohmann::json& j) {
      auto t = parse_value_type(j.at("type").get<std::string>());
      if (!t) throw fail("unknown type " + j.at("type").dump());
      return *t;
    };
    for (const auto& j : doc.at("queries")) {
      PreparedQuery q;
      q.name = j.at("name").get<std::string>();
      auto kind = parse_query_kind(j.at("kind").get<std::string>());
      if (!kind) throw fail("query " + q.name + ": unknown kind");
      q.kind = *kind;
      q.file = j.at("file").get<std::string>();
      q.sql = j.at("sql").get<std::string>();
      q.sha384 = j.at("sha384").get<std::string>();
      for (const auto& p : j.at("parameters")) {
        q.parameters.push_back({p.at("name").get<std::string>(), p.at("engine_type").get<std::string>(),
                                value_type(p), p.at("nullable").get<bool>()});
      }
      for (const auto& c : j.at("columns")) {
        q.columns.push_back({c.at("name").get<std::string>(), c.at("engine_type").get<std::string>(),
                             value_type(c), c.at("nullable").get<bool>()});
      }
      set.queries.push_back(std::move(q));
    }
    return set;
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("unexpected content: ") + e.what());
  }
}

std::vector<std::string> compare(const PreparedSet& recorded, const PreparedSet& current) {
  std::vector<std::string> out;
  auto engine_name = [](Engine e) { return e == Engine::sqlite ? "sqlite" : "postgres"; };
  if (recorded.engine != current.engine) {
    out.push_back(std::string("prepared on ") + engine_name(recorded.engine) + ", checked on " +
                  engine_name(current.engine));
  }
  if (recorded.migrations != current.migrations) out.push_back("the migrations changed since the last prepare");
  std::map<std::string, const PreparedQuery*> before;
  for (const auto& q : recorded.queries) before[q.name] = &q;
  auto typed = [](ValueType t, const std::string& engine_type, bool nullable) {
    return std::string(to_string(t)) + (engine_type.empty() ? "" : " (" + engine_type + ")") +
           (nullable ? " nullable" : " not null");
  };
  for (const auto& now : current.queries) {
    auto it = before.find(now.name);
    if (it == before.end()) {
      out.push_back("query " + now.name + " (" + now.file + ") is new since the last prepare");
      continue;
    }
    const PreparedQuery& was = *it->second;
    before.erase(it);
    const std::string q = "query " + now.name;
    if (was.sha384 != now.sha384) out.push_back(q + " (" + now.file + "): its text changed since the last prepare");
    if (was.kind != now.kind) out.push_back(q + ": kind was :" + to_string(was.kind) + ", now :" + to_string(now.kind));
    for (std::size_t i = 0; i < std::max(was.parameters.size(), now.parameters.size()); ++i) {
      std::string label = q + ", parameter $" + std::to_string(i + 1);
      if (i >= now.parameters.size()) {
        out.push_back(label + ": was " + typed(was.parameters[i].type, was.parameters[i].engine_type, was.parameters[i].nullable) + ", now gone");
      } else if (i >= was.parameters.size()) {
        out.push_back(label + ": new, " + typed(now.parameters[i].type, now.parameters[i].engine_type, now.parameters[i].nullable));
      } else {
        const auto& a = was.parameters[i];
        const auto& b = now.parameters[i];
        if (a.type != b.type || a.engine_type != b.engine_type || a.nullable != b.nullable || a.name != b.name) {
          out.push_back(label + ": was " + a.name + " " + typed(a.type, a.engine_type, a.nullable) + ", now " +
                        b.name + " " + typed(b.type, b.engine_type, b.nullable));
        }
      }
    }
    for (std::size_t i = 0; i < std::max(was.columns.size(), now.columns.size()); ++i) {
      if (i >= now.columns.size()) {
        const auto& a = was.columns[i];
        out.push_back(q + ", column " + a.name + ": was " + typed(a.type, a.engine_type, a.nullable) + ", now gone");
      } else if (i >= was.columns.size()) {
        const auto& b = now.columns[i];
        out.push_back(q + ", column " + b.name + ": new, " + typed(b.type, b.engine_type, b.nullable));
      } else {
        const auto& a = was.columns[i];
        const auto& b = now.columns[i];
        if (a.name != b.name) {
          out.push_back(q + ", column " + std::to_string(i + 1) + ": was " + a.name + " " +
                        typed(a.type, a.engine_type, a.nullable) + ", now " + b.name + " " +
                        typed(b.type, b.engine_type, b.nullable));
        } else if (a.type != b.type || a.engine_type != b.engine_type || a.nullable != b.nullable) {
          out.push_back(q + ", column " + a.name + ": was " + typed(a.type, a.engine_type, a.nullable) + ", now " +
                        typed(b.type, b.engine_type, b.nullable));
        }
      }
    }
  }
  for (const auto& [name, q] : before) out.push_back("query " + name + " (" + q->file + ") was removed since the last prepare");
  return out;
}

}  // namespace strata
