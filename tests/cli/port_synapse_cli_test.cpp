// strata port of a Synapse-layout SQLite database (the test tree, with rows)
// into PostgreSQL, through the real binary and strata.toml: the target is
// created by the same tree (snapshot + deltas, PostgreSQL variants), every
// row arrives, Synapse's state tables say what the source's said, triggers
// do not fire twice, and strata status calls the target up to date.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;

class PortSynapseCli : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite_ = std::make_unique<test::TestDatabase>(Engine::sqlite);
    postgres_ = std::make_unique<test::TestDatabase>(Engine::postgres);
    dir_ = sqlite_->dir();
    fs::copy(fs::path(STRATA_TEST_DATA_DIR) / "synapse" / "tree", dir_ / "schema", fs::copy_options::recursive);
  }
  // One physical database hosting every logical one, as Synapse on SQLite.
  void config(const std::string& url, int schema_version = 13) {
    test::write_file(dir_ / "strata.toml",
                     "[layout]\n"
                     "kind = \"synapse\"\n"
                     "root = \"schema\"\n"
                     "schema_version = " + std::to_string(schema_version) + "\n"
                     "compat_version = 12\n"
                     "[databases.master]\n"
                     "url = \"" + url + "\"\n"
                     "logical = [\"main\", \"state\"]\n");
  }
  test::RunResult run(const std::vector<std::string>& args) { return test::run_strata(dir_, args); }
  // Every row of `table`, ordered, one line each.
  static std::vector<std::string> rows(Connection& c, const std::string& table, const std::string& order) {
    std::vector<std::string> out;
    for (const Row& r : c.fetch("SELECT * FROM " + table + " ORDER BY " + order)) {
      std::string line;
      for (std::size_t i = 0; i < r.size(); ++i) line += (i ? "|" : "") + r[i].to_string();
      out.push_back(line);
    }
    return out;
  }

  std::unique_ptr<test::TestDatabase> sqlite_, postgres_;
  fs::path dir_;
};

TEST_F(PortSynapseCli, EveryRowAndTheSchemaStateArriveAndStatusIsUpToDate) {
  config(sqlite_->url());
  auto up = run({"up", "--skip-code-deltas"});
  ASSERT_EQ(up.code, 0) << up.out << up.err;
  {
    auto c = sqlite_->connect();
    c->execute_script(
        "INSERT INTO users (name, password_hash, creation_ts, is_guest) VALUES\n"
        "  ('@alice:example.org', 'hash-a', 1600000000000, 0), ('@bob:example.org', NULL, 1600000000001, 1),\n"
        "  ('@zoë:example.org', 'hash ✓', NULL, 0);\n"
        "INSERT INTO rooms (room_id, creator, is_public) VALUES ('!r1:example.org', '@alice:example.org', 1),\n"
        "  ('!r2:example.org', '@bob:example.org', 0), ('!r3:example.org', NULL, NULL);\n"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)\n"
        "  INSERT INTO events (stream_ordering, event_id, room_id, type)\n"
        "  SELECT i, '$ev' || i, '!r' || (1 + i % 3) || ':example.org', 'm.room.message' FROM n;\n"
        "INSERT INTO receipts (room_id, user_id, event_id) VALUES ('!r1:example.org', '@alice:example.org', '$ev3');\n"
        "INSERT INTO state_groups (id, room_id, event_id) VALUES (1, '!r1:example.org', '$ev3'),\n"
        "  (2, '!r1:example.org', '$ev6');\n"
        "INSERT INTO state_group_edges (state_group, prev_state_group) VALUES (2, 1);\n"
        "INSERT INTO background_updates (update_name, progress_json, ordering) VALUES ('populate_x', '{}', 3);\n");
  }

  auto ported = run({"port", "--from", sqlite_->url(), "--to", postgres_->url(), "--skip-code-deltas", "--verify",
                     "--json"});
  ASSERT_EQ(ported.code, 0) << ported.out << ported.err;
  auto j = nlohmann::json::parse(ported.out);
  EXPECT_EQ(j["version"], 13);

  auto from = sqlite_->connect();
  auto to = postgres_->connect();
  // Booleans arrive as booleans (rooms.is_public), texts and NULLs as they were.
  EXPECT_EQ(to->fetch_value<std::string>("SELECT pg_typeof(is_public)::text FROM rooms LIMIT 1"), "boolean");
  EXPECT_EQ(to->fetch_value<std::int64_t>("SELECT count(*) FROM rooms WHERE is_public"), 1);
  for (const auto& [table, order] : std::vector<std::pair<std::string, std::string>>{
           {"users", "name"}, {"events", "stream_ordering"}, {"receipts", "room_id, user_id"},
           {"state_groups", "id"}, {"state_group_edges", "state_group"}, {"room_stats", "room_id"},
           {"background_updates", "update_name"}}) {
    EXPECT_EQ(rows(*to, table, order), rows(*from, table, order)) << table;
  }
  // Synapse's record of applied deltas, with the engine-specific file named
  // as PostgreSQL runs it.
  std::vector<std::string> deltas = rows(*from, "applied_schema_deltas", "version, file");
  for (std::string& d : deltas) {
    if (d == "12|12/01room_stats.sql.sqlite") d = "12|12/01room_stats.sql.postgres";
  }
  EXPECT_EQ(rows(*to, "applied_schema_deltas", "version, file"), deltas);
  // The trigger counting events into room_stats did not count them again.
  EXPECT_EQ(to->fetch_value<std::int64_t>("SELECT sum(events)::bigint FROM room_stats"), 500);
  EXPECT_EQ(to->fetch_value<std::int64_t>("SELECT version FROM schema_version"), 13);
  // ... and it is back on: a new event counts once.
  to->execute("INSERT INTO events (stream_ordering, event_id, room_id, type) VALUES (501, '$ev501', "
              "'!r1:example.org', 'm.room.message')");
  EXPECT_EQ(to->fetch_value<std::int64_t>("SELECT sum(events)::bigint FROM room_stats"), 501);

  // strata, pointed at the target, calls it up to date.
  config(postgres_->url());
  auto status = run({"status", "--json", "--skip-code-deltas"});
  ASSERT_EQ(status.code, 0) << status.out << status.err;
  auto s = nlohmann::json::parse(status.out);
  ASSERT_EQ(s["databases"].size(), 1u);
  EXPECT_EQ(s["databases"][0]["schema_version"], 13) << status.out;
  auto validate = run({"validate", "--skip-code-deltas"});
  EXPECT_EQ(validate.code, 0) << validate.out << validate.err;
}

// What the real Synapse tree has and the test tree lacked: a PostgreSQL-only
// delta (no SQLite row records it), a column whose name PostgreSQL folds
// (Synapse's "Lock CHAR(1)"), and an FTS virtual table on SQLite that is a
// plain table on PostgreSQL.
TEST_F(PortSynapseCli, PostgresOnlyDeltasFoldedColumnNamesAndVirtualTables) {
  const fs::path v13 = dir_ / "schema" / "main" / "delta" / "13";
  test::write_file(v13 / "02_pg_only.sql.postgres", "CREATE INDEX users_creation ON users (creation_ts);\n");
  test::write_file(v13 / "03_caps.sql",
                   "CREATE TABLE caps (Lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE, stream_id BIGINT PRIMARY KEY);\n");
  test::write_file(v13 / "04_search.sql.sqlite", "CREATE VIRTUAL TABLE search USING fts4(content);\n");
  test::write_file(v13 / "04_search.sql.postgres", "CREATE TABLE search (content TEXT);\n");
  config(sqlite_->url());
  auto up = run({"up", "--skip-code-deltas"});
  ASSERT_EQ(up.code, 0) << up.out << up.err;
  {
    auto c = sqlite_->connect();
    c->execute("INSERT INTO caps (Lock, stream_id) VALUES ('X', 7)");
    c->execute("INSERT INTO search (content) VALUES ('hello world')");
  }
  auto ported = run({"port", "--from", sqlite_->url(), "--to", postgres_->url(), "--skip-code-deltas"});
  ASSERT_EQ(ported.code, 0) << ported.out << ported.err;
  EXPECT_NE(ported.err.find("table search is a SQLite virtual table"), std::string::npos) << ported.err;
  auto to = postgres_->connect();
  EXPECT_EQ(to->fetch_value<std::string>("SELECT lock || stream_id FROM caps"), "X7");
  EXPECT_EQ(to->fetch_value<std::int64_t>("SELECT count(*) FROM search"), 0);
  EXPECT_EQ(to->fetch_value<std::int64_t>(
                "SELECT count(*) FROM applied_schema_deltas WHERE file = '13/02_pg_only.sql.postgres'"),
            1);
  config(postgres_->url());
  auto validate = run({"validate", "--skip-code-deltas"});
  EXPECT_EQ(validate.code, 0) << validate.out << validate.err;
}

TEST_F(PortSynapseCli, ASourceBehindTheTreeIsRefusedAndTheTargetUntouched) {
  config(sqlite_->url(), 12);
  auto up = run({"up", "--skip-code-deltas"});
  ASSERT_EQ(up.code, 0) << up.out << up.err;
  config(sqlite_->url(), 13);
  auto ported = run({"port", "--from", sqlite_->url(), "--to", postgres_->url(), "--skip-code-deltas"});
  EXPECT_EQ(ported.code, 7) << ported.out << ported.err;
  EXPECT_NE(ported.err.find("schema version 12"), std::string::npos) << ported.err;
  auto to = postgres_->connect();
  EXPECT_FALSE(test::table_exists(*to, "schema_version"));
  EXPECT_FALSE(test::table_exists(*to, "users"));
}

}  // namespace
}  // namespace strata
