// schema/diff_sqlite.cpp: SQLite tables: CREATE and DROP TABLE, ALTER TABLE
// ADD/DROP COLUMN where SQLite allows them, and the table rebuild for
// everything else (https://sqlite.org/lang_altertable.html, "Making Other
// Kinds Of Table Schema Changes").
#include <algorithm>
#include <cctype>

#include "schema/diff_detail.hpp"

namespace strata::schema::detail {
namespace {

constexpr const char* kRebuildPrefix = "_strata_new_";

bool in(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string column_sql(const Column& c, const Table& table, bool inline_autoincrement) {
  std::string s = quote(c.name);
  if (!c.type.raw.empty()) s += " " + c.type.raw;
  if (inline_autoincrement) {
    const PrimaryKey& pk = *table.primary_key;
    if (!pk.name.empty()) s += " CONSTRAINT " + quote(pk.name);
    s += " PRIMARY KEY AUTOINCREMENT";
  }
  if (!c.collation.empty()) s += " COLLATE " + quote_collation(c.collation, Engine::sqlite);
  if (c.default_value) s += " DEFAULT " + sqlite_default(*c.default_value);
  if (!c.nullable) s += " NOT NULL";
  if (c.generated != GeneratedKind::none) {
    s += " GENERATED ALWAYS AS (" + c.generated_expression + ")";
    s += c.generated == GeneratedKind::stored ? " STORED" : " VIRTUAL";
  }
  return s;
}

std::string foreign_key_clause(const ForeignKey& fk) {
  std::string s = "REFERENCES " + quote(fk.referenced_table);
  if (!fk.referenced_columns.empty()) s += " (" + column_list(fk.referenced_columns) + ")";
  if (fk.on_delete != ReferentialAction::no_action) s += std::string(" ON DELETE ") + to_sql(fk.on_delete);
  if (fk.on_update != ReferentialAction::no_action) s += std::string(" ON UPDATE ") + to_sql(fk.on_update);
  if (fk.deferrable) s += fk.initially_deferred ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE INITIALLY IMMEDIATE";
  return s;
}

std::string named(const std::string& name) { return name.empty() ? "" : "CONSTRAINT " + quote(name) + " "; }

bool autoincrement_column(const Table& t, const Column& c) {
  return t.primary_key && t.primary_key->autoincrement && t.primary_key->columns.size() == 1 &&
         t.primary_key->columns[0] == c.name;
}

// The whole CREATE TABLE for `table`, under `name`.
std::string create_table_sql(const Table& table, const std::string& name) {
  std::vector<std::string> items;
  for (const Column& c : table.columns) items.push_back("  " + column_sql(c, table, autoincrement_column(table, c)));
  if (table.primary_key && !table.primary_key->autoincrement) {
    items.push_back("  " + named(table.primary_key->name) + "PRIMARY KEY (" + column_list(table.primary_key->columns) + ")");
  }
  for (const UniqueConstraint& u : table.uniques) {
    items.push_back("  " + named(u.name) + "UNIQUE (" + column_list(u.columns) + ")");
  }
  for (const CheckConstraint& ch : table.checks) items.push_back("  " + named(ch.name) + "CHECK (" + ch.expression + ")");
  for (const ForeignKey& fk : table.foreign_keys) {
    items.push_back("  " + named(fk.name) + "FOREIGN KEY (" + column_list(fk.columns) + ") " + foreign_key_clause(fk));
  }
  std::string s = "CREATE TABLE " + quote(name) + " (\n" + join(items, ",\n") + "\n)";
  std::vector<std::string> options;
  if (table.without_rowid) options.emplace_back("WITHOUT ROWID");
  if (table.strict) options.emplace_back("STRICT");
  if (!options.empty()) s += " " + join(options, ", ");
  return s;
}

// A default ALTER TABLE ADD COLUMN accepts: a literal, not an expression
// and not CURRENT_TIME/DATE/TIMESTAMP.
bool constant_default(const std::optional<std::string>& value) { return !value || sqlite_constant(*value); }

bool is_null_default(const std::optional<std::string>& value) { return !value || upper(*value) == "NULL"; }

// Why `c` cannot be added with ALTER TABLE ADD COLUMN ("" when it can).
// `inline_fk` is the foreign key that would go into the column's definition.
std::string cannot_add(const Table& to, const Column& c, const ForeignKey* inline_fk) {
  if (to.primary_key && in(to.primary_key->columns, c.name)) return "column " + c.name + " added to the primary key";
  for (const UniqueConstraint& u : to.uniques) {
    if (in(u.columns, c.name)) return "UNIQUE column " + c.name + " added";
  }
  if (c.generated == GeneratedKind::stored) return "STORED generated column " + c.name + " added";
  if (!constant_default(c.default_value)) return "column " + c.name + " added with a non-constant default";
  if (!c.nullable && c.generated == GeneratedKind::none && is_null_default(c.default_value)) {
    return "NOT NULL column " + c.name + " added without a default";
  }
  if (inline_fk != nullptr && !is_null_default(c.default_value)) {
    return "column " + c.name + " added with a foreign key and a default";
  }
  return {};
}

// Why `c` cannot be dropped with ALTER TABLE DROP COLUMN ("" when it can),
// judged on the table as it was (its constraints and expressions) and the
// triggers that stay.
std::string cannot_drop(const Context& ctx, const Table& from, const Column& c) {
  const std::string why = "column " + c.name + " dropped while ";
  if (from.primary_key && in(from.primary_key->columns, c.name)) return why + "in the primary key";
  for (const UniqueConstraint& u : from.uniques) {
    if (in(u.columns, c.name)) return why + "UNIQUE";
  }
  for (const ForeignKey& fk : from.foreign_keys) {
    if (in(fk.columns, c.name)) return why + "in a foreign key";
  }
  for (const CheckConstraint& ch : from.checks) {
    if (mentions(ch.expression, c.name)) return why + "in a CHECK constraint";
  }
  for (const Column& other : from.columns) {
    if (other.generated != GeneratedKind::none && mentions(other.generated_expression, c.name)) {
      return why + "used by generated column " + other.name;
    }
  }
  for (const Trigger& t : ctx.from.triggers) {
    const bool reads_table = t.table == from.name || mentions(t.definition, from.name);
    if (reads_table && mentions(t.definition, c.name)) return why + "used by trigger " + t.name;
  }
  for (const Table& other : ctx.from.tables) {  // referenced by another table's foreign key
    for (const ForeignKey& fk : other.foreign_keys) {
      if (fk.referenced_table == from.name && in(fk.referenced_columns, c.name)) {
        return why + "referenced by a foreign key of " + other.name;
      }
    }
  }
  return {};
}

// A new single-column foreign key on an added column can go into the
// column's definition (ALTER TABLE ADD COLUMN ... REFERENCES).
const ForeignKey* inline_foreign_key(const Table& to, const Column& added) {
  for (const ForeignKey& fk : to.foreign_keys) {
    if (fk.columns.size() == 1 && fk.columns[0] == added.name) return &fk;
  }
  return nullptr;
}

std::string describe_column_change(const Column& a, const Column& b) {
  std::vector<std::string> parts;
  if (a.type.raw != b.type.raw) {
    parts.push_back("type " + (a.type.raw.empty() ? std::string("(none)") : a.type.raw) + " -> " +
                    (b.type.raw.empty() ? std::string("(none)") : b.type.raw));
  }
  if (a.nullable != b.nullable) parts.emplace_back(b.nullable ? "NOT NULL dropped" : "NOT NULL added");
  if (a.default_value != b.default_value) {
    parts.push_back("default " + a.default_value.value_or("(none)") + " -> " + b.default_value.value_or("(none)"));
  }
  if (a.collation != b.collation) parts.push_back("collation " + a.collation + " -> " + b.collation);
  if (a.generated != b.generated || a.generated_expression != b.generated_expression) parts.emplace_back("generated changed");
  return "column " + a.name + ": " + join(parts, ", ");
}

void rebuild(Context& ctx, const Table& from, const Table& to, const std::vector<std::string>& reasons) {
  const std::string tmp = kRebuildPrefix + to.name;
  Change c = make_change(ChangeKind::rebuild_table, "table " + to.name, join(reasons, "; "), {});
  c.statements.push_back(create_table_sql(to, tmp));
  std::vector<std::string> targets;
  std::vector<std::string> sources;
  for (const Column& tc : to.columns) {
    const Column* fc = from.find_column(tc.name);
    if (fc == nullptr || tc.generated != GeneratedKind::none) continue;
    targets.push_back(quote(tc.name));
    if (!tc.nullable && fc->nullable && !is_null_default(tc.default_value)) {
      sources.push_back("COALESCE(" + quote(tc.name) + ", " + sqlite_default(*tc.default_value) + ")");
    } else {
      sources.push_back(quote(tc.name));
    }
    if (fc->type.raw != tc.type.raw) c.destructive = true;
  }
  if (!targets.empty()) {
    c.statements.push_back("INSERT INTO " + quote(tmp) + " (" + join(targets, ", ") + ")\n  SELECT " +
                           join(sources, ", ") + " FROM " + quote(from.name));
  }
  if (from.primary_key && from.primary_key->autoincrement && to.primary_key && to.primary_key->autoincrement) {
    // Keep AUTOINCREMENT's high-water mark: ids of deleted rows stay unused.
    c.statements.push_back("DELETE FROM sqlite_sequence WHERE name = " + literal(tmp));
    c.statements.push_back("INSERT INTO sqlite_sequence (name, seq) SELECT " + literal(tmp) +
                           ", seq FROM sqlite_sequence WHERE name = " + literal(from.name));
  }
  c.statements.push_back("DROP TABLE " + quote(from.name));
  c.statements.push_back("ALTER TABLE " + quote(tmp) + " RENAME TO " + quote(to.name));
  for (const Index& i : to.indexes) c.statements.push_back(create_index_sql(i, Engine::sqlite));
  for (const Trigger& t : ctx.to.triggers) {
    if (t.table != to.name) continue;
    c.statements.push_back(trim_definition(t.definition));
    ctx.handled_triggers.insert(t.table + "\x1f" + t.name);
  }
  for (const Column& fc : from.columns) {
    if (to.find_column(fc.name) == nullptr) c.destructive = true;
  }
  for (const Column& tc : to.columns) {
    if (from.find_column(tc.name) != nullptr) continue;
    for (std::string& n : column_rename_notes(from, to, tc)) c.notes.push_back(std::move(n));
  }
  ctx.rebuilt_tables.insert(to.name);
  ctx.affected_tables.insert(to.name);
  ctx.foreign_keys_off = true;
  ctx.add(Phase::rebuild_table, to.name, std::move(c));
}

void diff_table(Context& ctx, const Table& from, const Table& to) {
  std::vector<std::string> reasons;
  for (const Column& tc : to.columns) {
    const Column* fc = from.find_column(tc.name);
    if (fc != nullptr && !(*fc == tc)) reasons.push_back(describe_column_change(*fc, tc));
  }
  if (from.primary_key != to.primary_key) reasons.emplace_back("primary key changed");
  if (from.uniques != to.uniques) reasons.emplace_back("UNIQUE constraints changed");
  if (from.checks != to.checks) reasons.emplace_back("CHECK constraints changed");
  if (from.without_rowid != to.without_rowid) reasons.emplace_back("WITHOUT ROWID changed");
  if (from.strict != to.strict) reasons.emplace_back("STRICT changed");
  // Foreign keys: the old ones stay, new ones only inline on added columns.
  std::vector<ForeignKey> kept;
  for (const ForeignKey& fk : to.foreign_keys) {
    const bool on_added = fk.columns.size() == 1 && from.find_column(fk.columns[0]) == nullptr;
    if (!on_added) kept.push_back(fk);
  }
  if (kept != from.foreign_keys) reasons.emplace_back("foreign keys changed");

  std::vector<const Column*> added;
  std::vector<const Column*> dropped;
  for (const Column& tc : to.columns) {
    if (from.find_column(tc.name) == nullptr) {
      added.push_back(&tc);
      const std::string why = cannot_add(to, tc, inline_foreign_key(to, tc));
      if (!why.empty()) reasons.push_back(why);
    }
  }
  for (const Column& fc : from.columns) {
    if (to.find_column(fc.name) == nullptr) {
      dropped.push_back(&fc);
      const std::string why = cannot_drop(ctx, from, fc);
      if (!why.empty()) reasons.push_back(why);
    }
  }

  if (!reasons.empty()) {
    if (ctx.options.rebuild) {
      rebuild(ctx, from, to, reasons);
    } else {
      ctx.unsupported.push_back("change table " + to.name + " without a rebuild (" + join(reasons, "; ") + ")");
      ctx.skipped_tables.insert(to.name);
    }
    return;
  }
  for (const Column* c : added) {
    std::string def = column_sql(*c, to, false);
    if (const ForeignKey* fk = inline_foreign_key(to, *c)) def += " " + named(fk->name) + foreign_key_clause(*fk);
    Change change = make_change(ChangeKind::add_column, "column " + to.name + "." + c->name, {},
                  {"ALTER TABLE " + quote(to.name) + " ADD COLUMN " + def});
    change.notes = column_rename_notes(from, to, *c);
    ctx.add(Phase::add_column, to.name + "\x1f" + c->name, std::move(change));
  }
  for (const Column* c : dropped) {
    Change change = make_change(ChangeKind::drop_column, "column " + from.name + "." + c->name, {},
                  {"ALTER TABLE " + quote(from.name) + " DROP COLUMN " + quote(c->name)});
    change.destructive = true;
    ctx.affected_tables.insert(from.name);
    ctx.add(Phase::drop_column, from.name + "\x1f" + c->name, std::move(change));
  }
}

}  // namespace

void diff_tables_sqlite(Context& ctx) {
  for (const Table& ft : ctx.from.tables) {
    if (ctx.to_table(ft.name) != nullptr) continue;
    // Dropping a table another one references runs its ON DELETE actions
    // (or fails) while foreign keys are on.
    for (const Table& other : ctx.from.tables) {
      if (other.name == ft.name) continue;
      for (const ForeignKey& fk : other.foreign_keys) {
        if (fk.referenced_table == ft.name) ctx.foreign_keys_off = true;
      }
    }
    Change c = make_change(ChangeKind::drop_table, "table " + ft.name, {}, {"DROP TABLE " + quote(ft.name)});
    c.destructive = true;
    ctx.add(Phase::drop_table, ft.name, std::move(c));
  }
  for (const Table& tt : ctx.to.tables) {
    const Table* ft = ctx.from_table(tt.name);
    if (ft != nullptr) {
      diff_table(ctx, *ft, tt);
      continue;
    }
    Change c = make_change(ChangeKind::create_table, "table " + tt.name, {}, {create_table_sql(tt, tt.name)});
    c.notes = table_rename_notes(ctx, tt);
    ctx.add(Phase::create_table, tt.name, std::move(c));
  }
}

}  // namespace strata::schema::detail
