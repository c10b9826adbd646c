// strata::schema::dump_schema on both engines. The key property: a database
// built from a dump dumps to the same text, so a snapshot is as good as
// replaying the history it came from.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/schema/dump.hpp"
#include "strata/source.hpp"
#include "strata/transaction.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using schema::dump_schema;
using schema::DumpOptions;
using test::write_file;

// A realistic history: tables with foreign keys, unique and check
// constraints, partial and expression indexes, ADD COLUMN, a renamed and a
// dropped column, a view on a view, a trigger; on PostgreSQL also an enum, a
// domain, a standalone sequence, serial and identity columns, a generated
// column, a plpgsql trigger function, a SQL function and a procedure, a
// function used by a column default, a NOT VALID check, a materialized view
// and a disabled trigger.
struct Step {
  const char* name;
  const char* sqlite;
  const char* postgres;
};
const std::vector<Step> kHistory = {
    {"0001_users",
     R"(CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  age INTEGER CHECK (age >= 0),
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE posts (
  id INTEGER PRIMARY KEY,
  author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  body TEXT,
  legacy TEXT,
  UNIQUE (author_id, title)
);)",
     R"(CREATE TYPE post_state AS ENUM ('draft', 'published', 'it''s gone');
CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%@%');
CREATE SEQUENCE ticket_numbers START WITH 100 INCREMENT BY 5;
CREATE TABLE users (
  id serial PRIMARY KEY,
  email email_address NOT NULL UNIQUE,
  name text COLLATE "C",
  age integer CHECK (age >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE posts (
  id bigint GENERATED ALWAYS AS IDENTITY (START WITH 10) PRIMARY KEY,
  author_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title text NOT NULL,
  body text,
  legacy text,
  state post_state NOT NULL DEFAULT 'draft',
  ticket bigint DEFAULT nextval('ticket_numbers'),
  title_length integer GENERATED ALWAYS AS (length(title)) STORED,
  UNIQUE (author_id, title)
);)"},
    {"0002_indexes",
     R"(CREATE INDEX posts_title_live ON posts (title) WHERE body IS NOT NULL;
CREATE INDEX users_email_lower ON users (lower(email));)",
     R"(CREATE INDEX posts_title_live ON posts (title) WHERE body IS NOT NULL;
CREATE INDEX users_email_lower ON users (lower(email));
CREATE UNIQUE INDEX "Posts By State" ON posts (state, id DESC);)"},
    {"0003_alter",
     R"(ALTER TABLE users ADD COLUMN bio TEXT DEFAULT '';
ALTER TABLE posts RENAME COLUMN body TO content;
ALTER TABLE posts DROP COLUMN legacy;)",
     R"(ALTER TABLE users ADD COLUMN bio text DEFAULT '';
ALTER TABLE posts RENAME COLUMN body TO content;
ALTER TABLE posts DROP COLUMN legacy;
ALTER TABLE posts ADD CONSTRAINT posts_title_not_blank CHECK (title <> '') NOT VALID;
CREATE FUNCTION default_name() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'anonymous' $$;
ALTER TABLE users ALTER COLUMN name SET DEFAULT default_name();)"},
    {"0004_views_and_triggers",
     R"(CREATE VIEW adult_users AS SELECT id, email FROM users WHERE age >= 18;
CREATE VIEW adult_post_counts AS
  SELECT a.id, count(p.id) AS posts FROM adult_users a LEFT JOIN posts p ON p.author_id = a.id GROUP BY a.id;
CREATE TABLE audit (id INTEGER PRIMARY KEY, what TEXT NOT NULL);
CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
  INSERT INTO audit (what) VALUES ('user ' || NEW.email);
END;)",
     R"(CREATE VIEW adult_users AS SELECT id, email FROM users WHERE age >= 18;
CREATE VIEW adult_post_counts AS
  SELECT a.id, count(p.id) AS posts FROM adult_users a LEFT JOIN posts p ON p.author_id = a.id GROUP BY a.id;
CREATE MATERIALIZED VIEW post_totals AS SELECT author_id, count(*) AS n FROM posts GROUP BY author_id;
CREATE INDEX post_totals_author ON post_totals (author_id);
CREATE TABLE audit (id bigserial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION audit_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit (what) VALUES ('user ' || NEW.email);
  RETURN NEW;
END
$$;
CREATE TRIGGER users_audit AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION audit_user();
CREATE TRIGGER users_audit_update AFTER UPDATE OF email ON users FOR EACH ROW
  WHEN (OLD.email IS DISTINCT FROM NEW.email) EXECUTE FUNCTION audit_user();
ALTER TABLE users DISABLE TRIGGER users_audit_update;
CREATE FUNCTION post_count(author integer) RETURNS bigint LANGUAGE sql STABLE
  AS $$ SELECT count(*) FROM posts WHERE author_id = author $$;
CREATE PROCEDURE rename_user(uid integer, new_name text) LANGUAGE sql
  AS $$ UPDATE users SET name = new_name WHERE id = uid $$;)"},
    {"0005_later",
     R"(CREATE TABLE tags (post_id INTEGER NOT NULL REFERENCES posts (id), tag TEXT NOT NULL, PRIMARY KEY (post_id, tag))
  WITHOUT ROWID;
CREATE INDEX tags_tag ON tags (tag);)",
     R"(CREATE TABLE tags (post_id bigint NOT NULL REFERENCES posts (id), tag text NOT NULL, PRIMARY KEY (post_id, tag));
CREATE INDEX tags_tag ON tags (tag);
ALTER TABLE posts ADD COLUMN tag_count integer NOT NULL DEFAULT 0;)"},
};

class DumpTest : public test::EngineTest {
 protected:
  // Writes steps [0, count) of kHistory as migration files under `dir`.
  void write_history(const fs::path& dir, std::size_t first, std::size_t last) {
    for (std::size_t i = first; i < last; ++i) {
      const Step& s = kHistory[i];
      write_file(dir / (std::string(s.name) + ".sql"), engine() == Engine::sqlite ? s.sqlite : s.postgres);
    }
  }
  void migrate(Connection& c, const fs::path& dir) { Migrator(c, load_directory(dir, engine())).up(); }
  void run(Connection& c, const std::string& sql) {
    Transaction t(c);
    c.execute_script(sql);
    t.commit();
  }
  // A fresh database built from `dump` (as the only migration), dumped.
  std::string restore_and_dump(const std::string& dump) {
    test::TestDatabase fresh(engine());
    write_file(fresh.dir() / "snapshot" / "0001_full.sql", dump);
    auto c = fresh.connect();
    migrate(*c, fresh.dir() / "snapshot");
    return dump_schema(*c);
  }
};

TEST_P(DumpTest, RestoredDumpDumpsIdentically) {
  write_history(db().dir() / "migrations", 0, kHistory.size());
  auto c = db().connect();
  migrate(*c, db().dir() / "migrations");
  std::string dump = dump_schema(*c);

  EXPECT_TRUE(dump.starts_with(std::string("-- strata dump (") + to_string(engine()) + ")\n\n")) << dump;
  for (const char* expected : {"CREATE TABLE", "CREATE INDEX", "CREATE VIEW", "CREATE TRIGGER", "content"}) {
    EXPECT_NE(dump.find(expected), std::string::npos) << expected << " missing from:\n" << dump;
  }
  EXPECT_EQ(dump.find("legacy"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("strata_migrations"), std::string::npos) << dump;
  if (engine() == Engine::postgres) {
    for (const char* expected :
         {"CREATE SEQUENCE ticket_numbers AS bigint START WITH 100 INCREMENT BY 5", "ALTER SEQUENCE users_id_seq OWNED BY users.id",
          "GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME posts_id_seq START WITH 10", "CREATE TYPE post_state AS ENUM",
          "CREATE DOMAIN email_address AS text", "CREATE OR REPLACE FUNCTION audit_user()", "CREATE MATERIALIZED VIEW",
          "ALTER TABLE posts ADD CONSTRAINT posts_author_id_fkey FOREIGN KEY", "NOT VALID",
          "ALTER TABLE users DISABLE TRIGGER users_audit_update", "CREATE OR REPLACE PROCEDURE rename_user"}) {
      EXPECT_NE(dump.find(expected), std::string::npos) << expected << " missing from:\n" << dump;
    }
    EXPECT_EQ(dump.find("public."), std::string::npos) << "names should be unqualified:\n" << dump;
    // The function a column default calls comes before that table.
    EXPECT_LT(dump.find("FUNCTION default_name()"), dump.find("CREATE TABLE users")) << dump;
  }
  // Views that read views come after them, whatever their names.
  EXPECT_LT(dump.find("CREATE VIEW adult_users"), dump.find("CREATE VIEW adult_post_counts")) << dump;

  EXPECT_EQ(restore_and_dump(dump), dump);
}

TEST_P(DumpTest, DumpingTwiceGivesTheSameText) {
  write_history(db().dir() / "migrations", 0, kHistory.size());
  auto c = db().connect();
  migrate(*c, db().dir() / "migrations");
  std::string first = dump_schema(*c);
  EXPECT_EQ(dump_schema(*c), first);
  auto other = db().connect();
  EXPECT_EQ(dump_schema(*other), first);
}

// The property that makes snapshots safe (issue 5): snapshot at step 3 plus
// the later deltas gives the same schema as replaying every delta.
TEST_P(DumpTest, SnapshotPlusLaterDeltasMatchesFullReplay) {
  auto full = db().connect();
  write_history(db().dir() / "all", 0, kHistory.size());
  migrate(*full, db().dir() / "all");

  test::TestDatabase early(engine());
  auto e = early.connect();
  write_history(early.dir() / "early", 0, 3);
  migrate(*e, early.dir() / "early");
  std::string snapshot = dump_schema(*e);

  test::TestDatabase fresh(engine());
  auto f = fresh.connect();
  write_file(fresh.dir() / "snapshot" / "0003_snapshot.sql", snapshot);
  write_history(fresh.dir() / "snapshot", 3, kHistory.size());
  migrate(*f, fresh.dir() / "snapshot");

  EXPECT_EQ(dump_schema(*f), dump_schema(*full));
}

TEST_P(DumpTest, StrataTablesAreLeftOutUnlessAsked) {
  write_history(db().dir() / "migrations", 0, 1);
  auto c = db().connect();
  migrate(*c, db().dir() / "migrations");
  run(*c, "CREATE TABLE strata_other (id INTEGER PRIMARY KEY); CREATE INDEX strata_other_id ON strata_other (id);");

  std::string plain = dump_schema(*c);
  EXPECT_EQ(plain.find("strata_"), std::string::npos) << plain;

  DumpOptions all;
  all.include_strata_tables = true;
  std::string with = dump_schema(*c, all);
  EXPECT_NE(with.find("strata_migrations"), std::string::npos) << with;
  EXPECT_NE(with.find("CREATE TABLE strata_other"), std::string::npos) << with;
  EXPECT_NE(with.find("CREATE INDEX strata_other_id"), std::string::npos) << with;

  DumpOptions some;
  some.exclude_tables = {"posts"};
  std::string without_posts = dump_schema(*c, some);
  EXPECT_EQ(without_posts.find("posts"), std::string::npos) << without_posts;
  EXPECT_NE(without_posts.find("CREATE TABLE users"), std::string::npos) << without_posts;
}

TEST_P(DumpTest, OrderDoesNotDependOnCreationOrder) {
  const std::vector<std::string> statements = {
      "CREATE TABLE zeta (id INTEGER PRIMARY KEY, note TEXT)",                        // 0
      "CREATE TABLE alpha (id INTEGER PRIMARY KEY, zeta_id INTEGER REFERENCES zeta (id))",  // 1
      "CREATE INDEX alpha_zeta ON alpha (zeta_id)",                                   // 2
      "CREATE VIEW v_zeta AS SELECT id, note FROM zeta",                              // 3
      "CREATE VIEW a_view AS SELECT id FROM v_zeta",                                  // 4
      "CREATE TABLE middle (id INTEGER PRIMARY KEY)",                                 // 5
      "CREATE INDEX zeta_note ON zeta (note)",                                        // 6
  };
  auto script = [&](std::vector<int> order) {
    std::string sql;
    for (int i : order) sql += statements[static_cast<std::size_t>(i)] + ";\n";
    return sql;
  };
  auto c = db().connect();
  run(*c, script({0, 1, 2, 3, 4, 5, 6}));
  test::TestDatabase other(engine());
  auto o = other.connect();
  run(*o, script({5, 0, 6, 3, 4, 1, 2}));

  std::string dump = dump_schema(*c);
  EXPECT_EQ(dump_schema(*o), dump);
  // Tables by name, then indexes, then views with dependencies first.
  std::vector<std::size_t> at;
  for (const char* name : {"TABLE alpha", "TABLE middle", "TABLE zeta", "INDEX alpha_zeta", "INDEX zeta_note",
                           "VIEW v_zeta", "VIEW a_view"}) {
    at.push_back(dump.find(name));
    EXPECT_NE(at.back(), std::string::npos) << name << " missing from:\n" << dump;
  }
  EXPECT_TRUE(std::is_sorted(at.begin(), at.end())) << dump;
}

TEST_P(DumpTest, EmptyDatabaseIsJustTheHeader) {
  auto c = db().connect();
  EXPECT_EQ(dump_schema(*c), std::string("-- strata dump (") + to_string(engine()) + ")\n");
}

TEST_P(DumpTest, SQLiteVirtualTablesOmitTheirShadowTables) {
  if (engine() != Engine::sqlite) GTEST_SKIP() << "SQLite only";
  auto c = db().connect();
  run(*c, "CREATE VIRTUAL TABLE notes USING fts5(body); CREATE TABLE plain (id INTEGER PRIMARY KEY);");
  std::string dump = dump_schema(*c);
  EXPECT_NE(dump.find("CREATE VIRTUAL TABLE notes USING fts5(body);"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("notes_"), std::string::npos) << dump;
  EXPECT_EQ(restore_and_dump(dump), dump);
}

TEST_P(DumpTest, SQLiteCommentAfterTheLastTokenIsDroppedSoARestoreMatches) {
  if (engine() != Engine::sqlite) GTEST_SKIP() << "SQLite only";
  auto c = db().connect();
  // SQLite stores a view's text up to its ';', comment included.
  run(*c, "CREATE VIEW one AS SELECT 1 AS n -- the answer\n;\nCREATE VIEW strata_view AS SELECT n FROM one;");
  std::string dump = dump_schema(*c);
  EXPECT_NE(dump.find("CREATE VIEW one AS SELECT 1 AS n;\n"), std::string::npos) << dump;
  EXPECT_NE(dump.find("CREATE VIEW strata_view"), std::string::npos) << "only tables are excluded:\n" << dump;
  EXPECT_EQ(restore_and_dump(dump), dump);
}

TEST_P(DumpTest, PostgresRefusesObjectsItCannotDumpAndMissingSchemas) {
  if (engine() != Engine::postgres) GTEST_SKIP() << "PostgreSQL only";
  auto c = db().connect();
  DumpOptions missing;
  missing.schema = "no_such_schema";
  try {
    dump_schema(*c, missing);
    ADD_FAILURE() << "expected an error for a missing schema";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("no_such_schema"), std::string::npos) << e.what();
  }

  run(*c, "CREATE TABLE events (at date NOT NULL) PARTITION BY RANGE (at);"
          "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');");
  try {
    dump_schema(*c);
    ADD_FAILURE() << "expected partitioned tables to be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("partitioned table events"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("table partition events_2025"), std::string::npos) << e.what();
  }
}

TEST_P(DumpTest, PostgresDumpsAnotherSchemaUnqualified) {
  if (engine() != Engine::postgres) GTEST_SKIP() << "PostgreSQL only";
  auto c = db().connect();
  run(*c, "CREATE SCHEMA app; CREATE TABLE public.elsewhere (id integer PRIMARY KEY);"
          "CREATE TABLE app.items (id integer PRIMARY KEY, other integer REFERENCES public.elsewhere (id));"
          "CREATE VIEW app.item_ids AS SELECT id FROM app.items;");
  DumpOptions app;
  app.schema = "app";
  std::string dump = dump_schema(*c, app);
  EXPECT_NE(dump.find("CREATE TABLE items"), std::string::npos) << dump;
  EXPECT_NE(dump.find("REFERENCES public.elsewhere(id)"), std::string::npos) << dump;
  EXPECT_NE(dump.find("FROM items"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("app."), std::string::npos) << dump;
  EXPECT_EQ(dump.find("CREATE TABLE elsewhere"), std::string::npos) << dump;
  // The session's search_path is untouched afterwards.
  EXPECT_EQ(c->query("SHOW search_path").rows.at(0).get<std::string>(0), "\"$user\", public");
}

STRATA_INSTANTIATE_ENGINES(DumpTest);

}  // namespace
}  // namespace strata
