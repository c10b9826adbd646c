// strata::schema::inspect() on both engines, and the SQLite reader's
// details. The shared tests create objects with SQL both engines accept and
// check the model, with engine-specific expectations where the engines
// spell things differently (types, defaults, expressions). The SQLite-only
// tests cover what only SQLite has or what only its reader must dig out of
// the CREATE text (unnamed constraints, AUTOINCREMENT, WITHOUT ROWID, STRICT,
// COLLATE, virtual tables, ...).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "strata/connection.hpp"
#include "strata/migrator.hpp"
#include "strata/schema/dump.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/source.hpp"
#include "strata/transaction.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
using schema::Column;
using schema::GeneratedKind;
using schema::inspect;
using schema::InspectOptions;
using schema::ReferentialAction;
using schema::Schema;
using schema::SortOrder;
using schema::Table;
using schema::TypeFamily;
using test::write_file;

template <class T>
std::vector<std::string> names(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const T& item : items) out.push_back(item.name);
  return out;
}

std::string opt(const std::optional<std::string>& s) { return s ? "'" + *s + "'" : "none"; }

// Every compared field of a Schema, one line per object, so that a failed
// comparison shows where two schemas differ.
std::string render(const Schema& s) {
  std::ostringstream o;
  for (const Table& t : s.tables) {
    o << "table " << t.name << (t.without_rowid ? " without_rowid" : "") << (t.strict ? " strict" : "") << "\n";
    for (const Column& c : t.columns) {
      o << "  column " << c.name << " type=" << c.type.raw << "/" << schema::to_string(c.type.family)
        << " nullable=" << c.nullable << " default=" << opt(c.default_value) << " collation=" << c.collation
        << " generated=" << static_cast<int>(c.generated) << ":" << c.generated_expression
        << " identity=" << static_cast<int>(c.identity) << "\n";
    }
    if (t.primary_key) {
      o << "  pk " << t.primary_key->name << " (";
      for (const auto& c : t.primary_key->columns) o << c << ",";
      o << ") autoincrement=" << t.primary_key->autoincrement << "\n";
    }
    for (const auto& u : t.uniques) {
      o << "  unique " << u.name << " (";
      for (const auto& c : u.columns) o << c << ",";
      o << ")\n";
    }
    for (const auto& ch : t.checks) o << "  check " << ch.name << " " << ch.expression << "\n";
    for (const auto& fk : t.foreign_keys) {
      o << "  fk " << fk.name << " (";
      for (const auto& c : fk.columns) o << c << ",";
      o << ") -> " << fk.referenced_table << " (";
      for (const auto& c : fk.referenced_columns) o << c << ",";
      o << ") del=" << to_sql(fk.on_delete) << " upd=" << to_sql(fk.on_update) << " deferrable=" << fk.deferrable
        << "/" << fk.initially_deferred << "\n";
    }
    for (const auto& i : t.indexes) {
      o << "  index " << i.name << " on " << i.table << " unique=" << i.unique << " (";
      for (const auto& k : i.keys) {
        o << (k.column.empty() ? "expr:" + k.expression : k.column) << (k.order == SortOrder::desc ? " desc" : "")
          << (k.collation.empty() ? "" : " collate " + k.collation) << ",";
      }
      o << ") where " << opt(i.predicate) << "\n";
    }
  }
  for (const auto& v : s.views) o << "view " << v.name << ": " << v.definition << "\n";
  for (const auto& t : s.triggers) o << "trigger " << t.name << " on " << t.table << "\n";
  for (const auto& v : s.virtual_tables) o << "virtual " << v.name << ": " << v.definition << "\n";
  return o.str();
}

#define EXPECT_SAME_SCHEMA(a, b)            \
  do {                                      \
    EXPECT_EQ(render(a), render(b));        \
    EXPECT_TRUE((a) == (b)) << render(a);   \
  } while (false)

class InspectTest : public test::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    c_ = db().connect();
  }
  void TearDown() override {
    c_.reset();
    EngineTest::TearDown();
  }
  bool on_sqlite() const { return engine() == Engine::sqlite; }
  void run(Connection& c, const std::string& sql) {
    Transaction t(c);
    c.execute_script(sql);
    t.commit();
  }
  // Runs `sql` on the test database and inspects it.
  Schema load(const std::string& sql, const InspectOptions& options = {}) {
    run(*c_, sql);
    Schema s = inspect(*c_, options);
    if (on_sqlite()) check_defaults(s);
    return s;
  }
  // SQLite: every default the reader took from the CREATE text is the one
  // PRAGMA table_xinfo reports, but for the outer parentheses the pragma
  // drops.
  void check_defaults(const Schema& s) {
    for (const Table& t : s.tables) {
      for (const Column& c : t.columns) {
        auto pragma = c_->fetch_value<std::optional<std::string>>(
            "SELECT dflt_value FROM pragma_table_xinfo($1) WHERE name = $2", {Value(t.name), Value(c.name)});
        std::optional<std::string> ours = c.default_value;
        if (ours && ours->size() >= 2 && ours->front() == '(' && ours->back() == ')') {
          ours = ours->substr(1, ours->size() - 2);
        }
        EXPECT_EQ(ours, pragma) << t.name << "." << c.name;
      }
    }
  }
  const Table& table(const Schema& s, std::string_view name) {
    const Table* t = s.find_table(name);
    if (t == nullptr) {
      ADD_FAILURE() << "no table " << name << " in\n" << render(s);
      static const Table empty;
      return empty;
    }
    return *t;
  }
  std::unique_ptr<Connection> c_;
};

// --- Both engines ---------------------------------------------------------

TEST_P(InspectTest, EmptyDatabase) {
  Schema s = inspect(*c_);
  EXPECT_EQ(s.engine, engine());
  EXPECT_EQ(s.name, on_sqlite() ? "main" : "public");
  EXPECT_TRUE(s.tables.empty()) << render(s);
  EXPECT_TRUE(s.views.empty());
  EXPECT_TRUE(s.triggers.empty());
}

TEST_P(InspectTest, TablesColumnsAndConstraints) {
  Schema s = load(R"(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email VARCHAR(200) NOT NULL,
  name TEXT DEFAULT 'anon',
  score NUMERIC(10,2),
  age INTEGER,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  CONSTRAINT users_email_key UNIQUE (email),
  CONSTRAINT users_age_check CHECK (age >= 0)
);
CREATE TABLE posts (
  id INTEGER NOT NULL,
  author_id INTEGER NOT NULL,
  editor_id INTEGER,
  title TEXT NOT NULL,
  CONSTRAINT posts_pkey PRIMARY KEY (id),
  CONSTRAINT posts_author_fkey FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE RESTRICT,
  CONSTRAINT posts_editor_fkey FOREIGN KEY (editor_id) REFERENCES users (id) ON DELETE SET NULL
);)");
  EXPECT_EQ(names(s.tables), (std::vector<std::string>{"posts", "users"}));
  const Table& users = table(s, "users");
  EXPECT_EQ(names(users.columns), (std::vector<std::string>{"id", "email", "name", "score", "age", "active"}));

  const Column& email = *users.find_column("email");
  EXPECT_EQ(email.type.raw, on_sqlite() ? "VARCHAR(200)" : "character varying(200)");
  EXPECT_EQ(email.type.family, TypeFamily::text);
  EXPECT_FALSE(email.nullable);
  EXPECT_FALSE(email.default_value);
  const Column& name = *users.find_column("name");
  EXPECT_TRUE(name.nullable);
  EXPECT_EQ(name.default_value, on_sqlite() ? "'anon'" : "'anon'::text");
  EXPECT_EQ(users.find_column("score")->type.raw, on_sqlite() ? "NUMERIC(10,2)" : "numeric(10,2)");
  EXPECT_EQ(users.find_column("score")->type.family, TypeFamily::numeric);
  EXPECT_EQ(users.find_column("id")->type.family, TypeFamily::integer);
  EXPECT_FALSE(users.find_column("id")->nullable) << "a primary key column holds no NULL";
  EXPECT_EQ(users.find_column("active")->type.family, TypeFamily::boolean);
  EXPECT_EQ(users.find_column("active")->default_value, on_sqlite() ? "TRUE" : "true");

  ASSERT_TRUE(users.primary_key);
  EXPECT_EQ(users.primary_key->columns, (std::vector<std::string>{"id"}));
  EXPECT_EQ(users.primary_key->name, on_sqlite() ? "" : "users_pkey");
  EXPECT_FALSE(users.primary_key->autoincrement);
  ASSERT_EQ(users.uniques.size(), 1u) << render(s);
  EXPECT_EQ(users.uniques[0].name, "users_email_key");
  EXPECT_EQ(users.uniques[0].columns, (std::vector<std::string>{"email"}));
  ASSERT_EQ(users.checks.size(), 1u) << render(s);
  EXPECT_EQ(users.checks[0].name, "users_age_check");
  if (on_sqlite()) {
    EXPECT_EQ(users.checks[0].expression, "age >= 0");
  } else {
    EXPECT_NE(users.checks[0].expression.find("age >= 0"), std::string::npos) << users.checks[0].expression;
  }
  EXPECT_TRUE(users.indexes.empty()) << "indexes backing constraints are not listed:\n" << render(s);

  const Table& posts = table(s, "posts");
  ASSERT_TRUE(posts.primary_key);
  EXPECT_EQ(posts.primary_key->name, "posts_pkey");
  ASSERT_EQ(posts.foreign_keys.size(), 2u) << render(s);
  const auto& author = posts.foreign_keys[0];
  EXPECT_EQ(author.name, "posts_author_fkey");
  EXPECT_EQ(author.columns, (std::vector<std::string>{"author_id"}));
  EXPECT_EQ(author.referenced_table, "users");
  EXPECT_EQ(author.referenced_columns, (std::vector<std::string>{"id"}));
  EXPECT_EQ(author.on_delete, ReferentialAction::cascade);
  EXPECT_EQ(author.on_update, ReferentialAction::restrict);
  EXPECT_FALSE(author.deferrable);
  const auto& editor = posts.foreign_keys[1];
  EXPECT_EQ(editor.name, "posts_editor_fkey");
  EXPECT_EQ(editor.on_delete, ReferentialAction::set_null);
  EXPECT_EQ(editor.on_update, ReferentialAction::no_action);
}

TEST_P(InspectTest, IndexesUniqueDescPartialAndExpression) {
  Schema s = load(R"(
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER);
CREATE UNIQUE INDEX items_name ON items (name);
CREATE INDEX items_price_desc ON items (price DESC, id);
CREATE INDEX items_lower_name ON items (lower(name)) WHERE price > 0;)");
  const Table& items = table(s, "items");
  ASSERT_EQ(names(items.indexes), (std::vector<std::string>{"items_lower_name", "items_name", "items_price_desc"}));
  const auto& lower = items.indexes[0];
  EXPECT_EQ(lower.table, "items");
  EXPECT_FALSE(lower.unique);
  ASSERT_EQ(lower.keys.size(), 1u);
  EXPECT_EQ(lower.keys[0].column, "");
  EXPECT_EQ(lower.keys[0].expression, "lower(name)");
  ASSERT_TRUE(lower.predicate);
  if (on_sqlite()) {
    EXPECT_EQ(*lower.predicate, "price > 0");
  } else {
    EXPECT_NE(lower.predicate->find("price > 0"), std::string::npos) << *lower.predicate;
  }
  EXPECT_NE(lower.definition.find("CREATE INDEX"), std::string::npos) << lower.definition;

  const auto& unique = items.indexes[1];
  EXPECT_TRUE(unique.unique);
  ASSERT_EQ(unique.keys.size(), 1u);
  EXPECT_EQ(unique.keys[0].column, "name");
  EXPECT_FALSE(unique.predicate);

  const auto& desc = items.indexes[2];
  ASSERT_EQ(desc.keys.size(), 2u);
  EXPECT_EQ(desc.keys[0].column, "price");
  EXPECT_EQ(desc.keys[0].order, SortOrder::desc);
  EXPECT_EQ(desc.keys[1].column, "id");
  EXPECT_EQ(desc.keys[1].order, SortOrder::asc);
  EXPECT_EQ(desc.method, "btree");
}

TEST_P(InspectTest, ViewsAndWhatTheyRead) {
  Schema s = load(R"(
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price INTEGER);
CREATE TABLE other (id INTEGER PRIMARY KEY);
CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10;
CREATE VIEW cheap_names AS SELECT name FROM cheap_items;)");
  ASSERT_EQ(names(s.views), (std::vector<std::string>{"cheap_items", "cheap_names"}));
  EXPECT_EQ(s.views[0].depends_on, (std::vector<std::string>{"items"}));
  EXPECT_EQ(s.views[1].depends_on, (std::vector<std::string>{"cheap_items"}));
  EXPECT_FALSE(s.views[0].materialized);
  EXPECT_NE(s.views[0].definition.find("price < 10"), std::string::npos) << s.views[0].definition;
  if (on_sqlite()) {
    EXPECT_EQ(s.views[0].definition, "CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10");
  }
}

TEST_P(InspectTest, NamesThatNeedQuotes) {
  Schema s = load(R"(
CREATE TABLE "odd ""name"" t" ("my col" INTEGER PRIMARY KEY, "x-y" TEXT NOT NULL, "Upper" INTEGER);
CREATE INDEX "idx ""q""" ON "odd ""name"" t" ("x-y");
CREATE TABLE "child's" (id INTEGER PRIMARY KEY, parent INTEGER,
  CONSTRAINT "fk ""to"" parent" FOREIGN KEY (parent) REFERENCES "odd ""name"" t" ("my col"));)");
  ASSERT_EQ(names(s.tables), (std::vector<std::string>{"child's", "odd \"name\" t"})) << render(s);
  const Table& t = table(s, "odd \"name\" t");
  EXPECT_EQ(names(t.columns), (std::vector<std::string>{"my col", "x-y", "Upper"}));
  EXPECT_FALSE(t.find_column("x-y")->nullable);
  ASSERT_TRUE(t.primary_key);
  EXPECT_EQ(t.primary_key->columns, (std::vector<std::string>{"my col"}));
  ASSERT_EQ(t.indexes.size(), 1u);
  EXPECT_EQ(t.indexes[0].name, "idx \"q\"");
  ASSERT_EQ(t.indexes[0].keys.size(), 1u);
  EXPECT_EQ(t.indexes[0].keys[0].column, "x-y");
  const Table& child = table(s, "child's");
  ASSERT_EQ(child.foreign_keys.size(), 1u);
  EXPECT_EQ(child.foreign_keys[0].name, "fk \"to\" parent");
  EXPECT_EQ(child.foreign_keys[0].referenced_table, "odd \"name\" t");
  EXPECT_EQ(child.foreign_keys[0].referenced_columns, (std::vector<std::string>{"my col"}));
}

TEST_P(InspectTest, StrataTablesAndExcludedTablesAreLeftOut) {
  const std::string sql = R"(
CREATE TABLE strata_migrations (version TEXT PRIMARY KEY);
CREATE TABLE strata_queue (id INTEGER PRIMARY KEY, job TEXT);
CREATE INDEX strata_queue_job ON strata_queue (job);
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);
CREATE INDEX items_name ON items (name);
CREATE TABLE keep (id INTEGER PRIMARY KEY);)";
  Schema plain = load(sql);
  EXPECT_EQ(names(plain.tables), (std::vector<std::string>{"items", "keep"}));

  InspectOptions all;
  all.include_strata_tables = true;
  Schema with = inspect(*c_, all);
  EXPECT_EQ(names(with.tables), (std::vector<std::string>{"items", "keep", "strata_migrations", "strata_queue"}));
  EXPECT_EQ(names(table(with, "strata_queue").indexes), (std::vector<std::string>{"strata_queue_job"}));

  InspectOptions some;
  some.exclude_tables = {"items"};
  Schema without = inspect(*c_, some);
  EXPECT_EQ(names(without.tables), (std::vector<std::string>{"keep"}));
}

// Two inspections agree, and the order objects were created in does not
// show in the model.
TEST_P(InspectTest, Deterministic) {
  const std::vector<std::string> statements = {
      "CREATE TABLE zeta (id INTEGER PRIMARY KEY, note TEXT, CONSTRAINT zeta_note UNIQUE (note))",  // 0
      "CREATE TABLE alpha (id INTEGER PRIMARY KEY, zeta_id INTEGER, other INTEGER,"
      " CONSTRAINT b_fk FOREIGN KEY (zeta_id) REFERENCES zeta (id),"
      " CONSTRAINT a_fk FOREIGN KEY (other) REFERENCES zeta (id),"
      " CONSTRAINT z_check CHECK (other > 0), CONSTRAINT a_check CHECK (other < 100))",  // 1
      "CREATE INDEX alpha_zeta ON alpha (zeta_id)",                                       // 2
      "CREATE VIEW v_zeta AS SELECT id, note FROM zeta",                                  // 3
      "CREATE VIEW a_view AS SELECT id FROM v_zeta",                                      // 4
      "CREATE TABLE middle (id INTEGER PRIMARY KEY)",                                     // 5
      "CREATE INDEX zeta_note_idx ON zeta (note)",                                        // 6
      "CREATE INDEX alpha_other ON alpha (other)",                                        // 7
  };
  auto script = [&](std::vector<int> order) {
    std::string sql;
    for (int i : order) sql += statements[static_cast<std::size_t>(i)] + ";\n";
    return sql;
  };
  Schema first = load(script({0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_SAME_SCHEMA(inspect(*c_), first);
  auto again = db().connect();
  EXPECT_SAME_SCHEMA(inspect(*again), first);

  EXPECT_EQ(names(first.tables), (std::vector<std::string>{"alpha", "middle", "zeta"}));
  EXPECT_EQ(names(first.views), (std::vector<std::string>{"a_view", "v_zeta"}));
  const Table& alpha = table(first, "alpha");
  EXPECT_EQ(names(alpha.indexes), (std::vector<std::string>{"alpha_other", "alpha_zeta"}));
  EXPECT_EQ(names(alpha.foreign_keys), (std::vector<std::string>{"a_fk", "b_fk"}));
  EXPECT_EQ(names(alpha.checks), (std::vector<std::string>{"a_check", "z_check"}));

  test::TestDatabase other(engine());
  auto o = other.connect();
  run(*o, script({5, 0, 6, 3, 4, 1, 7, 2}));
  EXPECT_SAME_SCHEMA(inspect(*o), first);
}

// A database restored from `strata dump` inspects the same as the original.
TEST_P(InspectTest, RestoredDumpInspectsTheSame) {
  const std::string sqlite = R"(
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT DEFAULT ('x' || 'y'),
  age INTEGER CHECK (age >= 0),
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  shout TEXT GENERATED ALWAYS AS (upper(name)) VIRTUAL
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  title TEXT NOT NULL,
  body TEXT,
  CONSTRAINT posts_title UNIQUE (author_id, title)
);
CREATE TABLE tags (post_id INTEGER NOT NULL REFERENCES posts (id), tag TEXT NOT NULL, PRIMARY KEY (post_id, tag))
  WITHOUT ROWID, STRICT;
CREATE INDEX posts_title_live ON posts (title DESC) WHERE body IS NOT NULL;
CREATE INDEX users_email_lower ON users (lower(email));
CREATE VIEW adult_users AS SELECT id, email FROM users WHERE age >= 18;
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
  INSERT INTO audit (what) VALUES ('user ' || NEW.email);
END;
ALTER TABLE posts RENAME COLUMN body TO content;
ALTER TABLE users ADD COLUMN bio TEXT DEFAULT '';)";
  const std::string postgres = R"(
CREATE TABLE users (
  id serial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text DEFAULT 'x' || 'y',
  age integer CHECK (age >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  shout text GENERATED ALWAYS AS (upper(name)) STORED
);
CREATE TABLE posts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  title text NOT NULL,
  body text,
  CONSTRAINT posts_title UNIQUE (author_id, title)
);
CREATE TABLE tags (post_id bigint NOT NULL REFERENCES posts (id), tag text NOT NULL, PRIMARY KEY (post_id, tag));
CREATE INDEX posts_title_live ON posts (title DESC) WHERE body IS NOT NULL;
CREATE INDEX users_email_lower ON users (lower(email));
CREATE VIEW adult_users AS SELECT id, email FROM users WHERE age >= 18;
CREATE TABLE audit (id bigserial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION audit_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (what) VALUES ('user ' || NEW.email);
  RETURN NEW;
END
$$;
CREATE TRIGGER users_audit AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION audit_user();
ALTER TABLE posts RENAME COLUMN body TO content;
ALTER TABLE users ADD COLUMN bio text DEFAULT '';)";
  Schema original = load(on_sqlite() ? sqlite : postgres);
  const std::string dump = schema::dump_schema(*c_);

  test::TestDatabase fresh(engine());
  write_file(fresh.dir() / "snapshot" / "0001_full.sql", dump);
  auto f = fresh.connect();
  Migrator(*f, load_directory(fresh.dir() / "snapshot", engine())).up();
  EXPECT_SAME_SCHEMA(inspect(*f), original);
  EXPECT_EQ(names(original.tables), (std::vector<std::string>{"audit", "posts", "tags", "users"}));
  EXPECT_EQ(names(original.triggers), (std::vector<std::string>{"users_audit"}));
  EXPECT_NE(table(original, "posts").find_column("content"), nullptr);
}

// --- SQLite only ----------------------------------------------------------

class InspectSqliteTest : public InspectTest {
 protected:
  void SetUp() override {
    InspectTest::SetUp();
    if (!on_sqlite()) GTEST_SKIP() << "SQLite-only behaviour";
  }
};

TEST_P(InspectSqliteTest, UnnamedChecksAndUniques) {
  Schema s = load(R"(
CREATE TABLE t (
  a INTEGER UNIQUE CHECK (a > 0),
  b TEXT CONSTRAINT b_short CHECK (length(b) < 10) UNIQUE,
  c TEXT,
  d TEXT,
  UNIQUE (c, d),
  CHECK (c <> d)
  CONSTRAINT named_u UNIQUE (d)
);)");
  const Table& t = table(s, "t");
  ASSERT_EQ(t.uniques.size(), 4u) << render(s);
  EXPECT_EQ(t.uniques[0].name, "");
  EXPECT_EQ(t.uniques[0].columns, (std::vector<std::string>{"a"}));
  EXPECT_EQ(t.uniques[1].columns, (std::vector<std::string>{"b"}));
  EXPECT_EQ(t.uniques[2].columns, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(t.uniques[3].name, "named_u");
  EXPECT_EQ(t.uniques[3].columns, (std::vector<std::string>{"d"}));
  ASSERT_EQ(t.checks.size(), 3u) << render(s);
  EXPECT_EQ(t.checks[0].name, "");
  EXPECT_EQ(t.checks[0].expression, "a > 0");
  EXPECT_EQ(t.checks[1].name, "");
  EXPECT_EQ(t.checks[1].expression, "c <> d");
  EXPECT_EQ(t.checks[2].name, "b_short");
  EXPECT_EQ(t.checks[2].expression, "length(b) < 10");
  EXPECT_FALSE(t.primary_key);
  EXPECT_TRUE(t.indexes.empty());
}

TEST_P(InspectSqliteTest, ColumnsAsWritten) {
  Schema s = load(R"(
CREATE TABLE t (
  id integer CONSTRAINT t_pk PRIMARY KEY ASC,
  a VARCHAR ( 20 ) NOT NULL DEFAULT 'it''s',
  b "my type" DEFAULT (1 +  2),
  c DEFAULT -1,
  d DOUBLE PRECISION DEFAULT CURRENT_TIMESTAMP NOT NULL,
  e BLOB DEFAULT x'00ff' NULL,
  f REAL DEFAULT 1.5e-3,
  g DATETIME DEFAULT NULL,
  h JSON, i UUID, j TIMESTAMPTZ, k BOOL
);)");
  const Table& t = table(s, "t");
  auto col = [&](const char* name) { return *t.find_column(name); };
  EXPECT_EQ(col("id").type.raw, "INTEGER") << "SQLite spells its standard type names in upper case";
  EXPECT_FALSE(col("id").nullable);
  ASSERT_TRUE(t.primary_key);
  EXPECT_EQ(t.primary_key->name, "t_pk");
  EXPECT_EQ(col("a").type.raw, "VARCHAR ( 20 )");
  EXPECT_EQ(col("a").type.family, TypeFamily::text);
  EXPECT_EQ(col("a").default_value, "'it''s'");
  EXPECT_FALSE(col("a").nullable);
  EXPECT_EQ(col("b").type.raw, "my type");
  EXPECT_EQ(col("b").default_value, "(1 +  2)") << "the parentheses DEFAULT needs are kept";
  EXPECT_EQ(col("c").type.raw, "");
  EXPECT_EQ(col("c").type.family, TypeFamily::binary);
  EXPECT_EQ(col("c").default_value, "-1");
  EXPECT_EQ(col("d").type.family, TypeFamily::floating);
  EXPECT_EQ(col("d").default_value, "CURRENT_TIMESTAMP");
  EXPECT_FALSE(col("d").nullable);
  EXPECT_EQ(col("e").default_value, "x'00ff'");
  EXPECT_TRUE(col("e").nullable);
  EXPECT_EQ(col("f").default_value, "1.5e-3");
  EXPECT_EQ(col("g").default_value, "NULL");
  EXPECT_EQ(col("g").type.family, TypeFamily::timestamp);
  EXPECT_EQ(col("h").type.family, TypeFamily::json);
  EXPECT_EQ(col("i").type.family, TypeFamily::uuid);
  EXPECT_EQ(col("j").type.family, TypeFamily::timestamptz);
  EXPECT_EQ(col("k").type.family, TypeFamily::boolean);
  EXPECT_EQ(t.definition.rfind("CREATE TABLE t (", 0), 0u) << t.definition;
}

TEST_P(InspectSqliteTest, PrimaryKeysAndAutoincrement) {
  Schema s = load(R"(
CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
CREATE TABLE b (x TEXT, y INTEGER, CONSTRAINT b_key PRIMARY KEY (y, x));
CREATE TABLE c (id INTEGER, PRIMARY KEY (id AUTOINCREMENT));
CREATE TABLE d (code TEXT PRIMARY KEY);
CREATE TABLE e (id INTEGER PRIMARY KEY);)");
  ASSERT_TRUE(table(s, "a").primary_key);
  EXPECT_TRUE(table(s, "a").primary_key->autoincrement);
  EXPECT_EQ(table(s, "a").primary_key->name, "");
  EXPECT_FALSE(table(s, "a").find_column("id")->nullable);
  const Table& b = table(s, "b");
  ASSERT_TRUE(b.primary_key);
  EXPECT_EQ(b.primary_key->name, "b_key");
  EXPECT_EQ(b.primary_key->columns, (std::vector<std::string>{"y", "x"})) << "key order, not table order";
  EXPECT_FALSE(b.primary_key->autoincrement);
  EXPECT_TRUE(b.find_column("x")->nullable) << "SQLite lets a rowid table's primary key hold NULL";
  EXPECT_TRUE(table(s, "c").primary_key->autoincrement);
  EXPECT_TRUE(table(s, "d").find_column("code")->nullable);
  EXPECT_FALSE(table(s, "e").primary_key->autoincrement);
  EXPECT_TRUE(s.find_table("sqlite_sequence") == nullptr);
}

TEST_P(InspectSqliteTest, WithoutRowidAndStrict) {
  Schema s = load(R"(
CREATE TABLE w (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
CREATE TABLE st (id INTEGER PRIMARY KEY, v TEXT) STRICT;
CREATE TABLE both_ (k TEXT PRIMARY KEY, v ANY) STRICT, WITHOUT ROWID;
CREATE TABLE plain (id INTEGER);)");
  EXPECT_TRUE(table(s, "w").without_rowid);
  EXPECT_FALSE(table(s, "w").strict);
  EXPECT_FALSE(table(s, "w").find_column("k")->nullable) << "WITHOUT ROWID keys hold no NULL";
  EXPECT_TRUE(table(s, "st").strict);
  EXPECT_FALSE(table(s, "st").without_rowid);
  EXPECT_TRUE(table(s, "both_").strict);
  EXPECT_TRUE(table(s, "both_").without_rowid);
  EXPECT_EQ(table(s, "both_").find_column("v")->type.raw, "ANY");
  EXPECT_FALSE(table(s, "plain").strict);
  EXPECT_FALSE(table(s, "plain").without_rowid);
  EXPECT_FALSE(table(s, "plain").primary_key);
}

TEST_P(InspectSqliteTest, GeneratedColumns) {
  Schema s = load(R"(
CREATE TABLE g (
  a TEXT,
  b TEXT GENERATED ALWAYS AS (upper(a)) STORED,
  c INT AS (length(a)),
  d TEXT GENERATED ALWAYS AS ( a || ' ' || b ) VIRTUAL NOT NULL
);)");
  const Table& g = table(s, "g");
  EXPECT_EQ(names(g.columns), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(g.find_column("a")->generated, GeneratedKind::none);
  EXPECT_EQ(g.find_column("b")->generated, GeneratedKind::stored);
  EXPECT_EQ(g.find_column("b")->generated_expression, "upper(a)");
  EXPECT_EQ(g.find_column("b")->type.raw, "TEXT");
  EXPECT_EQ(g.find_column("c")->generated, GeneratedKind::virtual_);
  EXPECT_EQ(g.find_column("c")->generated_expression, "length(a)");
  EXPECT_EQ(g.find_column("c")->type.raw, "INT");
  EXPECT_FALSE(g.find_column("c")->default_value);
  EXPECT_EQ(g.find_column("d")->generated, GeneratedKind::virtual_);
  EXPECT_EQ(g.find_column("d")->generated_expression, "a || ' ' || b");
  EXPECT_FALSE(g.find_column("d")->nullable);
}

TEST_P(InspectSqliteTest, CollateNocase) {
  Schema s = load(R"(
CREATE TABLE u (email TEXT COLLATE NOCASE NOT NULL, name TEXT COLLATE "rtrim", plain TEXT);
CREATE INDEX u_email ON u (email);
CREATE INDEX u_name ON u (name COLLATE binary DESC, plain COLLATE NOCASE);)");
  const Table& u = table(s, "u");
  EXPECT_EQ(u.find_column("email")->collation, "NOCASE");
  EXPECT_FALSE(u.find_column("email")->nullable);
  EXPECT_EQ(u.find_column("name")->collation, "rtrim");
  EXPECT_EQ(u.find_column("plain")->collation, "");
  ASSERT_EQ(names(u.indexes), (std::vector<std::string>{"u_email", "u_name"}));
  EXPECT_EQ(u.indexes[0].keys[0].collation, "") << "a collation the index does not write is the column's business";
  ASSERT_EQ(u.indexes[1].keys.size(), 2u);
  EXPECT_EQ(u.indexes[1].keys[0].column, "name");
  EXPECT_EQ(u.indexes[1].keys[0].collation, "binary");
  EXPECT_EQ(u.indexes[1].keys[0].order, SortOrder::desc);
  EXPECT_EQ(u.indexes[1].keys[1].collation, "NOCASE");
  EXPECT_EQ(u.indexes[1].keys[1].order, SortOrder::asc);
}

TEST_P(InspectSqliteTest, ExpressionAndPartialIndexes) {
  Schema s = load(R"(
CREATE TABLE t (a TEXT, b INTEGER, c INTEGER);
CREATE UNIQUE INDEX t_expr ON t (lower(a) DESC, b + c, ((c * 2)) COLLATE NOCASE ASC, a) WHERE b IS NOT NULL AND c > 0;
CREATE INDEX t_partial ON t (b) WHERE a LIKE 'x%';)");
  const Table& t = table(s, "t");
  ASSERT_EQ(names(t.indexes), (std::vector<std::string>{"t_expr", "t_partial"}));
  const auto& e = t.indexes[0];
  EXPECT_TRUE(e.unique);
  ASSERT_EQ(e.keys.size(), 4u);
  EXPECT_EQ(e.keys[0].expression, "lower(a)");
  EXPECT_EQ(e.keys[0].order, SortOrder::desc);
  EXPECT_EQ(e.keys[1].expression, "b + c");
  EXPECT_EQ(e.keys[1].column, "");
  EXPECT_EQ(e.keys[2].expression, "c * 2");
  EXPECT_EQ(e.keys[2].collation, "NOCASE");
  EXPECT_EQ(e.keys[2].order, SortOrder::asc);
  EXPECT_EQ(e.keys[3].column, "a");
  EXPECT_EQ(e.predicate, "b IS NOT NULL AND c > 0");
  EXPECT_EQ(e.definition.rfind("CREATE UNIQUE INDEX t_expr ON t", 0), 0u) << e.definition;
  EXPECT_EQ(t.indexes[1].predicate, "a LIKE 'x%'");
  EXPECT_FALSE(t.indexes[1].unique);
}

TEST_P(InspectSqliteTest, ForeignKeysDeferrableAndUnnamed) {
  Schema s = load(R"(
CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT UNIQUE, a INT, b INT, UNIQUE (a, b));
CREATE TABLE c (
  id INTEGER PRIMARY KEY,
  p_id INTEGER REFERENCES p DEFERRABLE INITIALLY DEFERRED,
  p_code TEXT CONSTRAINT c_code REFERENCES p (code) ON UPDATE CASCADE NOT DEFERRABLE,
  x INT,
  y INT,
  z INT REFERENCES p (id) ON DELETE SET DEFAULT DEFERRABLE DEFAULT 0,
  w INT REFERENCES p (id) ON UPDATE SET DEFAULT CHECK (w > 0) DEFAULT 5,
  FOREIGN KEY (x, y) REFERENCES p (a, b) ON DELETE SET NULL DEFERRABLE INITIALLY IMMEDIATE
);)");
  const Table& c = table(s, "c");
  ASSERT_EQ(c.foreign_keys.size(), 5u) << render(s);
  // Unnamed first (by columns), then named.
  const auto& pid = c.foreign_keys[0];
  EXPECT_EQ(pid.name, "");
  EXPECT_EQ(pid.columns, (std::vector<std::string>{"p_id"}));
  EXPECT_EQ(pid.referenced_table, "p");
  EXPECT_TRUE(pid.referenced_columns.empty()) << "REFERENCES p names no columns: p's primary key";
  EXPECT_TRUE(pid.deferrable);
  EXPECT_TRUE(pid.initially_deferred);
  const auto& xy = c.foreign_keys[2];
  EXPECT_EQ(xy.columns, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(xy.referenced_columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(xy.on_delete, ReferentialAction::set_null);
  EXPECT_TRUE(xy.deferrable);
  EXPECT_FALSE(xy.initially_deferred);
  const auto& z = c.foreign_keys[3];
  EXPECT_EQ(z.columns, (std::vector<std::string>{"z"}));
  EXPECT_EQ(z.on_delete, ReferentialAction::set_default);
  EXPECT_TRUE(z.deferrable);
  EXPECT_FALSE(z.initially_deferred);
  EXPECT_EQ(c.find_column("z")->default_value, "0");
  const auto& w = c.foreign_keys[1];
  EXPECT_EQ(w.columns, (std::vector<std::string>{"w"}));
  EXPECT_EQ(w.on_update, ReferentialAction::set_default);
  EXPECT_FALSE(w.deferrable);
  EXPECT_EQ(c.find_column("w")->default_value, "5");
  ASSERT_EQ(c.checks.size(), 1u) << render(s);
  EXPECT_EQ(c.checks[0].expression, "w > 0");
  const auto& code = c.foreign_keys[4];
  EXPECT_EQ(code.name, "c_code");
  EXPECT_EQ(code.on_update, ReferentialAction::cascade);
  EXPECT_FALSE(code.deferrable);
  const Table& p = table(s, "p");
  EXPECT_EQ(p.uniques.size(), 2u) << render(s);
}

TEST_P(InspectSqliteTest, VirtualTablesAndTheirShadowsLeftOut) {
  bool fts5 = false;
  bool rtree = false;
  for (const Row& r : c_->query("SELECT name FROM pragma_module_list").rows) {
    fts5 = fts5 || r.get<std::string>(0) == "fts5";
    rtree = rtree || r.get<std::string>(0) == "rtree";
  }
  const std::string fts = fts5 ? "fts5" : "fts4";
  std::string sql = "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);\n"
                    "CREATE VIRTUAL TABLE docs_fts USING " + fts + "(body);\n";
  if (rtree) sql += "CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);\n";
  Schema s = load(sql);
  EXPECT_EQ(names(s.tables), (std::vector<std::string>{"docs"})) << render(s);
  std::vector<std::string> expected = {"docs_fts"};
  if (rtree) expected.insert(expected.begin(), "boxes");
  ASSERT_EQ(names(s.virtual_tables), expected);
  EXPECT_EQ(s.virtual_tables.back().definition, "CREATE VIRTUAL TABLE docs_fts USING " + fts + "(body)");

  InspectOptions without;
  without.exclude_tables = {"docs_fts"};
  EXPECT_EQ(inspect(*c_, without).virtual_tables.size(), expected.size() - 1);
}

TEST_P(InspectSqliteTest, TriggersAndViews) {
  Schema s = load(R"(
CREATE TABLE b_items (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE a_log (what TEXT);
CREATE VIEW item_names AS SELECT name FROM b_items;
CREATE TRIGGER z_first AFTER INSERT ON b_items BEGIN INSERT INTO a_log VALUES (NEW.name); END;
CREATE TRIGGER a_second AFTER DELETE ON b_items BEGIN INSERT INTO a_log VALUES (OLD.name); END;
CREATE TRIGGER on_view INSTEAD OF INSERT ON item_names BEGIN INSERT INTO b_items (name) VALUES (NEW.name); END;
CREATE TRIGGER log_trigger AFTER INSERT ON a_log BEGIN SELECT 1; END;)");
  ASSERT_EQ(s.triggers.size(), 4u);
  // By table, then name.
  EXPECT_EQ(s.triggers[0].table, "a_log");
  EXPECT_EQ(s.triggers[1].name, "a_second");
  EXPECT_EQ(s.triggers[1].table, "b_items");
  EXPECT_EQ(s.triggers[2].name, "z_first");
  EXPECT_EQ(s.triggers[3].name, "on_view");
  EXPECT_EQ(s.triggers[3].table, "item_names");
  EXPECT_EQ(s.triggers[2].definition,
            "CREATE TRIGGER z_first AFTER INSERT ON b_items BEGIN INSERT INTO a_log VALUES (NEW.name); END");
  ASSERT_EQ(s.views.size(), 1u);
  EXPECT_EQ(s.views[0].definition, "CREATE VIEW item_names AS SELECT name FROM b_items");

  InspectOptions some;
  some.exclude_tables = {"b_items", "item_names"};
  Schema without = inspect(*c_, some);
  EXPECT_TRUE(without.views.empty());
  ASSERT_EQ(without.triggers.size(), 1u);
  EXPECT_EQ(without.triggers[0].name, "log_trigger");
}

TEST_P(InspectSqliteTest, QuotingStylesAndCase) {
  Schema s = load(R"(
CREATE TABLE [my table] (`a``b` INTEGER, [c d] TEXT, "E" TEXT, CONSTRAINT [u 1] UNIQUE ([C D], e),
  CONSTRAINT "ch""k" CHECK ("E" <> 'x'));
CREATE TABLE 'single' (id INTEGER PRIMARY KEY, ref INTEGER REFERENCES [my table] (`a``b`),
  "Other" INTEGER REFERENCES [MY TABLE] ([C D]));
CREATE INDEX `idx` ON [my table] ([c d] DESC);)");
  const Table& t = table(s, "my table");
  EXPECT_EQ(names(t.columns), (std::vector<std::string>{"a`b", "c d", "E"}));
  ASSERT_EQ(t.uniques.size(), 1u);
  EXPECT_EQ(t.uniques[0].name, "u 1");
  EXPECT_EQ(t.uniques[0].columns, (std::vector<std::string>{"c d", "E"})) << "the table's spelling of each column";
  ASSERT_EQ(t.checks.size(), 1u);
  EXPECT_EQ(t.checks[0].name, "ch\"k");
  EXPECT_EQ(t.checks[0].expression, "\"E\" <> 'x'");
  ASSERT_EQ(t.indexes.size(), 1u);
  EXPECT_EQ(t.indexes[0].keys[0].column, "c d");
  EXPECT_EQ(t.indexes[0].keys[0].order, SortOrder::desc);
  const Table& single = table(s, "single");
  EXPECT_EQ(names(single.columns), (std::vector<std::string>{"id", "ref", "Other"}));
  ASSERT_EQ(single.foreign_keys.size(), 2u);
  EXPECT_EQ(single.foreign_keys[0].columns, (std::vector<std::string>{"Other"}));
  EXPECT_EQ(single.foreign_keys[0].referenced_table, "my table") << "the referenced table's own spelling";
  EXPECT_EQ(single.foreign_keys[0].referenced_columns, (std::vector<std::string>{"c d"}));
  EXPECT_EQ(single.foreign_keys[1].referenced_table, "my table");
  EXPECT_EQ(single.foreign_keys[1].referenced_columns, (std::vector<std::string>{"a`b"}));
}

TEST_P(InspectSqliteTest, CommentsAndOddSpacingInTheCreateText) {
  Schema s = load(R"(
CREATE TABLE t ( -- a comment, with a comma
  a INTEGER /* CHECK (no) */ CHECK(a>0)/*after*/,
  b TEXT DEFAULT 'NOT NULL, CHECK' NOT NULL,
  c TEXT CHECK (c IN ('a', 'b')) DEFAULT 'a' COLLATE NOCASE
);)");
  const Table& t = table(s, "t");
  ASSERT_EQ(t.checks.size(), 2u) << render(s);
  EXPECT_EQ(t.checks[0].expression, "a>0");
  EXPECT_EQ(t.checks[1].expression, "c IN ('a', 'b')");
  EXPECT_EQ(t.find_column("b")->default_value, "'NOT NULL, CHECK'");
  EXPECT_FALSE(t.find_column("b")->nullable);
  EXPECT_EQ(t.find_column("c")->default_value, "'a'");
  EXPECT_EQ(t.find_column("c")->collation, "NOCASE");
}

TEST_P(InspectSqliteTest, OddButValidDefinitions) {
  Schema s = load(R"(
CREATE TABLE src (a INTEGER, b TEXT);
CREATE TABLE copied AS SELECT a, b AS "b 2" FROM src;
CREATE TABLE kw (generated INTEGER, "key" TEXT CONSTRAINT kn NOT NULL DEFAULT +1, key2 DEFAULT "dq", primary_x INT);)");
  const Table& copied = table(s, "copied");
  EXPECT_EQ(names(copied.columns), (std::vector<std::string>{"a", "b 2"}));
  EXPECT_EQ(copied.find_column("a")->type.raw, "INT") << "CREATE TABLE AS stores the affinity's type name";
  const Table& kw = table(s, "kw");
  EXPECT_EQ(names(kw.columns), (std::vector<std::string>{"generated", "key", "key2", "primary_x"}));
  EXPECT_EQ(kw.find_column("generated")->generated, GeneratedKind::none);
  EXPECT_EQ(kw.find_column("key")->default_value, "+1");
  EXPECT_FALSE(kw.find_column("key")->nullable);
  EXPECT_EQ(kw.find_column("key2")->default_value, "\"dq\"");
  EXPECT_TRUE(kw.checks.empty());
  EXPECT_TRUE(kw.uniques.empty());
  EXPECT_FALSE(kw.primary_key);
}

TEST_P(InspectSqliteTest, RenamedColumnsReadBackRenamed) {
  Schema s = load(R"(
CREATE TABLE p (id INTEGER PRIMARY KEY, v INTEGER);
CREATE TABLE t (id INTEGER PRIMARY KEY, old_name INTEGER CHECK (old_name > 0) REFERENCES p (id), UNIQUE (old_name));
CREATE INDEX t_old ON t (old_name) WHERE old_name > 1;
ALTER TABLE t RENAME COLUMN old_name TO new_name;
ALTER TABLE t ADD COLUMN added TEXT NOT NULL DEFAULT 'z' CHECK (added <> '');)");
  const Table& t = table(s, "t");
  EXPECT_EQ(names(t.columns), (std::vector<std::string>{"id", "new_name", "added"}));
  ASSERT_EQ(t.checks.size(), 2u) << render(s);
  EXPECT_EQ(t.checks[0].expression, "added <> ''");
  EXPECT_EQ(t.checks[1].expression, "new_name > 0");
  EXPECT_EQ(t.uniques.at(0).columns, (std::vector<std::string>{"new_name"}));
  EXPECT_EQ(t.foreign_keys.at(0).columns, (std::vector<std::string>{"new_name"}));
  EXPECT_EQ(t.indexes.at(0).keys.at(0).column, "new_name");
  EXPECT_EQ(t.indexes.at(0).predicate, "new_name > 1");
  EXPECT_EQ(t.find_column("added")->default_value, "'z'");
}

std::string quoted(const std::string& name) { return Connection::quote_identifier(name); }

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + quoted(n);
  return out;
}

// The model written back as SQL, by a renderer that knows nothing of how the
// original was spelled: if the reader misread a clause, the database built
// from this inspects differently.
std::string render_sql(const Schema& s) {
  std::string sql;
  for (const Table& t : s.tables) {
    std::vector<std::string> items;
    const bool inline_key = t.primary_key && t.primary_key->autoincrement;
    for (const Column& c : t.columns) {
      std::string item = quoted(c.name) + (c.type.raw.empty() ? "" : " " + c.type.raw);
      if (inline_key && c.name == t.primary_key->columns[0]) item += " PRIMARY KEY AUTOINCREMENT";
      if (!c.collation.empty()) item += " COLLATE " + quoted(c.collation);
      if (c.default_value) item += " DEFAULT " + *c.default_value;
      if (!c.nullable) item += " NOT NULL";
      if (c.generated != GeneratedKind::none) {
        item += " AS (" + c.generated_expression + ")" + (c.generated == GeneratedKind::stored ? " STORED" : "");
      }
      items.push_back(item);
    }
    auto named = [](const std::string& n) { return n.empty() ? std::string() : "CONSTRAINT " + quoted(n) + " "; };
    if (t.primary_key && !inline_key) {
      items.push_back(named(t.primary_key->name) + "PRIMARY KEY (" + quoted_list(t.primary_key->columns) + ")");
    }
    for (const auto& u : t.uniques) items.push_back(named(u.name) + "UNIQUE (" + quoted_list(u.columns) + ")");
    for (const auto& c : t.checks) items.push_back(named(c.name) + "CHECK (" + c.expression + ")");
    for (const auto& fk : t.foreign_keys) {
      std::string item = named(fk.name) + "FOREIGN KEY (" + quoted_list(fk.columns) + ") REFERENCES " +
                         quoted(fk.referenced_table);
      if (!fk.referenced_columns.empty()) item += " (" + quoted_list(fk.referenced_columns) + ")";
      item += std::string(" ON DELETE ") + to_sql(fk.on_delete) + " ON UPDATE " + to_sql(fk.on_update);
      if (fk.deferrable) item += fk.initially_deferred ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE";
      items.push_back(item);
    }
    sql += "CREATE TABLE " + quoted(t.name) + " (";
    for (std::size_t i = 0; i < items.size(); ++i) sql += (i ? ",\n  " : "\n  ") + items[i];
    sql += "\n)";
    if (t.without_rowid) sql += " WITHOUT ROWID";
    if (t.strict) sql += t.without_rowid ? ", STRICT" : " STRICT";
    sql += ";\n";
    for (const auto& i : t.indexes) {
      sql += std::string(i.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") + quoted(i.name) + " ON " +
             quoted(i.table) + " (";
      for (std::size_t k = 0; k < i.keys.size(); ++k) {
        const auto& key = i.keys[k];
        sql += (k ? ", " : "") + (key.column.empty() ? key.expression : quoted(key.column));
        if (!key.collation.empty()) sql += " COLLATE " + quoted(key.collation);
        if (key.order == SortOrder::desc) sql += " DESC";
      }
      sql += ")" + (i.predicate ? " WHERE " + *i.predicate : std::string()) + ";\n";
    }
  }
  for (const auto& v : s.views) sql += v.definition + ";\n";
  for (const auto& t : s.triggers) sql += t.definition + ";\n";
  for (const auto& v : s.virtual_tables) sql += v.definition + ";\n";
  return sql;
}

TEST_P(InspectSqliteTest, RebuiltFromTheModelReadsTheSame) {
  Schema original = load(R"(
CREATE TABLE p (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT COLLATE NOCASE UNIQUE NOT NULL DEFAULT 'a,b',
  a INT, b INT CHECK (b > a) CHECK(b<100), UNIQUE (a, b) CONSTRAINT named_check CHECK (a IS NOT NULL OR b IS NULL));
CREATE TABLE [c hild] (
  "k 1" TEXT, k2 INTEGER DEFAULT (abs(-3)), g TEXT GENERATED ALWAYS AS (upper("k 1")) STORED, v INT AS (k2 * 2),
  p_id INTEGER CONSTRAINT to_p REFERENCES p ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
  code TEXT REFERENCES p (code) ON UPDATE CASCADE,
  CONSTRAINT c_key PRIMARY KEY (k2, "k 1"),
  FOREIGN KEY (p_id, code) REFERENCES p (id, code) DEFERRABLE
) WITHOUT ROWID, STRICT;
CREATE TABLE plain (x, y DEFAULT -1.5e3, z BLOB DEFAULT x'0f', w DEFAULT CURRENT_DATE);
CREATE INDEX c_expr ON [c hild] (lower("k 1") COLLATE RTRIM DESC, k2 + 1, code) WHERE k2 > 0 AND "k 1" <> 'x';
CREATE UNIQUE INDEX p_ab ON p (a DESC, b COLLATE NOCASE);
CREATE VIEW pv AS SELECT * FROM p;
CREATE TRIGGER pt AFTER DELETE ON p BEGIN DELETE FROM plain WHERE x = OLD.id; END;)");
  ASSERT_EQ(original.tables.size(), 3u) << render(original);
  const Table& p = table(original, "p");
  EXPECT_EQ(p.checks.size(), 3u) << render(original);
  EXPECT_EQ(p.uniques.size(), 2u) << render(original);
  const Table& child = table(original, "c hild");
  EXPECT_EQ(child.foreign_keys.size(), 3u) << render(original);
  EXPECT_EQ(child.find_column("k2")->default_value, "(abs(-3))");
  EXPECT_EQ(child.indexes.at(0).keys.at(0).collation, "RTRIM");
  EXPECT_EQ(table(original, "plain").find_column("y")->default_value, "-1.5e3");
  const std::string sql = render_sql(original);
  test::TestDatabase fresh(engine());
  auto f = fresh.connect();
  run(*f, sql);
  EXPECT_SAME_SCHEMA(inspect(*f), original);
  SCOPED_TRACE(sql);
}

// PRAGMA-based reading does not splice names into SQL; a temp table of the
// same name does not shadow the main one.
TEST_P(InspectSqliteTest, TempTablesDoNotShadowMainOnes) {
  Schema s = load("CREATE TABLE t (a INTEGER, b TEXT); CREATE INDEX t_a ON t (a);");
  c_->execute("CREATE TEMP TABLE t (x INTEGER)");
  c_->execute("CREATE TEMP TABLE only_temp (y INTEGER)");
  Schema again = inspect(*c_);
  EXPECT_SAME_SCHEMA(again, s);
  EXPECT_EQ(names(table(again, "t").columns), (std::vector<std::string>{"a", "b"}));
}

TEST_P(InspectSqliteTest, InsideAnOpenTransaction) {
  Transaction t(*c_);
  c_->execute("CREATE TABLE inside (id INTEGER PRIMARY KEY)");
  Schema s = inspect(*c_);
  EXPECT_EQ(names(s.tables), (std::vector<std::string>{"inside"}));
  EXPECT_TRUE(c_->in_transaction()) << "inspect leaves the caller's transaction open";
  t.rollback();
  EXPECT_TRUE(inspect(*c_).tables.empty());
}

STRATA_INSTANTIATE_ENGINES(InspectTest);
STRATA_INSTANTIATE_ENGINES(InspectSqliteTest);

}  // namespace
}  // namespace strata
