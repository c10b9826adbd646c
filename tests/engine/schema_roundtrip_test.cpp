// The round trip of the schema differ, on both engines from one test body:
// for generated pairs of schemas (A, B), applying diff(A -> B) to A gives a
// database whose inspected schema equals B's, diff(B -> B) is empty, and
// B -> empty -> B comes back (B of one pair is drawn exactly as A of the
// next, so this is the A -> empty -> A of the property).
//
// The generator (fixed seed) draws from small pools of table, column and
// index names so that A and B overlap: a column of one (table, name) keeps
// its type family in both, and its type, nullability, default, checks,
// uniques, indexes (plain, unique, descending, partial, expression), views,
// triggers and (PostgreSQL) sequences vary. Every supported column type of
// the engine appears. Pairs run on scratch databases of one dev database
// (strata/schema/load.hpp): a schema per scratch on PostgreSQL, a memory
// database on SQLite: each B is built on a fresh scratch, and the diffs run
// on one scratch that goes A -> B -> empty -> B, the next pair's A.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "strata/error.hpp"
#include "strata/schema/diff.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/schema/load.hpp"
#include "strata/transaction.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using schema::Diff;
using schema::Schema;

constexpr int kPairs = 200;
constexpr std::uint32_t kSeed = 20251203;
constexpr int kTables = 6;   // t0 .. t5
constexpr int kColumns = 6;  // c0 .. c5 per table

// Types that can replace each other in one column (ALTER COLUMN TYPE has a
// cast between them), per engine. A column's group is fixed by its name.
struct TypeGroup {
  std::vector<std::string> types;
  std::vector<std::string> defaults;  // literal default expressions that fit every type of the group
  bool text = false;     // lower(c) makes an expression index
  bool ordered = false;  // c >= 0 makes a check
};

std::vector<TypeGroup> type_groups(Engine e) {
  if (e == Engine::sqlite) {
    return {
        {{"INTEGER", "BIGINT", "SMALLINT"}, {"0", "7"}, false, true},
        {{"TEXT", "VARCHAR(20)", "VARCHAR(40)"}, {"'x'", "''"}, true, false},
        {{"REAL", "DOUBLE PRECISION"}, {"0.5"}, false, true},
        {{"NUMERIC(10,2)", "DECIMAL(12,4)"}, {"1.5"}, false, true},
        {{"BOOLEAN"}, {"0", "1"}, false, false},
        {{"BLOB"}, {}, false, false},
        {{"DATE"}, {"CURRENT_DATE"}, false, false},
        {{"DATETIME", "TIMESTAMP", "TIMESTAMPTZ"}, {"CURRENT_TIMESTAMP"}, false, false},
        {{"TIME"}, {"CURRENT_TIME"}, false, false},
        {{"UUID"}, {}, false, false},
        {{"JSON", "JSONB"}, {"'{}'"}, false, false},
        {{""}, {}, false, false},  // no declared type
    };
  }
  return {
      {{"integer", "bigint", "smallint"}, {"0", "7"}, false, true},
      {{"text", "varchar(20)", "varchar(40)", "char(3)"}, {"'x'", "''"}, true, false},
      {{"real", "double precision"}, {"0.5"}, false, true},
      {{"numeric(10,2)", "numeric(12,4)", "numeric"}, {"1.5"}, false, true},
      {{"boolean"}, {"true", "false"}, false, false},
      {{"bytea"}, {}, false, false},
      {{"date"}, {"CURRENT_DATE"}, false, false},
      {{"timestamp", "timestamptz"}, {"CURRENT_TIMESTAMP", "now()"}, false, false},
      {{"time", "timetz"}, {}, false, false},
      {{"interval"}, {"'1 day'"}, false, false},
      {{"uuid"}, {}, false, false},
      {{"json"}, {"'{}'"}, false, false},
      {{"jsonb"}, {"'{}'"}, false, false},
      {{"integer[]", "bigint[]"}, {}, false, false},
      {{"text[]"}, {}, false, false},
  };
}

struct ColumnSpec {
  std::string name;
  std::string type;
  bool not_null = false;
  std::optional<std::string> default_value;
  bool check = false;
  bool unique = false;
  const TypeGroup* group = nullptr;
};

struct IndexSpec {
  std::string name;
  std::string column;
  bool unique = false;
  bool desc = false;
  bool partial = false;
  bool expression = false;
};

struct TableSpec {
  std::string name;
  int number = 0;
  int id_kind = 0;  // SQLite: 0 INTEGER PK, 1 AUTOINCREMENT; PG: 0 integer, 1 identity, 2 serial
  std::vector<ColumnSpec> columns;
  std::optional<int> references;  // t<n>_id REFERENCES t<n> (id)
  int on_delete = 0;              // 0 no action, 1 cascade, 2 set null
  std::vector<IndexSpec> indexes;
  std::optional<int> trigger;  // variant
  std::optional<int> view;     // variant
};

struct SchemaSpec {
  std::vector<TableSpec> tables;
  std::vector<std::pair<int, int>> sequences;  // (number, variant)
};

std::uint32_t mix(std::uint32_t a, std::uint32_t b) {
  std::uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u + (a << 6) + (a >> 2));
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  return h;
}

class Generator {
 public:
  Generator(Engine engine, std::uint32_t seed) : engine_(engine), groups_(type_groups(engine)), rng_(seed) {}

  SchemaSpec draw() {
    SchemaSpec s;
    for (int t = 0; t < kTables; ++t) {
      if (!chance(0.55)) continue;
      TableSpec table;
      table.number = t;
      table.name = fmt::format("t{}", t);
      // Stable per table name: the kind of key, which every pair shares.
      table.id_kind = static_cast<int>(mix(t, 1) % (engine_ == Engine::sqlite ? 2 : 3));
      for (int c = 0; c < kColumns; ++c) {
        if (!chance(0.5)) continue;
        ColumnSpec col;
        col.name = fmt::format("c{}", c);
        col.group = &groups_[mix(t * 31 + c, 2) % groups_.size()];
        col.type = pick(col.group->types);
        col.not_null = chance(0.3);
        if (!col.group->defaults.empty() && chance(0.4)) col.default_value = pick(col.group->defaults);
        if (col.not_null && !col.default_value && !col.group->defaults.empty()) col.default_value = col.group->defaults[0];
        col.check = col.group->ordered && chance(0.3);
        col.unique = uniqueable(*col.group) && chance(0.15);
        table.columns.push_back(std::move(col));
      }
      std::vector<int> earlier;
      for (const auto& other : s.tables) earlier.push_back(other.number);
      if (!earlier.empty() && chance(0.5)) {
        table.references = pick(earlier);
        table.on_delete = static_cast<int>(rng_() % 3);
      }
      for (const auto& col : table.columns) {
        if (!indexable(*col.group) || !chance(0.35)) continue;
        IndexSpec ix;
        ix.column = col.name;
        ix.name = fmt::format("{}_{}_idx", table.name, col.name);
        ix.unique = chance(0.2);
        ix.desc = chance(0.25);
        ix.partial = chance(0.3);
        ix.expression = col.group->text && chance(0.4);
        table.indexes.push_back(ix);
      }
      if (chance(0.25)) table.trigger = static_cast<int>(rng_() % 2);
      if (chance(0.3)) table.view = static_cast<int>(rng_() % 2);
      s.tables.push_back(std::move(table));
    }
    if (engine_ == Engine::postgres) {
      for (int q = 0; q < 3; ++q) {
        if (chance(0.4)) s.sequences.emplace_back(q, static_cast<int>(rng_() % 3));
      }
    }
    return s;
  }

 private:
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }
  // btree-indexable and comparable with =: not json (PG), not arrays of text here.
  bool indexable(const TypeGroup& g) const {
    if (engine_ == Engine::sqlite) return true;
    const std::string& t = g.types.front();
    return t != "json";
  }
  bool uniqueable(const TypeGroup& g) const { return indexable(g) && g.types.front() != "jsonb"; }

  Engine engine_;
  std::vector<TypeGroup> groups_;
  std::mt19937 rng_;
};

std::string render(const SchemaSpec& s, Engine e) {
  const bool pg = e == Engine::postgres;
  std::ostringstream out;
  bool any_trigger = false;
  for (const auto& t : s.tables) any_trigger = any_trigger || t.trigger.has_value();
  if (pg && any_trigger) {
    out << "CREATE FUNCTION rt_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NEW;\nEND\n$$;\n";
  }
  for (const auto& [q, variant] : s.sequences) {
    out << fmt::format("CREATE SEQUENCE s{} START {} INCREMENT {}{};\n", q, variant == 1 ? 10 : 1,
                       variant == 2 ? 5 : 1, variant == 2 ? " CYCLE MAXVALUE 1000" : "");
  }
  for (const auto& t : s.tables) {
    out << "CREATE TABLE " << t.name << " (\n";
    if (!pg) {
      out << (t.id_kind == 1 ? "  id INTEGER PRIMARY KEY AUTOINCREMENT" : "  id INTEGER PRIMARY KEY");
    } else {
      out << (t.id_kind == 1   ? "  id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
              : t.id_kind == 2 ? "  id serial PRIMARY KEY"
                               : "  id integer PRIMARY KEY");
    }
    for (const auto& c : t.columns) {
      out << ",\n  " << c.name;
      if (!c.type.empty()) out << " " << c.type;
      if (c.not_null) out << " NOT NULL";
      if (c.default_value) out << " DEFAULT " << *c.default_value;
    }
    if (t.references) {
      static const char* actions[] = {"", " ON DELETE CASCADE", " ON DELETE SET NULL"};
      out << fmt::format(",\n  t{0}_id INTEGER REFERENCES t{0} (id){1}", *t.references, actions[t.on_delete]);
    }
    for (const auto& c : t.columns) {
      if (c.check) out << fmt::format(",\n  CHECK ({} >= 0)", c.name);
      if (c.unique) out << fmt::format(",\n  UNIQUE ({})", c.name);
    }
    out << "\n);\n";
    for (const auto& ix : t.indexes) {
      std::string key = ix.expression ? fmt::format("lower({})", ix.column) : ix.column;
      out << fmt::format("CREATE {}INDEX {} ON {} ({}{}){};\n", ix.unique ? "UNIQUE " : "", ix.name, t.name, key,
                         ix.desc ? " DESC" : "", ix.partial ? fmt::format(" WHERE {} IS NOT NULL", ix.column) : "");
    }
    if (t.trigger) {
      const char* event = *t.trigger == 0 ? "INSERT" : "UPDATE";
      if (pg) {
        out << fmt::format("CREATE TRIGGER {0}_trg BEFORE {1} ON {0} FOR EACH ROW EXECUTE FUNCTION rt_touch();\n",
                           t.name, event);
      } else {
        out << fmt::format("CREATE TRIGGER {0}_trg AFTER {1} ON {0} BEGIN\n  SELECT NEW.id;\nEND;\n", t.name, event);
      }
    }
    if (t.view) {
      std::string columns = "id";
      if (*t.view == 1) {
        for (const auto& c : t.columns) columns += ", " + c.name;
      }
      out << fmt::format("CREATE VIEW {0}_v AS SELECT {1} FROM {0} WHERE id > {2};\n", t.name, columns,
                         *t.view == 0 ? 0 : 10);
    }
  }
  return out.str();
}

// Runs every statement of a diff as the migrator would run the file: in one
// transaction, on SQLite with foreign keys off around it when it rebuilds.
// Returns the failing statement and the error, or "" when all ran.
std::string apply(Connection& c, const Diff& d) {
  const bool fk_off = d.engine == Engine::sqlite && d.foreign_keys_off;
  if (fk_off) c.execute("PRAGMA foreign_keys = OFF");
  std::string failure;
  try {
    Transaction t(c);
    for (const auto& change : d.changes) {
      for (const auto& statement : change.statements) {
        try {
          c.execute(statement);
        } catch (const Error& e) {
          failure = fmt::format("{} failed: {}", statement, e.what());
          throw;
        }
      }
    }
    if (fk_off && !c.fetch("PRAGMA foreign_key_check").empty()) failure = "foreign_key_check reports violations";
    if (failure.empty()) t.commit();
  } catch (const Error& e) {
    if (failure.empty()) failure = e.what();
  }
  if (fk_off) c.execute("PRAGMA foreign_keys = ON");
  return failure;
}

// What differs between two schemas the model says are unequal, for a
// readable failure: the names of unequal objects, and what the differ makes
// of the pair.
std::string explain(const Schema& actual, const Schema& expected) {
  std::string out;
  for (const auto& t : expected.tables) {
    const auto* a = actual.find_table(t.name);
    if (a == nullptr) out += "missing table " + t.name + "\n";
    else if (!(*a == t)) out += "table " + t.name + " differs\n";
  }
  for (const auto& t : actual.tables) {
    if (expected.find_table(t.name) == nullptr) out += "extra table " + t.name + "\n";
  }
  if (!(actual.views == expected.views)) out += "views differ\n";
  if (!(actual.triggers == expected.triggers)) out += "triggers differ\n";
  if (!(actual.sequences == expected.sequences)) out += "sequences differ\n";
  if (!(actual.functions == expected.functions)) out += "functions differ\n";
  try {
    Diff rest = schema::diff(actual, expected);
    out += "diff(actual -> expected):\n" + rest.sql();
    for (const auto& u : rest.unsupported) out += "unsupported: " + u + "\n";
  } catch (const Error& e) {
    out += std::string("diff failed: ") + e.what();
  }
  return out;
}

class SchemaRoundTrip : public test::EngineTest {};

TEST_P(SchemaRoundTrip, DiffOfGeneratedPairsRoundTrips) {
  // The test database is empty: it serves as the dev database of both, with
  // one throwaway schema per scratch on PostgreSQL. `loader` builds each B
  // from its SQL; `held` is the database the diffs run on: it holds A, is
  // taken to B, to empty and back to B, which is the next pair's A.
  const std::string dev_url = engine() == Engine::postgres ? db().url() : "";
  schema::DevDatabase loader(engine(), dev_url);
  schema::DevDatabase work(engine(), dev_url);
  Generator generator(engine(), kSeed);
  Schema empty;
  empty.engine = engine();
  int failures = 0;
  std::size_t applied_changes = 0;  // so a differ that finds nothing cannot pass

  std::string a_sql = render(generator.draw(), engine());
  std::optional<schema::DevDatabase::Scratch> held;
  Schema a;
  // Starts `held` afresh from SQL (at the start, and after a failure left
  // it in an unknown state).
  auto reset = [&](const std::string& sql) {
    held.reset();
    held.emplace(work.scratch());
    held->connection().execute_script(sql);
    a = held->inspect();
  };
  auto fail = [&](int pair, const std::string& what, const std::string& b_sql) {
    ++failures;
    ADD_FAILURE() << "pair " << pair << ": " << what << "\n-- A:\n" << a_sql << "\n-- B:\n" << b_sql;
  };
  ASSERT_NO_THROW(reset(a_sql));

  for (int pair = 0; pair < kPairs && failures < 5; ++pair) {
    const std::string b_sql = render(generator.draw(), engine());
    Schema b;
    try {
      auto scratch = loader.scratch();
      scratch.connection().execute_script(b_sql);
      b = scratch.inspect();
    } catch (const Error& e) {
      fail(pair, std::string("the generated B does not load: ") + e.what(), b_sql);
      continue;
    }
    bool ok = false;
    [&] {
      Diff same = schema::diff(b, b);
      if (!same.empty()) return fail(pair, "diff(B -> B) is not empty:\n" + same.sql(), b_sql);

      // A -> B.
      Diff forward = schema::diff(a, b);
      if (!forward.unsupported.empty()) {
        std::string list;
        for (const auto& u : forward.unsupported) list += "\n  " + u;
        return fail(pair, "diff(A -> B) cannot express:" + list, b_sql);
      }
      if (auto f = apply(held->connection(), forward); !f.empty()) {
        return fail(pair, "A -> B: " + f + "\n" + forward.sql(), b_sql);
      }
      applied_changes += forward.changes.size();
      Schema reached = held->inspect();
      if (!(reached == b)) {
        return fail(pair, "A -> B gives another schema:\n" + explain(reached, b) + "\n-- the diff was:\n" +
                              forward.sql(), b_sql);
      }

      // B -> empty -> B (the next pair's A -> empty -> A).
      Diff drop = schema::diff(b, empty);
      if (auto f = apply(held->connection(), drop); !f.empty()) {
        return fail(pair, "B -> empty: " + f + "\n" + drop.sql(), b_sql);
      }
      Schema dropped = held->inspect();
      if (!(dropped == empty)) return fail(pair, "B -> empty left:\n" + explain(dropped, empty), b_sql);
      Diff create = schema::diff(empty, b);
      if (auto f = apply(held->connection(), create); !f.empty()) {
        return fail(pair, "empty -> B: " + f + "\n" + create.sql(), b_sql);
      }
      Schema rebuilt = held->inspect();
      if (!(rebuilt == b)) return fail(pair, "empty -> B gives another schema:\n" + explain(rebuilt, b), b_sql);
      ok = true;
    }();
    a_sql = b_sql;
    if (ok) {
      a = std::move(b);
    } else {
      reset(b_sql);
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(applied_changes, static_cast<std::size_t>(kPairs) * 3);
}

STRATA_INSTANTIATE_ENGINES(SchemaRoundTrip);

}  // namespace
}  // namespace strata

