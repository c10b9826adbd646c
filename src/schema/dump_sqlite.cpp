// schema/dump_sqlite.cpp: reads a SQLite schema for dump_schema.
//
// SQLite keeps each object's CREATE statement in sqlite_master, normalised
// (no IF NOT EXISTS, no TEMP, no schema qualifier) and rewritten by ALTER
// TABLE, and rebuilds the object from that text when it opens the file. So
// the stored text is the object's definition, and the dump repeats it.
#include <cctype>
#include <map>
#include <set>
#include <string>

#include "schema/dump_objects.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The identifiers and keywords of a SQLite statement, lower-cased (SQLite
// compares names ASCII case-insensitively, quoted or not): bare words and
// "...", [...] and `...` names; strings, numbers and comments skipped. Used
// only to see which views a view names, so a false match merely orders two
// views differently.
std::set<std::string> words(std::string_view sql) {
  std::set<std::string> out;
  std::size_t i = 0;
  const std::size_t n = sql.size();
  auto quoted = [&](char close) {
    std::string name;
    for (++i; i < n; ++i) {
      if (sql[i] == close) {
        if (close != ']' && i + 1 < n && sql[i + 1] == close) {
          name += close;
          ++i;
          continue;
        }
        ++i;
        break;
      }
      name += sql[i];
    }
    return name;
  };
  while (i < n) {
    char c = sql[i];
    if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      std::size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? n : end + 2;
    } else if (c == '\'') {
      quoted('\'');
    } else if (c == '"' || c == '`') {
      out.insert(lower(quoted(c)));
    } else if (c == '[') {
      out.insert(lower(quoted(']')));
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
      std::size_t start = i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '$' ||
                       static_cast<unsigned char>(sql[i]) >= 0x80)) {
        ++i;
      }
      out.insert(lower(sql.substr(start, i - start)));
    } else {
      ++i;
    }
  }
  return out;
}

std::string key(std::string_view a, std::string_view b) {
  std::string k(a);
  k += '\0';
  k += b;
  return k;
}

}  // namespace

std::vector<DumpObject> read_sqlite_schema(Connection& connection, const DumpOptions& options) {
  // The shadow tables of virtual tables (an FTS5 table's t_data, t_idx, ...)
  // are created by their CREATE VIRTUAL TABLE; dumping them would make it
  // fail. PRAGMA table_list (SQLite 3.37) names them.
  std::set<std::string> shadow;
  bool know_shadows = true;
  try {
    for (const Row& r : connection.query("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")
                            .rows) {
      shadow.insert(lower(r.get<std::string>(0)));
    }
  } catch (const Error&) {
    know_shadows = false;
  }

  ResultSet rows = connection.query(
      "SELECT type, name, tbl_name, sql FROM sqlite_master "
      "WHERE sql IS NOT NULL AND type IN ('table', 'index', 'view', 'trigger') ORDER BY type, name");
  // Excluded tables take their indexes and triggers with them.
  std::set<std::string> excluded;
  for (const Row& r : rows.rows) {
    if (r.get<std::string>(0) == "table" && excluded_table(r.get<std::string>(1), options)) {
      excluded.insert(lower(r.get<std::string>(1)));
    }
  }
  std::vector<DumpObject> objects;
  std::map<std::string, std::size_t> views;  // lower-cased name -> index in objects
  for (const Row& r : rows.rows) {
    auto type = r.get<std::string>(0);
    auto name = r.get<std::string>(1);
    auto table = r.get<std::string>(2);
    auto sql = r.get<std::string>(3);
    if (lower(name).starts_with("sqlite_") || shadow.contains(lower(name))) continue;
    if (type != "view" && excluded.contains(lower(table))) continue;
    if (!know_shadows && type == "table" && lower(sql).starts_with("create virtual table")) {
      throw Error(ErrorKind::usage, "cannot dump virtual table " + name +
                                        ": this SQLite is older than 3.37 and cannot tell its shadow tables apart");
    }
    DumpObject o;
    o.sql = std::move(sql);
    o.label = type + " " + name;
    if (type == "table") {
      o.kind = DumpKind::table;
      o.key = name;
    } else if (type == "index") {
      o.kind = DumpKind::index;
      o.key = key(table, name);
    } else if (type == "view") {
      o.kind = DumpKind::view;
      o.key = name;
      views[lower(name)] = objects.size();
    } else {
      o.kind = DumpKind::trigger;
      o.key = key(table, name);
    }
    objects.push_back(std::move(o));
  }
  // SQLite does not check what a view reads until it is used, but a dump
  // that defines views before the views they read is easier to follow.
  for (auto& [name, index] : views) {
    for (const std::string& word : words(objects[index].sql)) {
      if (auto it = views.find(word); it != views.end()) objects[index].depends_on.push_back(it->second);
    }
  }
  return objects;
}

}  // namespace strata::schema::detail
