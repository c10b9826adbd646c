// A tour of strata as a library: a pool, typed queries, transactions, and
// migrations from SQL files beside C++ steps.
//
//   library_tour [URL] [MIGRATIONS_DIR]    (defaults: sqlite::memory:, none)
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include <strata/error.hpp>
#include <strata/migrator.hpp>
#include <strata/pool.hpp>
#include <strata/source.hpp>
#include <strata/upgrade_table.hpp>

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "sqlite::memory:";
  try {
    // 1. A pool. It opens connections on demand, up to max_connections, and
    //    is safe to share between threads. (sqlite::memory: is one shared
    //    connection: see pool.hpp.)
    strata::PoolOptions options;
    options.max_connections = 4;
    strata::Pool pool(url, options);

    // 2. Migrations: C++ steps in an upgrade table, merged with SQL files.
    strata::UpgradeTable table("tour");
    table.add_sql(1, "create_books",
                  "CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL,"
                  " price DOUBLE PRECISION, published TIMESTAMP);");
    table.add(2, "seed_books", [](strata::Connection& c, strata::Engine engine) {
      // Code steps run in the migration's transaction and may branch on the engine.
      const char* note = engine == strata::Engine::postgres ? "from PostgreSQL" : "from SQLite";
      c.execute("INSERT INTO books (id, title, price) VALUES ($1, $2, $3)", {1, std::string("Seeded ") + note, 9.5});
    });
    strata::MigrationSet migrations = table.migrations();
    if (argc > 2) migrations = strata::merge(strata::load_directory(argv[2], pool.engine()), table);

    {
      auto connection = pool.acquire();  // a lease: returned to the pool at the end of the scope
      strata::Migrator migrator(*connection, migrations);
      for (const auto& step : migrator.up().applied) {
        std::cout << "applied " << step.version << " " << step.description << "\n";
      }
    }

    // 3. Queries with $1..$n parameters, typed results.
    pool.execute("INSERT INTO books (id, title, price, published) VALUES ($1, $2, $3, $4)",
                 {2, "Dune", std::optional<double>{}, strata::parse_timestamp("1965-08-01").value()});
    auto count = pool.fetch_value<std::int64_t>("SELECT COUNT(*) FROM books");
    auto price = pool.fetch_value<std::optional<double>>("SELECT price FROM books WHERE id = $1", {2});
    std::cout << count << " books; Dune's price is " << (price ? std::to_string(*price) : "unknown") << "\n";
    if (auto row = pool.fetch_one("SELECT title, published FROM books WHERE id = $1", {2})) {
      std::cout << row->get<std::string>(0) << " was published "
                << strata::format_timestamp(row->get<strata::Timestamp>(1)) << "\n";
    }

    // 4. Transactions are scope guards; nested ones are savepoints.
    {
      auto c = pool.acquire();
      auto tx = c.transaction();
      c.execute("UPDATE books SET price = $1 WHERE id = $2", {12.0, 2});
      {
        auto inner = c.transaction();
        c.execute("DELETE FROM books");
      }  // not committed: rolled back to the savepoint, the books are still there
      tx.commit();
    }
    for (const strata::Row& row : pool.fetch("SELECT id, title, price FROM books ORDER BY id")) {
      std::cout << row.get<std::int64_t>(0) << " " << row.get<std::string>(1) << " "
                << row[2].to_string() << "\n";
    }
  } catch (const strata::Error& e) {
    // One exception type: a kind to act on, the engine's code, the SQL.
    std::cerr << "library_tour: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
