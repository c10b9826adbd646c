// strata/schema/load.hpp on both engines: what a source string is, the dev
// database (empty or refused, throwaway schemas dropped), and that every
// kind of source describing one schema loads to the same model.
#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/schema/load.hpp"
#include "strata/source.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using schema::SourceKind;
using test::error_from;
using test::write_file;

constexpr const char* users = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n";
constexpr const char* posts =
    "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), title TEXT);\n"
    "CREATE INDEX posts_user ON posts (user_id);\n"
    "CREATE VIEW titles AS SELECT title FROM posts;\n";

class SchemaLoad : public test::EngineTest {
 protected:
  fs::path dir() { return db().dir(); }
  // The dev URL: the test database itself on PostgreSQL (it starts empty).
  std::string dev_url() { return engine() == Engine::postgres ? db().url() : ""; }
};

TEST_P(SchemaLoad, SourceStringsAreClassifiedByWhatTheyAre) {
  write_file(dir() / "migrations" / "0001_users.sql", users);
  write_file(dir() / "declared" / "users.sql", users);
  write_file(dir() / "schema.sql", users);
  fs::create_directories(dir() / "empty");

  EXPECT_EQ(schema::parse_source("sqlite:app.db").kind, SourceKind::database);
  EXPECT_EQ(schema::parse_source("postgresql://u@h/db").kind, SourceKind::database);
  EXPECT_EQ(schema::parse_source("host=localhost dbname=app").kind, SourceKind::database);
  EXPECT_EQ(schema::parse_source("postgresql://u:secret@h/db").label.find("secret"), std::string::npos);
  EXPECT_EQ(schema::parse_source((dir() / "migrations").string()).kind, SourceKind::migrations);
  EXPECT_EQ(schema::parse_source((dir() / "declared").string()).kind, SourceKind::declared);
  EXPECT_EQ(schema::parse_source((dir() / "schema.sql").string()).kind, SourceKind::declared);
  EXPECT_EQ(schema::parse_source((dir() / "empty").string()).kind, SourceKind::declared);
  EXPECT_EQ(error_from([&] { schema::parse_source((dir() / "nothing").string()); }).kind(), ErrorKind::source);
}

TEST_P(SchemaLoad, TheEngineComesFromUrlsThenTheDevUrl) {
  std::vector<schema::SchemaSource> files = {schema::SchemaSource::declared("schema.sql")};
  EXPECT_EQ(schema::comparison_engine(files, "", ""), Engine::sqlite);
  EXPECT_EQ(schema::comparison_engine(files, "", "postgresql://u@h/dev"), Engine::postgres);
  EXPECT_EQ(schema::comparison_engine(files, "postgresql://u@h/app", ""), Engine::postgres);
  std::vector<schema::SchemaSource> mixed = {schema::SchemaSource::database("sqlite:a.db"),
                                             schema::SchemaSource::database("postgresql://u:pw@h/b")};
  Error e = error_from([&] { schema::comparison_engine(mixed, "", ""); });
  EXPECT_EQ(e.kind(), ErrorKind::usage);
  EXPECT_EQ(std::string(e.what()).find("pw"), std::string::npos) << e.what();
  EXPECT_EQ(error_from([&] { schema::comparison_engine(files, "sqlite:a.db", "postgresql://h/dev"); }).kind(),
            ErrorKind::usage);
}

TEST_P(SchemaLoad, EverySourceOfOneSchemaLoadsToTheSameModel) {
  write_file(dir() / "migrations" / "0001_users.sql", users);
  write_file(dir() / "migrations" / "0002_posts.sql", posts);
  write_file(dir() / "schema.sql", std::string(users) + posts);
  write_file(dir() / "declared" / "b_posts.sql", posts);  // name order: a_ runs first
  write_file(dir() / "declared" / "a_users.sql", users);
  write_file(dir() / "declared" / "README.md", "not SQL");

  schema::DevDatabase dev(engine(), dev_url());
  auto from_migrations = schema::load_schema(schema::parse_source((dir() / "migrations").string()), dev);
  auto from_file = schema::load_schema(schema::parse_source((dir() / "schema.sql").string()), dev);
  auto from_dir = schema::load_schema(schema::parse_source((dir() / "declared").string()), dev);
  ASSERT_NE(from_file.find_table("posts"), nullptr);
  EXPECT_EQ(from_migrations, from_file);
  EXPECT_EQ(from_dir, from_file);
  EXPECT_EQ(from_migrations.find_table("strata_migrations"), nullptr);

  if (engine() == Engine::sqlite) {
    // A database source: the migrations applied to a real database.
    auto c = db().connect();
    MigrationSet set = load_directory(dir() / "migrations", engine());
    Migrator(*c, set).up();
    auto live = schema::load_schema(schema::SchemaSource::database(db().url()), dev);
    EXPECT_EQ(live, from_file);
  }
}

TEST_P(SchemaLoad, ADeclaredFileThatFailsNamesFileLineAndColumn) {
  write_file(dir() / "schema.sql", std::string(users) + "CREATE TABLE posts (\n  id INTEGER PRIMARY KEY,,\n);\n");
  schema::DevDatabase dev(engine(), dev_url());
  std::string label = (dir() / "schema.sql").string();
  Error e = error_from([&] { schema::load_schema(schema::parse_source(label), dev); });
  EXPECT_EQ(e.kind(), ErrorKind::sql) << e.what();
  EXPECT_EQ(e.position().file, label);
  EXPECT_EQ(e.position().line, 3) << e.what();
  EXPECT_GT(e.position().column, 1) << e.what();
  EXPECT_EQ(e.position().statement, 2);
}

TEST_P(SchemaLoad, PostgresDevDatabaseMustBeEmptyAndKeepsNothing) {
  if (engine() == Engine::sqlite) {
    EXPECT_EQ(error_from([&] { schema::DevDatabase(Engine::sqlite, "sqlite:dev.db"); }).kind(), ErrorKind::usage);
    EXPECT_FALSE(fs::exists("dev.db"));
    schema::DevDatabase dev(Engine::sqlite, "sqlite::memory:");
    auto a = dev.scratch();
    auto b = dev.scratch();  // SQLite scratches are independent databases
    a.connection().execute("CREATE TABLE t (x INTEGER)");
    EXPECT_TRUE(b.connection().fetch("SELECT name FROM sqlite_master").empty());
    return;
  }
  // Files on PostgreSQL need a dev database.
  schema::DevDatabase none(Engine::postgres, "");
  EXPECT_EQ(error_from([&] { none.scratch(); }).kind(), ErrorKind::usage);

  {
    schema::DevDatabase dev(Engine::postgres, db().url());
    auto scratch = dev.scratch();
    EXPECT_TRUE(scratch.schema().starts_with("strata_dev_")) << scratch.schema();
    scratch.connection().execute("CREATE TABLE t (x integer)");
    EXPECT_EQ(scratch.connection().fetch_value<std::string>("SELECT current_schema()"), scratch.schema());
    EXPECT_EQ(error_from([&] { dev.scratch(); }).kind(), ErrorKind::usage);  // one at a time
  }
  auto c = db().connect();
  EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'strata\\_dev\\_%'"),
            0);

  // Migrations that make schemas of their own (MAS creates apalis), name
  // public, or create an extension leave nothing behind in the dev database.
  {
    test::write_file(dir() / "own" / "0001_apalis.sql",
                     "CREATE SCHEMA apalis;\n"
                     "CREATE TABLE apalis.jobs (id bigint PRIMARY KEY);\n"
                     "CREATE TABLE public.outside (id bigint);\n"
                     "CREATE FUNCTION public.f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';\n"
                     "CREATE TYPE public.mood AS ENUM ('ok');\n"
                     "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n"
                     "CREATE TABLE inside (id bigint);\n");
    schema::DevDatabase dev(Engine::postgres, db().url());
    auto loaded = schema::load_schema(schema::parse_source((dir() / "own").string()), dev);
    EXPECT_NE(loaded.find_table("inside"), nullptr);
  }
  EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_namespace WHERE nspname IN ('apalis') "
                                         "OR nspname LIKE 'strata\\_dev\\_%'"),
            0);
  EXPECT_FALSE(test::table_exists(*c, "outside"));
  EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_proc WHERE proname = 'f'"), 0);
  EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_type WHERE typname = 'mood'"), 0);
  EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), 0);
  schema::DevDatabase again(Engine::postgres, db().url());  // empty again: accepted

  c->execute("CREATE TABLE public.keep (x integer)");
  c->execute("CREATE SCHEMA other");
  Error e = error_from([&] { schema::DevDatabase(Engine::postgres, db().url()); });
  EXPECT_EQ(e.kind(), ErrorKind::usage);
  EXPECT_NE(std::string(e.what()).find("public.keep"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("schema other"), std::string::npos) << e.what();
  EXPECT_TRUE(test::table_exists(*c, "keep"));
}

STRATA_INSTANTIATE_ENGINES(SchemaLoad);

}  // namespace
}  // namespace strata
