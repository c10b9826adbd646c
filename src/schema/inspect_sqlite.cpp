// schema/inspect_sqlite.cpp: reads a SQLite catalog into the schema model.
//
// Where each fact comes from:
//   pragma_table_xinfo       columns in table order: name, declared type as
//                            written, NOT NULL, primary key position, and
//                            generated columns (hidden = 2 virtual, 3 stored)
//   pragma_foreign_key_list  foreign keys: columns, referenced table and
//                            columns, ON DELETE / ON UPDATE
//   pragma_index_list        which tables' primary keys have an index of their
//                            own (a rowid alias has none)
//   pragma_index_xinfo       index keys: column or expression, DESC
//   sqlite_master.sql        what SQLite keeps nowhere else: defaults as
//                            written (the pragma drops a default's outer
//                            parentheses, and DEFAULT needs them), COLLATE,
//                            generated expressions, CHECK and UNIQUE clauses,
//                            constraint names, AUTOINCREMENT, DEFERRABLE,
//                            WITHOUT ROWID, STRICT; an index's key text,
//                            collations and WHERE clause
// Each pragma is read for all objects in one query, joined with
// sqlite_master, so no name is ever spliced into SQL and the cost does not
// grow with a query per table. The reads share one read transaction (one
// snapshot) unless the caller already has one open.
//
// The CREATE text is walked as tokens (sql/lexer.hpp tokenize()), never
// re-parsed with a grammar of our own: SQLite has already checked it, so it
// is enough to find the clauses. A column definition or table constraint is
// split into clauses at the keywords that can only begin one:
//   CONSTRAINT PRIMARY UNIQUE CHECK DEFAULT COLLATE REFERENCES GENERATED
//   FOREIGN NOT NULL AS
// except where the same word sits inside a clause: NOT before DEFERRABLE;
// NULL after NOT or SET; DEFAULT after SET (ON DELETE SET NULL/DEFAULT); AS
// after ALWAYS; REFERENCES inside FOREIGN KEY; any word right after
// CONSTRAINT, COLLATE, REFERENCES or a DEFAULT clause (and its sign), where
// it is a name or a value; and a column definition's first word, its name. Words
// inside parentheses never split. SQLite allows table constraints without
// commas between them, which this handles too.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "schema/inspect_detail.hpp"
#include "schema/sqlite_text.hpp"
#include "sql/lexer.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {
namespace {

using sql::detail::TokenKind;

constexpr std::size_t npos = static_cast<std::size_t>(-1);

// One statement's tokens over its text.
class Tokens {
 public:
  explicit Tokens(std::string_view text) : text_(text), tokens_(sql::detail::tokenize(text, Engine::sqlite)) {}

  std::size_t size() const { return tokens_.size(); }
  std::string_view text(std::size_t i) const {
    if (i >= tokens_.size()) return {};
    return text_.substr(tokens_[i].span.begin, tokens_[i].span.end - tokens_[i].span.begin);
  }
  // The source text from token b through token e - 1, as written (comments
  // and blanks between them included); "" when b >= e.
  std::string span(std::size_t b, std::size_t e) const {
    e = std::min(e, tokens_.size());
    if (b >= e) return {};
    return std::string(text_.substr(tokens_[b].span.begin, tokens_[e - 1].span.end - tokens_[b].span.begin));
  }
  // Whether token i is the bare word `keyword` (upper case), in any case.
  bool is(std::size_t i, std::string_view keyword) const {
    if (i >= tokens_.size() || tokens_[i].kind != TokenKind::word) return false;
    const std::string_view t = text(i);
    if (t.size() != keyword.size()) return false;
    for (std::size_t k = 0; k < t.size(); ++k) {
      char c = t[k];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != keyword[k]) return false;
    }
    return true;
  }
  bool symbol(std::size_t i, char c) const {
    return i < tokens_.size() && tokens_[i].kind == TokenKind::symbol && text(i)[0] == c;
  }
  bool word(std::size_t i) const { return i < tokens_.size() && tokens_[i].kind == TokenKind::word; }
  // The name token i stands for, unquoted.
  std::string name(std::size_t i) const { return sqlite_identifier(text(i)); }
  // The ')' that closes the '(' at i (size() when it is unbalanced).
  std::size_t close(std::size_t i) const {
    int depth = 0;
    for (; i < tokens_.size(); ++i) {
      if (symbol(i, '(')) ++depth;
      if (symbol(i, ')') && --depth == 0) return i;
    }
    return tokens_.size();
  }
  // The first token in [b, e) that is the word `keyword` outside parentheses.
  std::size_t find(std::size_t b, std::size_t e, std::string_view keyword) const {
    for (std::size_t i = b; i < e; ++i) {
      if (symbol(i, '(')) i = close(i);
      else if (is(i, keyword)) return i;
    }
    return npos;
  }
  // The first '(' in [b, e), or npos.
  std::size_t open(std::size_t b, std::size_t e) const {
    for (std::size_t i = b; i < e; ++i) {
      if (symbol(i, '(')) return i;
    }
    return npos;
  }
  // [b, e) split at the commas outside parentheses.
  std::vector<std::pair<std::size_t, std::size_t>> split(std::size_t b, std::size_t e) const {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t start = b;
    for (std::size_t i = b; i < e; ++i) {
      if (symbol(i, '(')) {
        i = close(i);
      } else if (symbol(i, ',')) {
        out.emplace_back(start, i);
        start = i + 1;
      }
    }
    if (start < e) out.emplace_back(start, e);
    return out;
  }
  // The text inside the parentheses opening at or after b, before e
  // (CHECK (...), AS (...)); "" when there are none.
  std::string parenthesised(std::size_t b, std::size_t e) const {
    const std::size_t p = open(b, e);
    return p == npos ? std::string() : span(p + 1, close(p));
  }
  // The names in the parenthesised list opening at p: the first token of
  // each element (an indexed column may add COLLATE and ASC/DESC).
  std::vector<std::string> name_list(std::size_t p) const {
    std::vector<std::string> out;
    for (auto [b, e] : split(p + 1, close(p))) out.push_back(name(b));
    return out;
  }

 private:
  std::string_view text_;
  std::vector<sql::detail::Token> tokens_;
};

// --- CREATE TABLE ---------------------------------------------------------

// What a CREATE TABLE statement says beyond the pragmas. Column names are as
// written in the statement; the caller maps them to the stored spelling.
struct ForeignKeyText {
  std::string name;
  std::vector<std::string> columns;
  std::string table;
  bool deferrable = false;
  bool initially_deferred = false;
};

struct ColumnText {
  std::string name;
  std::optional<std::string> default_value;
  std::string collation;
  std::string generated_expression;
};

struct TableText {
  std::vector<ColumnText> columns;
  std::string primary_key_name;
  bool autoincrement = false;
  std::vector<UniqueConstraint> uniques;
  std::vector<CheckConstraint> checks;
  std::vector<ForeignKeyText> foreign_keys;  // in the statement's order
  bool without_rowid = false;
  bool strict = false;
};

// Whether token i (outside parentheses, inside the clause that began at
// `clause`, or npos before the first clause) begins a new clause. See the
// file comment.
bool starts_clause(const Tokens& t, std::size_t i, std::size_t clause) {
  if (!t.word(i)) return false;
  // DEFAULT begins a clause unless it is SET DEFAULT.
  auto default_clause = [&](std::size_t k) { return t.is(k, "DEFAULT") && !(k > 0 && t.is(k - 1, "SET")); };
  if (i > 0 && (t.is(i - 1, "CONSTRAINT") || t.is(i - 1, "COLLATE") || t.is(i - 1, "REFERENCES") ||
                default_clause(i - 1))) {
    return false;
  }
  if (i > 1 && (t.symbol(i - 1, '-') || t.symbol(i - 1, '+')) && default_clause(i - 2)) return false;
  if (t.is(i, "NOT")) return !t.is(i + 1, "DEFERRABLE");
  if (t.is(i, "NULL")) return i == 0 || !(t.is(i - 1, "NOT") || t.is(i - 1, "SET"));
  if (t.is(i, "DEFAULT")) return default_clause(i);
  if (t.is(i, "AS")) return i == 0 || !t.is(i - 1, "ALWAYS");
  if (t.is(i, "REFERENCES")) return clause == npos || !t.is(clause, "FOREIGN");
  for (std::string_view k : {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "COLLATE", "GENERATED", "FOREIGN"}) {
    if (t.is(i, k)) return true;
  }
  return false;
}

// A clause: its first token (the keyword), its end, and the CONSTRAINT name
// written before it ("" when none).
struct Clause {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string name;
};

// Splits [b, e) into clauses. Tokens before the first clause (a column's
// name and type) are not part of any.
std::vector<Clause> clauses(const Tokens& t, std::size_t b, std::size_t e) {
  std::vector<std::size_t> starts;
  for (std::size_t i = b; i < e; ++i) {
    if (t.symbol(i, '(')) {
      i = t.close(i);
    } else if (starts_clause(t, i, starts.empty() ? npos : starts.back())) {
      starts.push_back(i);
    }
  }
  std::vector<Clause> out;
  std::string name;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t end = k + 1 < starts.size() ? starts[k + 1] : e;
    if (t.is(starts[k], "CONSTRAINT")) {
      name = t.name(starts[k] + 1);
      continue;
    }
    out.push_back(Clause{starts[k], end, std::move(name)});
    name.clear();
  }
  return out;
}

// DEFERRABLE / NOT DEFERRABLE / INITIALLY DEFERRED in [b, e).
void read_deferrable(const Tokens& t, std::size_t b, std::size_t e, ForeignKeyText& fk) {
  for (std::size_t i = b; i < e; ++i) {
    if (t.is(i, "DEFERRABLE")) fk.deferrable = !t.is(i - 1, "NOT");
    if (t.is(i, "INITIALLY")) fk.initially_deferred = t.is(i + 1, "DEFERRED");
  }
  fk.initially_deferred = fk.deferrable && fk.initially_deferred;
}

// REFERENCES table [(columns)] ... starting at token r, up to e.
ForeignKeyText read_references(const Tokens& t, std::size_t r, std::size_t e, std::string name) {
  ForeignKeyText fk;
  fk.name = std::move(name);
  fk.table = t.name(r + 1);
  read_deferrable(t, r + 2, e, fk);
  return fk;
}

UniqueConstraint make_unique_constraint(std::string name, std::vector<std::string> columns) {
  UniqueConstraint u;
  u.name = std::move(name);
  u.columns = std::move(columns);
  return u;
}

CheckConstraint make_check(std::string name, std::string expression) {
  CheckConstraint c;
  c.name = std::move(name);
  c.expression = std::move(expression);
  return c;
}

// A table constraint clause.
void read_table_clause(const Tokens& t, const Clause& c, TableText& out) {
  const std::size_t k = c.begin;
  if (t.is(k, "PRIMARY")) {
    out.primary_key_name = c.name;
    for (std::size_t i = k; i < c.end; ++i) out.autoincrement = out.autoincrement || t.is(i, "AUTOINCREMENT");
  } else if (t.is(k, "UNIQUE")) {
    const std::size_t p = t.open(k, c.end);
    if (p != npos) out.uniques.push_back(make_unique_constraint(c.name, t.name_list(p)));
  } else if (t.is(k, "CHECK")) {
    out.checks.push_back(make_check(c.name, t.parenthesised(k, c.end)));
  } else if (t.is(k, "FOREIGN")) {
    const std::size_t p = t.open(k, c.end);
    const std::size_t r = t.find(k, c.end, "REFERENCES");
    if (p == npos || r == npos) return;
    ForeignKeyText fk = read_references(t, r, c.end, c.name);
    fk.columns = t.name_list(p);
    out.foreign_keys.push_back(std::move(fk));
  }
}

// A column definition: name, type, then column constraint clauses.
void read_column(const Tokens& t, std::size_t b, std::size_t e, TableText& out) {
  ColumnText col;
  col.name = t.name(b);
  for (const Clause& c : clauses(t, b + 1, e)) {
    const std::size_t k = c.begin;
    if (t.is(k, "PRIMARY")) {
      out.primary_key_name = c.name;
      for (std::size_t i = k; i < c.end; ++i) out.autoincrement = out.autoincrement || t.is(i, "AUTOINCREMENT");
    } else if (t.is(k, "UNIQUE")) {
      out.uniques.push_back(make_unique_constraint(c.name, {col.name}));
    } else if (t.is(k, "CHECK")) {
      out.checks.push_back(make_check(c.name, t.parenthesised(k, c.end)));
    } else if (t.is(k, "DEFAULT")) {
      col.default_value = t.span(k + 1, c.end);
    } else if (t.is(k, "COLLATE")) {
      col.collation = t.name(k + 1);
    } else if (t.is(k, "GENERATED") || t.is(k, "AS")) {
      col.generated_expression = t.parenthesised(k, c.end);
    } else if (t.is(k, "REFERENCES")) {
      ForeignKeyText fk = read_references(t, k, c.end, c.name);
      fk.columns = {col.name};
      out.foreign_keys.push_back(std::move(fk));
    }
  }
  out.columns.push_back(std::move(col));
}

TableText read_create_table(std::string_view sql) {
  const Tokens t(sql);
  TableText out;
  const std::size_t p = t.open(0, t.size());
  if (p == npos) return out;
  const std::size_t q = t.close(p);
  bool constraints = false;  // columns come first, then table constraints
  for (auto [b, e] : t.split(p + 1, q)) {
    constraints = constraints || t.is(b, "CONSTRAINT") || t.is(b, "PRIMARY") || t.is(b, "UNIQUE") ||
                  t.is(b, "CHECK") || t.is(b, "FOREIGN");
    if (!constraints) {
      read_column(t, b, e, out);
      continue;
    }
    for (const Clause& c : clauses(t, b, e)) read_table_clause(t, c, out);
  }
  for (std::size_t i = q + 1; i < t.size(); ++i) {
    if (t.is(i, "ROWID") && t.is(i - 1, "WITHOUT")) out.without_rowid = true;
    if (t.is(i, "STRICT")) out.strict = true;
  }
  return out;
}

// --- CREATE INDEX ---------------------------------------------------------

struct IndexKeyText {
  std::string text;       // the key without COLLATE and ASC/DESC
  std::string collation;  // as written, unquoted; "" when none
};

struct IndexText {
  bool unique = false;
  std::vector<IndexKeyText> keys;
  std::optional<std::string> predicate;
};

IndexText read_create_index(std::string_view sql) {
  const Tokens t(sql);
  IndexText out;
  out.unique = t.is(1, "UNIQUE");
  const std::size_t on = t.find(0, t.size(), "ON");
  const std::size_t p = on == npos ? npos : t.open(on, t.size());
  if (p == npos) return out;
  const std::size_t q = t.close(p);
  for (auto [b, e] : t.split(p + 1, q)) {
    IndexKeyText key;
    if (e > b + 1 && (t.is(e - 1, "ASC") || t.is(e - 1, "DESC"))) --e;
    if (e > b + 2 && t.is(e - 2, "COLLATE")) {
      key.collation = t.name(e - 1);
      e -= 2;
    }
    // A key written in redundant parentheses, ((a + b)), reads as a + b.
    while (e > b + 2 && t.symbol(b, '(') && t.close(b) == e - 1) {
      ++b;
      --e;
    }
    key.text = t.span(b, e);
    out.keys.push_back(std::move(key));
  }
  const std::size_t where = t.find(q + 1, t.size(), "WHERE");
  if (where != npos) out.predicate = t.span(where + 1, t.size());
  return out;
}

// --- Reading the catalog --------------------------------------------------

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_lower(s.substr(0, prefix.size())) == prefix;
}

ReferentialAction action(std::string_view pragma) {
  if (pragma == "RESTRICT") return ReferentialAction::restrict;
  if (pragma == "CASCADE") return ReferentialAction::cascade;
  if (pragma == "SET NULL") return ReferentialAction::set_null;
  if (pragma == "SET DEFAULT") return ReferentialAction::set_default;
  return ReferentialAction::no_action;
}

// The table's spelling of a column named in its statement (names match
// ASCII case-insensitively); the name as written when no column matches.
std::string stored_column(const Table& table, const std::string& written) {
  const std::string key = ascii_lower(written);
  for (const Column& c : table.columns) {
    if (ascii_lower(c.name) == key) return c.name;
  }
  return written;
}

// Ends the read transaction inspect_sqlite opened, if it opened one.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& c) : c_(c), owned_(!c.in_transaction()) {
    if (owned_) c_.execute("BEGIN");
  }
  ~ReadSnapshot() {
    if (!owned_) return;
    try {
      c_.execute("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing was written
    }
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Connection& c_;
  bool owned_;
};

// What the pragmas say about one table, before it is assembled.
struct PragmaForeignKey {
  std::vector<std::string> columns;
  std::string table;
  std::vector<std::string> referenced_columns;
  ReferentialAction on_delete = ReferentialAction::no_action;
  ReferentialAction on_update = ReferentialAction::no_action;
};

struct TableFacts {
  std::string sql;
  std::vector<Column> columns;
  std::vector<std::pair<std::int64_t, std::string>> key;  // (pk position, column)
  std::map<std::int64_t, PragmaForeignKey> foreign_keys;  // by pragma id
  bool has_key_index = false;  // the primary key has an index (it is not the rowid)
};

void assemble_table(const std::string& name, TableFacts& facts, Table& table) {
  table.name = name;
  table.definition = facts.sql;
  table.columns = std::move(facts.columns);
  TableText text = read_create_table(facts.sql);
  table.without_rowid = text.without_rowid;
  table.strict = text.strict;

  for (Column& c : table.columns) {
    const std::string key = ascii_lower(c.name);
    for (const ColumnText& ct : text.columns) {
      if (ascii_lower(ct.name) != key) continue;
      c.default_value = ct.default_value;
      c.collation = ct.collation;
      if (c.generated != GeneratedKind::none) c.generated_expression = ct.generated_expression;
    }
  }

  if (!facts.key.empty()) {
    std::sort(facts.key.begin(), facts.key.end());
    PrimaryKey pk;
    pk.name = text.primary_key_name;
    pk.autoincrement = text.autoincrement;
    for (auto& [position, column] : facts.key) pk.columns.push_back(column);
    // A primary key column cannot hold NULL when the key is the rowid or the
    // table is WITHOUT ROWID, whatever NOT NULL says (SQLite lets other
    // primary key columns hold NULL).
    const bool rowid_alias = pk.columns.size() == 1 && !table.without_rowid && !facts.has_key_index;
    if (rowid_alias || table.without_rowid) {
      for (Column& c : table.columns) {
        if (std::find(pk.columns.begin(), pk.columns.end(), c.name) != pk.columns.end()) c.nullable = false;
      }
    }
    table.primary_key = std::move(pk);
  }

  for (UniqueConstraint& u : text.uniques) {
    for (std::string& column : u.columns) column = stored_column(table, column);
    table.uniques.push_back(std::move(u));
  }
  table.checks = std::move(text.checks);

  // Pair each pragma foreign key with its clause in the statement (same
  // columns and referenced table, case-insensitively; the pragma lists them
  // last declared first), for its name and DEFERRABLE.
  std::vector<bool> used(text.foreign_keys.size(), false);
  for (auto it = facts.foreign_keys.rbegin(); it != facts.foreign_keys.rend(); ++it) {
    PragmaForeignKey& p = it->second;
    ForeignKey fk;
    fk.columns = p.columns;
    fk.referenced_table = p.table;
    fk.referenced_columns = p.referenced_columns;
    fk.on_delete = p.on_delete;
    fk.on_update = p.on_update;
    for (std::size_t k = 0; k < text.foreign_keys.size(); ++k) {
      const ForeignKeyText& ft = text.foreign_keys[k];
      if (used[k] || ascii_lower(ft.table) != ascii_lower(p.table) || ft.columns.size() != p.columns.size()) continue;
      bool same = true;
      for (std::size_t c = 0; c < ft.columns.size(); ++c) {
        same = same && ascii_lower(ft.columns[c]) == ascii_lower(p.columns[c]);
      }
      if (!same) continue;
      used[k] = true;
      fk.name = ft.name;
      fk.deferrable = ft.deferrable;
      fk.initially_deferred = ft.initially_deferred;
      break;
    }
    table.foreign_keys.push_back(std::move(fk));
  }

  std::sort(table.uniques.begin(), table.uniques.end(), [](const UniqueConstraint& a, const UniqueConstraint& b) {
    return std::tie(a.name, a.columns) < std::tie(b.name, b.columns);
  });
  std::sort(table.checks.begin(), table.checks.end(), [](const CheckConstraint& a, const CheckConstraint& b) {
    return std::tie(a.name, a.expression) < std::tie(b.name, b.expression);
  });
}

struct IndexKeyFacts {
  std::int64_t cid = 0;  // -2: an expression; -1: the rowid
  std::string name;
  bool desc = false;
};

Index assemble_index(const std::string& name, const std::string& table, const std::string& sql,
                     const std::vector<IndexKeyFacts>& facts) {
  Index index;
  index.name = name;
  index.table = table;
  index.definition = sql;
  IndexText text = read_create_index(sql);
  index.unique = text.unique;
  index.predicate = std::move(text.predicate);
  for (std::size_t k = 0; k < facts.size(); ++k) {
    IndexKey key;
    key.order = facts[k].desc ? SortOrder::desc : SortOrder::asc;
    const IndexKeyText* written = k < text.keys.size() ? &text.keys[k] : nullptr;
    if (written != nullptr) key.collation = written->collation;
    if (facts[k].cid >= 0) {
      key.column = facts[k].name;
    } else if (facts[k].cid == -1) {
      key.column = written != nullptr ? sqlite_identifier(written->text) : "rowid";
    } else {
      key.expression = written != nullptr ? written->text : std::string();
    }
    index.keys.push_back(std::move(key));
  }
  return index;
}

// One inspection: the rows of sqlite_master, then one query per pragma,
// assembled into the Schema.
class Reader {
 public:
  Reader(Connection& connection, const InspectOptions& options) : c_(connection), options_(options) {}

  Schema read() {
    ReadSnapshot snapshot(c_);
    schema_.engine = Engine::sqlite;
    schema_.name = "main";
    objects_ = c_.query(
        "SELECT type, name, tbl_name, sql FROM main.sqlite_master "
        "WHERE sql IS NOT NULL AND type IN ('table', 'index', 'view', 'trigger')");
    read_objects();
    read_columns();
    read_foreign_keys();
    read_key_indexes();
    for (auto& [name, facts] : tables_) assemble_table(name, facts, schema_.tables.emplace_back());
    spell_references();
    read_indexes();
    read_triggers();
    link_views();
    sort_by_name(schema_.tables);
    sort_by_name(schema_.views);
    sort_by_name(schema_.virtual_tables);
    std::sort(schema_.triggers.begin(), schema_.triggers.end(), [](const Trigger& a, const Trigger& b) {
      return std::tie(a.table, a.name) < std::tie(b.table, b.name);
    });
    return std::move(schema_);
  }

 private:
  template <class T>
  static void sort_by_name(std::vector<T>& items) {
    std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
  }

  // Tables, views and virtual tables; what is left out (SQLite's own
  // tables, shadow tables, excluded and strata tables) is remembered, as it
  // takes its indexes and triggers with it.
  void read_objects() {
    // Shadow tables are made by their virtual table's CREATE VIRTUAL TABLE.
    // PRAGMA table_list names them; before SQLite 3.37, tables named after
    // a virtual table and '_' are taken for its shadows.
    std::set<std::string> virtual_tables;  // lower-cased
    for (const Row& r : objects_.rows) {
      if (r.get<std::string>(0) == "table" && starts_with_ci(r.get<std::string>(3), "create virtual table")) {
        virtual_tables.insert(ascii_lower(r.get<std::string>(1)));
      }
    }
    const std::optional<std::set<std::string>> shadows = sqlite_shadow_tables(c_);
    auto is_shadow = [&](const std::string& key) {
      if (shadows) return shadows->contains(key);
      return std::any_of(virtual_tables.begin(), virtual_tables.end(), [&](const std::string& v) {
        return key.size() > v.size() + 1 && key.starts_with(v) && key[v.size()] == '_';
      });
    };
    for (const Row& r : objects_.rows) {
      const auto type = r.get<std::string>(0);
      if (type != "table" && type != "view") continue;
      const auto name = r.get<std::string>(1);
      const std::string key = ascii_lower(name);
      if (key.starts_with("sqlite_") || is_shadow(key) || excluded_table(name, options_)) {
        left_out_.insert(key);
        continue;
      }
      relations_[key] = name;
      if (type == "view") {
        View& v = schema_.views.emplace_back();
        v.name = name;
        v.definition = r.get<std::string>(3);
      } else if (virtual_tables.contains(key)) {
        schema_.virtual_tables.push_back(VirtualTable{name, r.get<std::string>(3)});
      } else {
        tables_[name].sql = r.get<std::string>(3);
      }
    }
  }

  // `pragma` (a table-valued pragma called with m.name) joined with every
  // ordinary table. Virtual tables stay out: their pragmas would need the
  // module (fts5, rtree, ...) loaded.
  ResultSet per_table(std::string_view columns, std::string_view pragma, std::string_view order) {
    return c_.query("SELECT m.name, " + std::string(columns) + " FROM main.sqlite_master m, " + std::string(pragma) +
                    " p WHERE m.type = 'table' AND m.sql IS NOT NULL AND m.sql NOT LIKE 'create virtual table%' " +
                    std::string(order));
  }

  TableFacts* facts(const Row& r) {
    auto it = tables_.find(r.get<std::string>(0));
    return it == tables_.end() ? nullptr : &it->second;
  }

  void read_columns() {
    for (const Row& r : per_table("p.name, p.type, p.\"notnull\", p.pk, p.hidden",
                                  "pragma_table_xinfo(m.name, 'main')", "ORDER BY m.name, p.cid")
                            .rows) {
      TableFacts* f = facts(r);
      if (f == nullptr) continue;
      const std::int64_t hidden = r.get<std::int64_t>(5);
      Column& c = f->columns.emplace_back();
      c.name = r.get<std::string>(1);
      c.type.raw = r.get<std::optional<std::string>>(2).value_or("");
      c.type.family = sqlite_type_family(c.type.raw);
      c.nullable = r.get<std::int64_t>(3) == 0;
      c.generated = hidden == 2   ? GeneratedKind::virtual_
                    : hidden == 3 ? GeneratedKind::stored
                                  : GeneratedKind::none;
      if (const std::int64_t pk = r.get<std::int64_t>(4); pk > 0) f->key.emplace_back(pk, c.name);
    }
  }

  void read_foreign_keys() {
    for (const Row& r : per_table("p.id, p.\"table\", p.\"from\", p.\"to\", p.on_update, p.on_delete",
                                  "pragma_foreign_key_list(m.name, 'main')", "ORDER BY m.name, p.id, p.seq")
                            .rows) {
      TableFacts* f = facts(r);
      if (f == nullptr) continue;
      PragmaForeignKey& fk = f->foreign_keys[r.get<std::int64_t>(1)];
      fk.table = r.get<std::string>(2);
      fk.columns.push_back(r.get<std::string>(3));
      if (auto to = r.get<std::optional<std::string>>(4)) fk.referenced_columns.push_back(*to);
      fk.on_update = action(r.get<std::string>(5));
      fk.on_delete = action(r.get<std::string>(6));
    }
  }

  // Which primary keys have an index of their own (origin "pk"): all but a
  // rowid alias.
  void read_key_indexes() {
    for (const Row& r : per_table("p.origin", "pragma_index_list(m.name, 'main')", "").rows) {
      TableFacts* f = facts(r);
      if (f != nullptr && r.get<std::string>(1) == "pk") f->has_key_index = true;
    }
  }

  // A foreign key names its table and columns as its clause wrote them;
  // where that table is in the model, its own spelling is used instead, as
  // everywhere else (SQLite matches names case-insensitively). Then the
  // keys are put in their order.
  void spell_references() {
    std::map<std::string, const Table*> by_name;  // lower-cased
    for (const Table& t : schema_.tables) by_name[ascii_lower(t.name)] = &t;
    for (Table& t : schema_.tables) {
      for (ForeignKey& fk : t.foreign_keys) {
        auto it = by_name.find(ascii_lower(fk.referenced_table));
        if (it == by_name.end()) continue;
        fk.referenced_table = it->second->name;
        for (std::string& column : fk.referenced_columns) column = stored_column(*it->second, column);
      }
      std::sort(t.foreign_keys.begin(), t.foreign_keys.end(), [](const ForeignKey& a, const ForeignKey& b) {
        return std::tie(a.name, a.columns, a.referenced_table, a.referenced_columns) <
               std::tie(b.name, b.columns, b.referenced_table, b.referenced_columns);
      });
    }
  }

  // Indexes made by CREATE INDEX (those backing a PRIMARY KEY or UNIQUE
  // clause have no sql), with their keys, on the tables in the model.
  void read_indexes() {
    std::map<std::string, std::vector<IndexKeyFacts>> keys;
    for (const Row& r : c_.query("SELECT m.name, p.cid, p.name, p.\"desc\" FROM main.sqlite_master m, "
                                 "pragma_index_xinfo(m.name, 'main') p "
                                 "WHERE m.type = 'index' AND m.sql IS NOT NULL AND p.key = 1 "
                                 "ORDER BY m.name, p.seqno")
                            .rows) {
      keys[r.get<std::string>(0)].push_back(IndexKeyFacts{.cid = r.get<std::int64_t>(1),
                                                          .name = r.get<std::optional<std::string>>(2).value_or(""),
                                                          .desc = r.get<std::int64_t>(3) != 0});
    }
    std::map<std::string, Table*> by_name;  // lower-cased
    for (Table& t : schema_.tables) by_name[ascii_lower(t.name)] = &t;
    for (const Row& r : objects_.rows) {
      if (r.get<std::string>(0) != "index") continue;
      const auto name = r.get<std::string>(1);
      const auto table = r.get<std::string>(2);
      auto it = by_name.find(ascii_lower(table));
      if (starts_with_ci(name, "sqlite_") || it == by_name.end()) continue;
      it->second->indexes.push_back(assemble_index(name, table, r.get<std::string>(3), keys[name]));
    }
    for (Table& t : schema_.tables) sort_by_name(t.indexes);
  }

  void read_triggers() {
    for (const Row& r : objects_.rows) {
      if (r.get<std::string>(0) != "trigger" || left_out_.contains(ascii_lower(r.get<std::string>(2)))) continue;
      Trigger& t = schema_.triggers.emplace_back();
      t.name = r.get<std::string>(1);
      t.table = r.get<std::string>(2);
      t.definition = r.get<std::string>(3);
    }
  }

  // What each view reads: the words of its statement that name a table,
  // view or virtual table in the model (other than itself).
  void link_views() {
    for (View& v : schema_.views) {
      for (const std::string& word : sqlite_words(v.definition)) {
        auto it = relations_.find(word);
        if (it != relations_.end() && it->second != v.name) v.depends_on.push_back(it->second);
      }
      std::sort(v.depends_on.begin(), v.depends_on.end());
    }
  }

  Connection& c_;
  const InspectOptions& options_;
  Schema schema_;
  ResultSet objects_;                           // sqlite_master: type, name, tbl_name, sql
  std::map<std::string, TableFacts> tables_;    // ordinary tables in the model, by name
  std::map<std::string, std::string> relations_;  // lower-cased -> stored: tables, views, virtual tables
  std::set<std::string> left_out_;              // lower-cased names of what is not in the model
};

}  // namespace

Schema inspect_sqlite(Connection& connection, const InspectOptions& options) {
  return Reader(connection, options).read();
}

}  // namespace strata::schema::detail
