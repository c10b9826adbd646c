// bench/rebuild/rebuild_bench.cpp: strata::schema::rebuild_table() on a
// SQLite table of N rows (default 1,000,000) with 3 indexes, 2 triggers, a
// view and an incoming foreign key, paired run by run with two floors run by
// the sqlite3 client on a copy of the same database file:
//   raw   CREATE TABLE new; INSERT INTO new SELECT ... FROM old; the 3
//         CREATE INDEX (the copy and index builds no rebuild can avoid; the
//         issue's yardstick);
//   same  the very statements the rebuild runs (diff()'s rebuild SQL: drop
//         the view, create, copy, drop the old table, rename, indexes,
//         triggers, view), in one transaction, with no inspection and no
//         foreign key check.
// The rebuild drops a column, retypes one and adds a CHECK in one go.
//
//   strata_rebuild_bench SQLITE3 WORKDIR [ROWS] [PAIRS]
// prints a Markdown table of the medians and ratios. Nothing asserts.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "strata/connection.hpp"
#include "strata/schema/diff.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/schema/rebuild.hpp"
#include "strata/value.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void create(const std::string& path, long rows) {
  auto c = strata::connect("sqlite:" + path);
  c->execute_script(
      "CREATE TABLE categories (id INTEGER PRIMARY KEY);\n"
      "INSERT INTO categories (id) VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);\n"
      "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INT, note TEXT,\n"
      "                    category_id INTEGER);\n"
      "CREATE INDEX items_name ON items (name);\n"
      "CREATE INDEX items_qty ON items (qty DESC);\n"
      "CREATE UNIQUE INDEX items_name_qty ON items (name, qty);\n"
      "CREATE TABLE log (item_id INTEGER, what TEXT);\n"
      "CREATE TRIGGER items_ins AFTER INSERT ON items BEGIN INSERT INTO log VALUES (new.id, 'ins'); END;\n"
      "CREATE TRIGGER items_upd AFTER UPDATE OF name ON items BEGIN INSERT INTO log VALUES (new.id, 'upd'); END;\n"
      "CREATE VIEW item_names AS SELECT id, name FROM items;\n"
      "CREATE TABLE orders (id INTEGER PRIMARY KEY,\n"
      "                     item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE);\n");
  c->execute(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)\n"
      "  INSERT INTO items (id, name, qty, note, category_id)\n"
      "  SELECT i, 'item-' || i, i % 1000, 'n' || (i % 7), i % 13 FROM n",
      {strata::Value(static_cast<std::int64_t>(rows))});
  c->execute("INSERT INTO orders (id, item_id) SELECT id, id FROM items WHERE id % 100 = 1");
  c->execute("DELETE FROM log");
  c->execute("PRAGMA wal_checkpoint(TRUNCATE)");
}

bool g_drop_note = true;

void edit(strata::schema::Table& t) {
  if (g_drop_note) std::erase_if(t.columns, [](const strata::schema::Column& col) { return col.name == "note"; });
  for (strata::schema::Column& col : t.columns) {
    if (col.name == "qty") col.type.raw = "BIGINT";
  }
  t.checks.push_back({"", "qty >= 0", false, std::nullopt});
}

void copy_db(const fs::path& from, const fs::path& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(to.string() + suffix);
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

double run_client(const std::string& sqlite3, const fs::path& db, const fs::path& script) {
  const std::string cmd = fmt::format("'{}' '{}' < '{}' > /dev/null", sqlite3, db.string(), script.string());
  const auto t = Clock::now();
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return seconds_since(t);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: strata_rebuild_bench SQLITE3 WORKDIR [ROWS] [PAIRS]\n");
    return 2;
  }
  const std::string sqlite3 = argv[1];
  const fs::path work = argv[2];
  const long rows = argc > 3 ? std::atol(argv[3]) : 1'000'000;
  const int pairs = argc > 4 ? std::max(1, std::atoi(argv[4])) : 3;
  try {
    fs::create_directories(work);
    const fs::path base = work / "base.db", db = work / "run.db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(base.string() + suffix);
    create(base.string(), rows);

    fmt::print("| scenario | run | median | runs | × raw copy + indexes | × same SQL in sqlite3 |\n");
    fmt::print("| --- | --- | ---: | ---: | ---: | ---: |\n");
    for (bool drop : {true, false}) {
      g_drop_note = drop;
      const char* scenario = drop ? "drop a column, retype one, add a CHECK" : "retype a column, add a CHECK";
      // The statements a rebuild runs, from a dry run on the base.
      std::string same_sql;
      {
        auto c = strata::connect("sqlite:" + base.string());
        strata::schema::RebuildOptions dry;
        dry.dry_run = true;
        same_sql = strata::schema::rebuild_table(*c, "items", edit, dry).sql();
      }
      const fs::path same = work / "same.sql", raw = work / "raw.sql";
      std::ofstream(same) << "PRAGMA journal_mode = WAL;\nPRAGMA foreign_keys = OFF;\nBEGIN;\n" << same_sql
                          << "\nCOMMIT;\n";
      const std::string note_col = drop ? "" : " note TEXT,", note = drop ? "" : " note,";
      std::ofstream(raw) << "PRAGMA journal_mode = WAL;\nBEGIN;\n"
                         << "CREATE TABLE raw_copy (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty BIGINT," << note_col
                         << "\n  category_id INTEGER, CHECK (qty >= 0));\n"
                         << "INSERT INTO raw_copy (id, name, qty," << note << " category_id) SELECT id, name, qty,"
                         << note << " category_id FROM items;\n"
                            "CREATE INDEX raw_name ON raw_copy (name);\n"
                            "CREATE INDEX raw_qty ON raw_copy (qty DESC);\n"
                            "CREATE UNIQUE INDEX raw_name_qty ON raw_copy (name, qty);\n"
                            "COMMIT;\n";

      std::vector<double> t_raw, t_same, t_strata;
      for (int i = 0; i < pairs; ++i) {
        // Rotate the order so no run always comes first or last.
        for (int k = 0; k < 3; ++k) {
          const int which = (i + k) % 3;
          copy_db(base, db);
          if (which == 0) {
            t_raw.push_back(run_client(sqlite3, db, raw));
          } else if (which == 1) {
            t_same.push_back(run_client(sqlite3, db, same));
          } else {
            const auto t = Clock::now();
            auto c = strata::connect("sqlite:" + db.string());
            strata::schema::rebuild_table(*c, "items", edit);
            c.reset();
            t_strata.push_back(seconds_since(t));
          }
        }
      }
      const double r = median(t_raw), s = median(t_same), x = median(t_strata);
      fmt::print("| {} | floor: raw copy + 3 index builds (sqlite3) | {:.3f} s | {} | 1.00× | {:.2f}× |\n", scenario,
                 r, pairs, r / s);
      fmt::print("| | floor: the rebuild's own SQL (sqlite3) | {:.3f} s | {} | {:.2f}× | 1.00× |\n", s, pairs, s / r);
      fmt::print("| | **strata rebuild_table()** (connect, inspect, diff, run, FK check) | {:.3f} s | {} | {:.2f}× | "
                 "{:.2f}× |\n",
                 x, pairs, x / r, x / s);
    }
    fmt::print("\n{} rows in items (3 indexes, 2 triggers, a view, an incoming foreign key from 1% as many orders).\n",
               rows);
    for (const char* suffix : {"", "-wal", "-shm"}) {
      fs::remove(base.string() + suffix);
      fs::remove(db.string() + suffix);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata_rebuild_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
