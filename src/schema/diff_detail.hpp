// src/schema/diff_detail.hpp (internal): the differ's shared state, and the
// per-engine halves behind strata::schema::diff().
//
// diff.cpp compares what both engines compare the same way (views, triggers,
// indexes, virtual tables, the order of everything); diff_postgres.cpp and
// diff_sqlite.cpp compare tables (ALTER on PostgreSQL, ALTER or a rebuild on
// SQLite) and the PostgreSQL-only objects, and render their engine's SQL.
// Nothing here touches a database.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "strata/schema/diff.hpp"

namespace strata::schema::detail {

// The phases of a diff, in execution order (migra's rule): what depends on
// an object is dropped before it and created after it. Changes sort by
// phase, then by key (a name, or a zero-padded dependency rank).
enum class Phase {
  // What depends on something that changes goes first.
  drop_trigger,
  drop_view,
  drop_foreign_key,
  drop_index,
  drop_constraint,
  disown_sequence,  // PostgreSQL: OWNED BY NONE before the owning column goes
  // Types, sequences and functions a changed column may move to exist
  // before it changes (PostgreSQL; new names, so nothing is in their way).
  create_extension,
  create_enum,
  alter_enum,
  create_domain,
  create_sequence,
  create_function_early,  // functions whose bodies are not checked at CREATE (not LANGUAGE sql)
  drop_table,
  drop_column,
  alter_column,   // before the types it moves away from are dropped
  rebuild_table,  // SQLite
  drop_function,
  drop_sequence,
  drop_domain,
  drop_enum,
  drop_extension,
  create_table,
  add_column,
  create_function,  // LANGUAGE sql: its body must find the tables
  add_constraint,
  add_foreign_key,
  own_sequence,
  create_index,
  create_view,
  create_trigger,
  set_comment,
};

struct Planned {
  Phase phase;
  std::string key;
  Change change;
};

inline Change make_change(ChangeKind kind, std::string object, std::string detail, std::vector<std::string> statements) {
  Change c;
  c.kind = kind;
  c.object = std::move(object);
  c.detail = std::move(detail);
  c.statements = std::move(statements);
  return c;
}

// Everything one diff() call accumulates.
struct Context {
  Context(const Schema& f, const Schema& t, const DiffOptions& o) : from(f), to(t), options(o) {
    for (const Table& x : f.tables) from_tables.emplace(x.name, &x);
    for (const Table& x : t.tables) to_tables.emplace(x.name, &x);
    for (const View& x : f.views) from_views.emplace(x.name, &x);
    for (const View& x : t.views) to_views.emplace(x.name, &x);
  }

  // Schema::find_table and find_view in constant time (a 1,000-table
  // schema is compared in milliseconds).
  const Table* from_table(std::string_view name) const { return lookup(from_tables, name); }
  const Table* to_table(std::string_view name) const { return lookup(to_tables, name); }
  const View* from_view(std::string_view name) const { return lookup(from_views, name); }
  const View* to_view(std::string_view name) const { return lookup(to_views, name); }

  const Schema& from;
  const Schema& to;
  const DiffOptions& options;

  std::vector<Planned> planned;
  std::vector<std::string> unsupported;
  bool foreign_keys_off = false;

  // Tables whose existing rows or columns change under a view: a column
  // dropped or retyped, or (SQLite) the table rebuilt. Views reading them
  // are dropped first and created again after.
  std::set<std::string> affected_tables;
  // SQLite tables made by a rebuild: their indexes and triggers come with it.
  std::set<std::string> rebuilt_tables;
  // SQLite tables that need a rebuild that DiffOptions::rebuild forbids:
  // nothing of theirs is changed, their indexes included.
  std::set<std::string> skipped_tables;
  // Triggers (by "table\x1fname") the table diff already recreated.
  std::set<std::string> handled_triggers;
  // PostgreSQL objects created or created again by this diff (by kind and
  // name, e.g. "index i"), whose comments must be set afresh.
  std::set<std::string> recreated;

  void add(Phase phase, std::string key, Change change) {
    planned.push_back(Planned{phase, std::move(key), std::move(change)});
  }

 private:
  template <class T>
  static const T* lookup(const std::unordered_map<std::string_view, const T*>& map, std::string_view name) {
    const auto it = map.find(name);
    return it == map.end() ? nullptr : it->second;
  }
  std::unordered_map<std::string_view, const Table*> from_tables, to_tables;
  std::unordered_map<std::string_view, const View*> from_views, to_views;
};

// "a""b" quoting (Connection::quote_identifier).
std::string quote(std::string_view name);
// A string literal: 'it''s'.
std::string literal(std::string_view text);
// A collation or operator class name: kept as it is when it is already
// quoted or qualified (as the engine reported it), quoted otherwise, except
// (SQLite) a plain word, kept as written so that the table reads back equal.
std::string quote_collation(std::string_view name, Engine engine);
// A definition without the blanks and ';' it may end with (pg_get_viewdef
// ends in ';').
std::string trim_definition(std::string_view text);
// Whether `text` holds `word` as an identifier (bare, "quoted", [bracketed]
// or `backticked`), compared case-insensitively; text in '...' literals does
// not count.
bool mentions(std::string_view text, std::string_view word);
// SQLite expression text as a DEFAULT clause accepts it (a literal, a
// signed number, CURRENT_TIME/DATE/TIMESTAMP or a parenthesised
// expression): inspect() may report a default without the parentheses it
// was written with (PRAGMA table_info does), so they are put back.
std::string sqlite_default(std::string_view text);
// Whether it is a literal ALTER TABLE ADD COLUMN accepts as a default.
bool sqlite_constant(std::string_view text);
// An expression key as an index column list accepts it with a COLLATE or
// DESC after it: parenthesised unless it is a name, a function call or
// parenthesised already.
std::string index_expression(std::string_view text);

// "a", "b" for key lists.
std::string column_list(const std::vector<std::string>& columns);
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// "strata: possible rename OLD -> NEW" notes for a table this diff creates
// (one per table it drops), and for a column it adds to a table (one per
// column it drops from that table).
std::vector<std::string> table_rename_notes(const Context& ctx, const Table& created);
std::vector<std::string> column_rename_notes(const Table& from, const Table& to, const Column& added);

// CREATE INDEX for either engine, from the model.
std::string create_index_sql(const Index& index, Engine engine);

// Per-engine halves. Each handles tables (created, dropped, changed) and the
// objects only its engine has; indexes of tables it created or rebuilt are
// its own business, the others are compared in diff.cpp.
void diff_tables_postgres(Context& ctx);
void diff_postgres_objects(Context& ctx);  // sequences, enums, domains, functions, extensions
void diff_comments_postgres(Context& ctx);
// Notes an enum's ADD VALUE when another change of the diff uses a label it
// adds ('meh'::mood): PostgreSQL refuses that in the same transaction.
void note_new_enum_label_uses(Context& ctx);
void diff_tables_sqlite(Context& ctx);

// PostgreSQL rendering shared with diff.cpp.
std::string drop_view_sql(const View& view, Engine engine);
std::string create_view_sql(const View& view, Engine engine);

}  // namespace strata::schema::detail
