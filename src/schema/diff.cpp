// schema/diff.cpp: diff() itself: the comparisons both engines share (indexes,
// views, triggers, virtual tables), the order of the changes, and the script
// a Diff prints. Tables and PostgreSQL-only objects are compared in
// diff_postgres.cpp and diff_sqlite.cpp.
#include "strata/schema/diff.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <map>

#include "schema/diff_detail.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema {

const char* to_string(ChangeKind kind) noexcept {
  switch (kind) {
    case ChangeKind::create_extension: return "create_extension";
    case ChangeKind::drop_extension: return "drop_extension";
    case ChangeKind::create_enum: return "create_enum";
    case ChangeKind::drop_enum: return "drop_enum";
    case ChangeKind::alter_enum: return "alter_enum";
    case ChangeKind::create_domain: return "create_domain";
    case ChangeKind::drop_domain: return "drop_domain";
    case ChangeKind::alter_domain: return "alter_domain";
    case ChangeKind::create_sequence: return "create_sequence";
    case ChangeKind::drop_sequence: return "drop_sequence";
    case ChangeKind::alter_sequence: return "alter_sequence";
    case ChangeKind::create_table: return "create_table";
    case ChangeKind::drop_table: return "drop_table";
    case ChangeKind::rebuild_table: return "rebuild_table";
    case ChangeKind::add_column: return "add_column";
    case ChangeKind::drop_column: return "drop_column";
    case ChangeKind::alter_column: return "alter_column";
    case ChangeKind::add_constraint: return "add_constraint";
    case ChangeKind::drop_constraint: return "drop_constraint";
    case ChangeKind::create_index: return "create_index";
    case ChangeKind::drop_index: return "drop_index";
    case ChangeKind::create_view: return "create_view";
    case ChangeKind::drop_view: return "drop_view";
    case ChangeKind::create_trigger: return "create_trigger";
    case ChangeKind::drop_trigger: return "drop_trigger";
    case ChangeKind::create_function: return "create_function";
    case ChangeKind::drop_function: return "drop_function";
    case ChangeKind::replace_function: return "replace_function";
    case ChangeKind::create_virtual_table: return "create_virtual_table";
    case ChangeKind::drop_virtual_table: return "drop_virtual_table";
    case ChangeKind::set_comment: return "set_comment";
  }
  return "unknown";
}

namespace {

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

std::string Diff::sql() const {
  if (empty()) return {};
  std::string out;
  if (foreign_keys_off) out += "-- strata: foreign-keys off\n";
  for (const std::string& u : unsupported) out += "-- strata: cannot " + one_line(u) + "\n";
  bool first = out.empty();
  for (const Change& c : changes) {
    if (!first) out += '\n';
    first = false;
    for (const std::string& note : c.notes) out += "-- " + one_line(note) + "\n";
    for (const std::string& s : c.statements) out += s + ";\n";
  }
  return out;
}

namespace detail {

std::string quote(std::string_view name) {
  // An empty name (a malformed model) renders as "", which the engine
  // refuses, rather than throwing: diff() is pure and total.
  return name.empty() ? std::string("\"\"") : Connection::quote_identifier(name);
}

std::string literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

namespace {

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || (c & 0x80); }

bool plain_word(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string quote_collation(std::string_view name, Engine engine) {
  if (name.empty()) return {};
  const char c = name.front();
  if (c == '"' || c == '[' || c == '`' || name.find('.') != std::string_view::npos) return std::string(name);
  if (engine == Engine::sqlite && plain_word(name)) return std::string(name);
  return quote(name);
}

namespace {

// The whole text is one (...) group.
bool parenthesised(std::string_view t) {
  if (t.size() < 2 || t.front() != '(' || t.back() != ')') return false;
  int depth = 0;
  char quote_char = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (quote_char != 0) {
      if (c == quote_char) quote_char = 0;  // a doubled quote reopens at once
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote_char = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0 && i + 1 != t.size()) {
      return false;
    }
  }
  return depth == 0;
}

bool is_number(std::string_view t) {
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
  if (t.size() > i + 2 && t[i] == '0' && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
    return std::all_of(t.begin() + static_cast<std::ptrdiff_t>(i + 2), t.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  }
  bool digits = false;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) digits = true, ++i;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) digits = true, ++i;
  }
  if (digits && i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    bool exp = false;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) exp = true, ++i;
    if (!exp) return false;
  }
  return digits && i == t.size();
}

// One '...' string (with '' inside), optionally an X'..' blob.
bool is_string(std::string_view t) {
  if (t.size() >= 3 && (t[0] == 'x' || t[0] == 'X')) t.remove_prefix(1);
  if (t.size() < 2 || t.front() != '\'' || t.back() != '\'') return false;
  for (std::size_t i = 1; i + 1 < t.size(); ++i) {
    if (t[i] == '\'') {
      if (t[i + 1] != '\'' || i + 2 >= t.size()) return false;
      ++i;
    }
  }
  return true;
}

// name(...) or a bare name.
bool call_or_name(std::string_view t) {
  std::size_t i = 0;
  while (i < t.size() && (std::isalnum(static_cast<unsigned char>(t[i])) || t[i] == '_')) ++i;
  if (i == 0) return false;
  return i == t.size() || parenthesised(t.substr(i));
}

}  // namespace

bool sqlite_constant(std::string_view text) {
  return is_number(text) || is_string(text) || equals_ci(text, "NULL") || equals_ci(text, "TRUE") ||
         equals_ci(text, "FALSE");
}

std::string sqlite_default(std::string_view text) {
  if (sqlite_constant(text) || parenthesised(text) || equals_ci(text, "CURRENT_TIME") ||
      equals_ci(text, "CURRENT_DATE") || equals_ci(text, "CURRENT_TIMESTAMP")) {
    return std::string(text);
  }
  return "(" + std::string(text) + ")";
}

std::string index_expression(std::string_view text) {
  if (parenthesised(text) || call_or_name(text)) return std::string(text);
  return "(" + std::string(text) + ")";
}

std::string trim_definition(std::string_view text) {
  std::size_t b = 0;
  while (b < text.size() && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  std::size_t e = text.size();
  while (e > b && (std::isspace(static_cast<unsigned char>(text[e - 1])) || text[e - 1] == ';')) --e;
  return std::string(text.substr(b, e - b));
}

bool mentions(std::string_view text, std::string_view word) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'') {  // a string literal: skip it
      ++i;
      while (i < text.size()) {
        if (text[i] == '\'' && (i + 1 >= text.size() || text[i + 1] != '\'')) break;
        i += text[i] == '\'' ? 2 : 1;
      }
      ++i;
    } else if (c == '"' || c == '`' || c == '[') {
      const char close = c == '[' ? ']' : c;
      std::string ident;
      ++i;
      while (i < text.size()) {
        if (text[i] == close) {
          if (close != ']' && i + 1 < text.size() && text[i + 1] == close) {
            ident += close;
            i += 2;
            continue;
          }
          break;
        }
        ident += text[i++];
      }
      ++i;
      if (equals_ci(ident, word)) return true;
    } else if (is_word_char(c)) {
      const std::size_t b = i;
      while (i < text.size() && is_word_char(text[i])) ++i;
      if (equals_ci(text.substr(b, i - b), word)) return true;
    } else {
      ++i;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string column_list(const std::vector<std::string>& columns) {
  std::vector<std::string> quoted;
  quoted.reserve(columns.size());
  for (const std::string& c : columns) quoted.push_back(quote(c));
  return join(quoted, ", ");
}

std::string create_index_sql(const Index& index, Engine engine) {
  const bool pg = engine == Engine::postgres;
  std::string s = index.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
  s += quote(index.name) + " ON " + quote(index.table);
  if (pg && !index.method.empty() && index.method != "btree") s += " USING " + index.method;
  std::vector<std::string> keys;
  for (const IndexKey& k : index.keys) {
    std::string key;
    if (!k.column.empty()) {
      key = quote(k.column);
    } else {
      // PostgreSQL needs parentheses around an expression key; SQLite keeps
      // the key as it was written, so that it reads back the same.
      key = pg ? "(" + k.expression + ")" : index_expression(k.expression);
    }
    if (!k.collation.empty()) key += " COLLATE " + quote_collation(k.collation, engine);
    if (pg && !k.opclass.empty()) key += " " + quote_collation(k.opclass, engine);
    if (k.order == SortOrder::desc) key += " DESC";
    if (k.nulls == NullsOrder::first) key += " NULLS FIRST";
    if (k.nulls == NullsOrder::last) key += " NULLS LAST";
    keys.push_back(std::move(key));
  }
  s += " (" + join(keys, ", ") + ")";
  if (pg && !index.include.empty()) s += " INCLUDE (" + column_list(index.include) + ")";
  if (pg && index.nulls_not_distinct) s += " NULLS NOT DISTINCT";
  if (index.predicate) s += " WHERE " + *index.predicate;
  return s;
}

std::string drop_view_sql(const View& view, Engine engine) {
  if (engine == Engine::postgres && view.materialized) return "DROP MATERIALIZED VIEW " + quote(view.name);
  return "DROP VIEW " + quote(view.name);
}

std::string create_view_sql(const View& view, Engine engine) {
  if (engine == Engine::sqlite) return trim_definition(view.definition);
  return std::string(view.materialized ? "CREATE MATERIALIZED VIEW " : "CREATE VIEW ") + quote(view.name) +
         " AS\n" + trim_definition(view.definition);
}

namespace {

std::string rank_key(std::size_t rank) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08zu", rank);
  return buf;
}

// Views in dependency order (what a view reads before it), ties by name; a
// cycle (impossible in a real database) is broken at its smallest view.
std::vector<const View*> views_in_order(const std::vector<View>& views) {
  std::map<std::string, const View*> by_name;
  for (const View& v : views) by_name.emplace(v.name, &v);
  std::vector<const View*> out;
  std::set<std::string> done;
  std::set<std::string> visiting;
  std::function<void(const View*)> visit = [&](const View* v) {
    if (done.count(v->name) || visiting.count(v->name)) return;
    visiting.insert(v->name);
    for (const std::string& dep : v->depends_on) {
      auto it = by_name.find(dep);
      if (it != by_name.end() && it->second != v) visit(it->second);
    }
    visiting.erase(v->name);
    done.insert(v->name);
    out.push_back(v);
  };
  for (const auto& [name, v] : by_name) visit(v);
  return out;
}

template <class T>
const T* find_by_name(const std::vector<T>& items, std::string_view name) {
  for (const T& i : items) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

// Indexes of tables that exist on both sides and were not rebuilt, and of
// tables created by this diff (PostgreSQL and SQLite alike: CREATE TABLE
// never carries the indexes).
void diff_indexes(Context& ctx) {
  const Engine engine = ctx.to.engine;
  for (const Table& ft : ctx.from.tables) {
    const Table* tt = ctx.to_table(ft.name);
    if (tt == nullptr || ctx.rebuilt_tables.count(ft.name) || ctx.skipped_tables.count(ft.name)) continue;
    for (const Index& fi : ft.indexes) {
      const Index* ti = find_by_name(tt->indexes, fi.name);
      if (ti != nullptr && *ti == fi) continue;
      Change c = make_change(ChangeKind::drop_index, "index " + fi.name + " on " + ft.name, {}, {"DROP INDEX " + quote(fi.name)});
      if (ti != nullptr) c.detail = "definition changed";
      ctx.add(Phase::drop_index, fi.name, std::move(c));
    }
  }
  for (const Table& tt : ctx.to.tables) {
    if (ctx.rebuilt_tables.count(tt.name) || ctx.skipped_tables.count(tt.name)) continue;
    const Table* ft = ctx.from_table(tt.name);
    for (const Index& ti : tt.indexes) {
      const Index* fi = ft == nullptr ? nullptr : find_by_name(ft->indexes, ti.name);
      if (fi != nullptr && *fi == ti) continue;
      ctx.recreated.insert("index " + ti.name);
      Change c = make_change(ChangeKind::create_index, "index " + ti.name + " on " + tt.name, {}, {create_index_sql(ti, engine)});
      if (fi != nullptr) c.detail = "definition changed";
      ctx.add(Phase::create_index, ti.name, std::move(c));
    }
  }
}

void diff_views(Context& ctx) {
  const Engine engine = ctx.to.engine;
  // Views to drop and create again: changed ones, those reading an affected
  // table, and (transitively) those reading a view dropped for any reason.
  std::set<std::string> dropped;  // from-side views dropped
  for (const View& fv : ctx.from.views) {
    const View* tv = ctx.to_view(fv.name);
    if (tv == nullptr || !(*tv == fv)) dropped.insert(fv.name);
    for (const std::string& dep : fv.depends_on) {
      if (ctx.affected_tables.count(dep)) dropped.insert(fv.name);
    }
    // SQLite's depends_on is read from the statement's words; a view that
    // names an affected table anywhere is recreated too, since a view left
    // broken makes the rebuild's final RENAME fail.
    if (engine == Engine::sqlite) {
      for (const std::string& t : ctx.affected_tables) {
        if (mentions(fv.definition, t)) dropped.insert(fv.name);
      }
    }
  }
  const std::vector<const View*> from_order = views_in_order(ctx.from.views);
  for (bool grew = true; grew;) {
    grew = false;
    for (const View* v : from_order) {
      if (dropped.count(v->name)) continue;
      for (const std::string& dep : v->depends_on) {
        if (dropped.count(dep)) {
          dropped.insert(v->name);
          grew = true;
          break;
        }
      }
    }
  }
  // Drops: dependents first, i.e. the reverse of the dependency order.
  for (std::size_t i = from_order.size(); i-- > 0;) {
    const View& fv = *from_order[i];
    if (!dropped.count(fv.name)) continue;
    const View* tv = ctx.to_view(fv.name);
    Change c = make_change(ChangeKind::drop_view, std::string(fv.materialized ? "materialized view " : "view ") + fv.name, {},
             {drop_view_sql(fv, engine)});
    if (tv == nullptr) {
      c.destructive = true;
    } else if (*tv == fv) {
      c.detail = "recreated: it reads a changed table or view";
    } else {
      c.detail = "definition changed";
    }
    ctx.add(Phase::drop_view, rank_key(from_order.size() - i), std::move(c));
  }
  const std::vector<const View*> to_order = views_in_order(ctx.to.views);
  for (std::size_t i = 0; i < to_order.size(); ++i) {
    const View& tv = *to_order[i];
    const View* fv = ctx.from_view(tv.name);
    if (fv != nullptr && !dropped.count(tv.name)) {
      // Kept: only its materialized view indexes may differ.
      for (const Index& fi : fv->indexes) {
        const Index* ti = find_by_name(tv.indexes, fi.name);
        if (ti != nullptr && *ti == fi) continue;
        ctx.add(Phase::drop_index, fi.name,
                make_change(ChangeKind::drop_index, "index " + fi.name + " on " + tv.name, {}, {"DROP INDEX " + quote(fi.name)}));
      }
      for (const Index& ti : tv.indexes) {
        const Index* fi2 = find_by_name(fv->indexes, ti.name);
        if (fi2 != nullptr && *fi2 == ti) continue;
        ctx.recreated.insert("index " + ti.name);
        ctx.add(Phase::create_index, ti.name,
                make_change(ChangeKind::create_index, "index " + ti.name + " on " + tv.name, {}, {create_index_sql(ti, engine)}));
      }
      continue;
    }
    ctx.recreated.insert("view " + tv.name);
    Change c = make_change(ChangeKind::create_view, std::string(tv.materialized ? "materialized view " : "view ") + tv.name, {},
             {create_view_sql(tv, engine)});
    if (fv != nullptr) c.detail = *fv == tv ? "recreated: it reads a changed table or view" : "definition changed";
    ctx.add(Phase::create_view, rank_key(i), std::move(c));
    for (const Index& ti : tv.indexes) {  // a materialized view's indexes right after it
      ctx.recreated.insert("index " + ti.name);
      ctx.add(Phase::create_view, rank_key(i) + "\x1f" + ti.name,
              make_change(ChangeKind::create_index, "index " + ti.name + " on " + tv.name, {}, {create_index_sql(ti, engine)}));
    }
  }
  // Views created above (new or again) lose their triggers when dropped.
  for (const View& tv : ctx.to.views) {
    if (ctx.from_view(tv.name) != nullptr && dropped.count(tv.name)) ctx.affected_tables.insert(tv.name);
  }
}

std::string trigger_key(const Trigger& t) { return t.table + "\x1f" + t.name; }

const Trigger* find_trigger(const std::vector<Trigger>& triggers, const Trigger& like) {
  for (const Trigger& t : triggers) {
    if (t.table == like.table && t.name == like.name) return &t;
  }
  return nullptr;
}

void diff_triggers(Context& ctx) {
  const Engine engine = ctx.to.engine;
  // Gone with their table or view, or recreated with it.
  auto dropped_with_owner = [&](const Trigger& t) {
    const bool gone = ctx.to_table(t.table) == nullptr && ctx.to_view(t.table) == nullptr;
    const bool view_recreated = ctx.from_view(t.table) != nullptr && ctx.affected_tables.count(t.table);
    return gone || ctx.rebuilt_tables.count(t.table) || view_recreated;
  };
  // SQLite: a trigger on another table whose body names a rebuilt table
  // would break the rename at the end of the rebuild: recreate it too.
  auto reads_rebuilt = [&](const Trigger& t) {
    if (engine != Engine::sqlite) return false;
    for (const std::string& r : ctx.rebuilt_tables) {
      if (r != t.table && mentions(t.definition, r)) return true;
    }
    return false;
  };
  for (const Trigger& ft : ctx.from.triggers) {
    const Trigger* tt = find_trigger(ctx.to.triggers, ft);
    const bool changed = tt == nullptr || !(*tt == ft) || reads_rebuilt(ft);
    if (!changed || dropped_with_owner(ft)) continue;
    Change c = make_change(ChangeKind::drop_trigger, "trigger " + ft.name + " on " + ft.table, {}, {});
    c.statements.push_back(engine == Engine::postgres ? "DROP TRIGGER " + quote(ft.name) + " ON " + quote(ft.table)
                                                      : "DROP TRIGGER " + quote(ft.name));
    ctx.add(Phase::drop_trigger, ft.name + "\x1f" + ft.table, std::move(c));
  }
  for (const Trigger& tt : ctx.to.triggers) {
    if (ctx.handled_triggers.count(trigger_key(tt))) continue;
    const Trigger* ft = find_trigger(ctx.from.triggers, tt);
    const bool owner_recreated = ft != nullptr && dropped_with_owner(*ft);
    if (ft != nullptr && *ft == tt && !owner_recreated && !reads_rebuilt(*ft)) continue;
    ctx.recreated.insert("trigger " + trigger_key(tt));
    Change c = make_change(ChangeKind::create_trigger, "trigger " + tt.name + " on " + tt.table, {}, {trim_definition(tt.definition)});
    if (engine == Engine::postgres && tt.enabled != 'O') {
      const char* how = tt.enabled == 'D' ? " DISABLE TRIGGER " : tt.enabled == 'R' ? " ENABLE REPLICA TRIGGER "
                                                                                     : " ENABLE ALWAYS TRIGGER ";
      c.statements.push_back("ALTER TABLE " + quote(tt.table) + how + quote(tt.name));
    }
    if (ft != nullptr && !(*ft == tt)) c.detail = "definition changed";
    ctx.add(Phase::create_trigger, tt.name + "\x1f" + tt.table, std::move(c));
  }
}

void diff_virtual_tables(Context& ctx) {
  for (const VirtualTable& f : ctx.from.virtual_tables) {
    const VirtualTable* t = find_by_name(ctx.to.virtual_tables, f.name);
    if (t != nullptr && *t == f) continue;
    Change c = make_change(ChangeKind::drop_virtual_table, "virtual table " + f.name, {}, {"DROP TABLE " + quote(f.name)});
    c.destructive = true;
    if (t != nullptr) c.detail = "definition changed";
    ctx.add(Phase::drop_table, f.name, std::move(c));
  }
  for (const VirtualTable& t : ctx.to.virtual_tables) {
    const VirtualTable* f = find_by_name(ctx.from.virtual_tables, t.name);
    if (f != nullptr && *f == t) continue;
    Change c = make_change(ChangeKind::create_virtual_table, "virtual table " + t.name, {}, {trim_definition(t.definition)});
    if (f != nullptr) c.detail = "definition changed";
    ctx.add(Phase::create_table, t.name, std::move(c));
  }
}

}  // namespace

// With many candidates a note for each would bury the script: beyond three,
// only those that look alike (same column names; same type) are named.
std::vector<std::string> table_rename_notes(const Context& ctx, const Table& created) {
  std::vector<const Table*> gone;
  for (const Table& f : ctx.from.tables) {
    if (ctx.to_table(f.name) == nullptr) gone.push_back(&f);
  }
  auto same_columns = [&](const Table& f) {
    if (f.columns.size() != created.columns.size()) return false;
    return std::all_of(f.columns.begin(), f.columns.end(),
                       [&](const Column& c) { return created.find_column(c.name) != nullptr; });
  };
  std::vector<std::string> notes;
  for (const Table* f : gone) {
    if (gone.size() <= 3 || same_columns(*f)) notes.push_back("strata: possible rename " + f->name + " -> " + created.name);
  }
  return notes;
}

std::vector<std::string> column_rename_notes(const Table& from, const Table& to, const Column& added) {
  std::vector<const Column*> gone;
  for (const Column& c : from.columns) {
    if (to.find_column(c.name) == nullptr) gone.push_back(&c);
  }
  std::vector<std::string> notes;
  for (const Column* c : gone) {
    if (gone.size() <= 3 || c->type == added.type) {
      notes.push_back("strata: possible rename " + from.name + "." + c->name + " -> " + to.name + "." + added.name);
    }
  }
  return notes;
}

}  // namespace detail

Diff diff(const Schema& from, const Schema& to, const DiffOptions& options) {
  if (from.engine != to.engine) {
    throw Error(ErrorKind::usage, "cannot compare a SQLite schema with a PostgreSQL one");
  }
  using namespace detail;
  Context ctx{from, to, options};
  if (to.engine == Engine::postgres) {
    diff_postgres_objects(ctx);
    diff_tables_postgres(ctx);
  } else {
    diff_tables_sqlite(ctx);
    diff_virtual_tables(ctx);
  }
  diff_indexes(ctx);
  diff_views(ctx);
  diff_triggers(ctx);
  if (to.engine == Engine::postgres) {
    diff_comments_postgres(ctx);
    note_new_enum_label_uses(ctx);
  }

  std::stable_sort(ctx.planned.begin(), ctx.planned.end(), [](const Planned& a, const Planned& b) {
    return a.phase != b.phase ? a.phase < b.phase : a.key < b.key;
  });
  Diff out;
  out.engine = to.engine;
  out.changes.reserve(ctx.planned.size());
  for (Planned& p : ctx.planned) out.changes.push_back(std::move(p.change));
  out.unsupported = std::move(ctx.unsupported);
  std::sort(out.unsupported.begin(), out.unsupported.end());
  out.foreign_keys_off = ctx.foreign_keys_off;
  return out;
}

}  // namespace strata::schema
