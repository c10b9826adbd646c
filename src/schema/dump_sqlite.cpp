// schema/dump_sqlite.cpp: reads a SQLite schema for dump_schema.
//
// SQLite keeps each object's CREATE statement in sqlite_master, normalised
// (no IF NOT EXISTS, no TEMP, no schema qualifier) and rewritten by ALTER
// TABLE, and rebuilds the object from that text when it opens the file. So
// the stored text is the object's definition, and the dump repeats it.
#include <map>
#include <set>
#include <string>

#include "schema/dump_objects.hpp"
#include "schema/sqlite_text.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {
namespace {

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
  const std::optional<std::set<std::string>> shadows = sqlite_shadow_tables(connection);
  const bool know_shadows = shadows.has_value();
  const std::set<std::string> shadow = shadows.value_or(std::set<std::string>{});

  ResultSet rows = connection.query(
      "SELECT type, name, tbl_name, sql FROM sqlite_master "
      "WHERE sql IS NOT NULL AND type IN ('table', 'index', 'view', 'trigger') ORDER BY type, name");
  // Excluded tables take their indexes and triggers with them.
  std::set<std::string> excluded;
  for (const Row& r : rows.rows) {
    if (r.get<std::string>(0) == "table" && excluded_table(r.get<std::string>(1), options)) {
      excluded.insert(ascii_lower(r.get<std::string>(1)));
    }
  }
  std::vector<DumpObject> objects;
  std::map<std::string, std::size_t> views;  // lower-cased name -> index in objects
  for (const Row& r : rows.rows) {
    auto type = r.get<std::string>(0);
    auto name = r.get<std::string>(1);
    auto table = r.get<std::string>(2);
    auto sql = r.get<std::string>(3);
    if (ascii_lower(name).starts_with("sqlite_") || shadow.contains(ascii_lower(name))) continue;
    if (type != "view" && excluded.contains(ascii_lower(table))) continue;
    if (!know_shadows && type == "table" && ascii_lower(sql).starts_with("create virtual table")) {
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
      views[ascii_lower(name)] = objects.size();
    } else {
      o.kind = DumpKind::trigger;
      o.key = key(table, name);
    }
    objects.push_back(std::move(o));
  }
  // SQLite does not check what a view reads until it is used, but a dump
  // that defines views before the views they read is easier to follow.
  for (auto& [name, index] : views) {
    for (const std::string& word : sqlite_words(objects[index].sql)) {
      if (auto it = views.find(word); it != views.end()) objects[index].depends_on.push_back(it->second);
    }
  }
  return objects;
}

}  // namespace strata::schema::detail
