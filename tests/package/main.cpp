// consumer MIGRATIONS_DIR: exercises the installed strata library on
// sqlite::memory: and, when STRATA_TEST_POSTGRES_URL is set, on PostgreSQL
// (in a schema of its own, dropped afterwards). Exits non-zero on any failure.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <strata/error.hpp>
#include <strata/migrator.hpp>
#include <strata/pool.hpp>
#include <strata/source.hpp>
#include <strata/transaction.hpp>
#include <strata/upgrade_table.hpp>

#ifdef STRATA_CONSUMER_EMBEDDED
#include "consumer_migrations.hpp"
#endif

namespace {

int failures = 0;

#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::cerr << __FILE__ << ":" << __LINE__ << ": check failed: " #cond "\n";     \
      ++failures;                                                                    \
    }                                                                                \
  } while (0)

void exercise(const std::string& url, const std::string& dir, const std::string& schema) {
  strata::PoolOptions options;
  options.max_connections = 3;
  if (!schema.empty()) {
    const std::string quoted = strata::Connection::quote_identifier(schema);
    options.on_acquire = [quoted](strata::Connection& c) { c.execute("SET search_path TO " + quoted); };
    options.on_release = [](strata::Connection& c) { c.execute("RESET search_path"); };
  }
  strata::Pool pool(url, options);
  const strata::Engine engine = pool.engine();

  // Parameterised queries.
  CHECK(pool.fetch_value<std::int64_t>("SELECT $1 + $2", {40, 2}) == 42);
  CHECK(pool.fetch_value<std::string>("SELECT $1", {"it's"}) == "it's");
  CHECK(!pool.fetch_value<std::optional<std::int64_t>>("SELECT $1", {std::optional<std::int64_t>{}}));

  // A code migration beside SQL files, in one set.
  strata::UpgradeTable table("consumer");
  table.add(2, "seed_items", [](strata::Connection& c, strata::Engine e) {
    c.execute("INSERT INTO items (id, name, note) VALUES ($1, $2, $3)",
              {1, "first", e == strata::Engine::postgres ? "postgres" : "sqlite"});
    c.execute("INSERT INTO items (id, name) VALUES ($1, $2)", {2, "second"});
  });
  strata::MigrationSet files = strata::load_directory(dir, engine);
#ifdef STRATA_CONSUMER_EMBEDDED
  strata::MigrationSet embedded = strata::load_embedded(consumer_migrations(), engine);
  CHECK(embedded.all().size() == files.all().size());
  for (std::size_t i = 0; i < files.all().size() && i < embedded.all().size(); ++i) {
    CHECK(embedded.all()[i].checksum == files.all()[i].checksum);
  }
#endif
  strata::MigrationSet set = strata::merge(std::move(files), table);
  CHECK(set.all().size() == 3);
  {
    auto lease = pool.acquire();
    strata::MigratorOptions migrator_options;
    if (!schema.empty()) migrator_options.history.schema = schema;
    strata::Migrator migrator(*lease, set, migrator_options);
    CHECK(migrator.up().applied.size() == 3);
    CHECK(migrator.up().applied.empty());
    auto status = migrator.status();
    CHECK(status.migrations.size() == 3);
    for (const auto& s : status.migrations) CHECK(s.state == strata::MigrationState::applied);
  }
  CHECK(pool.fetch_value<std::string>("SELECT note FROM items WHERE id = $1", {1}) == strata::to_string(engine));
  CHECK(pool.fetch_value<double>("SELECT price FROM items WHERE id = $1", {2}) == 1.5);

  // Nested transactions: the inner one rolls back, the outer commits.
  {
    auto c = pool.acquire();
    strata::Transaction outer(*c);
    c.execute("INSERT INTO items (id, name) VALUES ($1, $2)", {3, "third"});
    {
      auto inner = c.transaction();
      c.execute("DELETE FROM items");
      CHECK(c.fetch_value<std::int64_t>("SELECT COUNT(*) FROM items") == 0);
    }
    {
      auto inner = c.transaction();
      c.execute("UPDATE items SET name = $1 WHERE id = $2", {"THIRD", 3});
      inner.commit();
    }
    outer.commit();
  }
  CHECK(pool.fetch_value<std::int64_t>("SELECT COUNT(*) FROM items") == 3);
  CHECK(pool.fetch_one("SELECT name FROM items WHERE id = $1", {3})->get<std::string>(0) == "THIRD");
  CHECK(!pool.fetch_one("SELECT name FROM items WHERE id = $1", {4}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer MIGRATIONS_DIR\n";
    return 2;
  }
  try {
    exercise("sqlite::memory:", argv[1], "");
    std::cout << "sqlite: ok\n";
    if (const char* pg = std::getenv("STRATA_TEST_POSTGRES_URL"); pg != nullptr && *pg != '\0') {
      const std::string schema = "strata_consumer_" + std::to_string(::getpid());
      auto admin = strata::connect(pg);
      admin->execute("CREATE SCHEMA " + strata::Connection::quote_identifier(schema));
      try {
        exercise(pg, argv[1], schema);
      } catch (...) {
        admin->execute("DROP SCHEMA " + strata::Connection::quote_identifier(schema) + " CASCADE");
        throw;
      }
      admin->execute("DROP SCHEMA " + strata::Connection::quote_identifier(schema) + " CASCADE");
      std::cout << "postgres: ok\n";
    } else {
      std::cout << "postgres: skipped (STRATA_TEST_POSTGRES_URL is not set)\n";
    }
  } catch (const strata::Error& e) {
    std::cerr << "consumer: " << e.what() << "\n";
    return 1;
  }
  if (failures != 0) {
    std::cerr << "consumer: " << failures << " check(s) failed\n";
    return 1;
  }
  return 0;
}
