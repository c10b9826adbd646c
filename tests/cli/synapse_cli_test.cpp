// A Synapse-shaped tree over two physical databases, one SQLite and one
// PostgreSQL, through the real binary and strata.toml.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::error_from;
using test::table_exists;

class SynapseCli : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite_ = std::make_unique<test::TestDatabase>(Engine::sqlite);
    postgres_ = std::make_unique<test::TestDatabase>(Engine::postgres);
    dir_ = sqlite_->dir();
    fs::copy(fs::path(STRATA_TEST_DATA_DIR) / "synapse" / "tree", dir_ / "schema", fs::copy_options::recursive);
    config(13, 12);
  }
  void config(int schema_version, int compat_version) {
    test::write_file(dir_ / "strata.toml",
                     "[layout]\n"
                     "kind = \"synapse\"\n"
                     "root = \"schema\"\n"
                     "schema_version = " + std::to_string(schema_version) + "\n"
                     "compat_version = " + std::to_string(compat_version) + "\n"
                     "[databases.master]\n"
                     "url = \"" + sqlite_->url() + "\"\n"
                     "logical = [\"main\"]\n"
                     "[databases.state]\n"
                     "url = \"" + postgres_->url() + "\"\n"
                     "logical = [\"state\"]\n");
  }
  test::RunResult run(const std::vector<std::string>& args) { return test::run_strata(dir_, args); }

  std::unique_ptr<test::TestDatabase> sqlite_, postgres_;
  fs::path dir_;
};

TEST_F(SynapseCli, TablesLandInTheirPhysicalDatabasesAndASecondRunChangesNothing) {
  auto first = run({"up", "--skip-code-deltas"});
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("full_schemas/10"), std::string::npos) << first.out;
  EXPECT_NE(first.err.find("01backfill_guests.py"), std::string::npos) << first.err;  // skipped, with a warning

  auto main_db = sqlite_->connect();
  auto state_db = postgres_->connect();
  for (const char* t : {"users", "rooms", "events", "receipts", "room_stats", "background_updates"}) {
    EXPECT_TRUE(table_exists(*main_db, t)) << t;
  }
  for (const char* t : {"state_groups", "state_group_edges", "background_updates"}) {
    EXPECT_TRUE(table_exists(*state_db, t)) << t;
  }
  EXPECT_FALSE(table_exists(*main_db, "state_groups"));
  EXPECT_FALSE(table_exists(*state_db, "users"));

  auto second = run({"up", "--skip-code-deltas", "--json"});
  ASSERT_EQ(second.code, 0) << second.err;
  auto j = nlohmann::json::parse(second.out);
  ASSERT_EQ(j["databases"].size(), 2u);
  EXPECT_TRUE(j["databases"][0]["applied"].empty());
  EXPECT_TRUE(j["databases"][1]["applied"].empty());

  auto status = run({"status", "--json", "--skip-code-deltas"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto s = nlohmann::json::parse(status.out);
  EXPECT_EQ(s["databases"][0]["schema_version"], 13);
  EXPECT_EQ(s["databases"][1]["schema_version"], 13);
  EXPECT_EQ(run({"validate", "--skip-code-deltas"}).code, 0);
}

TEST_F(SynapseCli, UnboundCodeDeltaStopsWithoutTheFlag) {
  auto r = run({"up"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("--skip-code-deltas"), std::string::npos) << r.err;
}

TEST_F(SynapseCli, GroupIsRefusedForASynapseLayout) {
  auto r = run({"up", "--skip-code-deltas", "--group"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--group"), std::string::npos) << r.err;
  EXPECT_FALSE(table_exists(*sqlite_->connect(), "users"));
}

TEST_F(SynapseCli, CompatTooNewDatabaseIsRefused) {
  config(13, 13);
  ASSERT_EQ(run({"up", "--skip-code-deltas"}).code, 0);
  config(12, 12);  // older code
  auto r = run({"up", "--skip-code-deltas"});
  EXPECT_EQ(r.code, 8) << r.err;
  EXPECT_NE(r.err.find("too new"), std::string::npos) << r.err;
  EXPECT_EQ(run({"validate", "--skip-code-deltas"}).code, 8);
}

TEST_F(SynapseCli, LogicalDatabaseMappingErrors) {
  test::write_file(dir_ / "strata.toml",
                   "[layout]\nkind = \"synapse\"\nroot = \"schema\"\nschema_version = 13\n"
                   "[databases.master]\nurl = \"" + sqlite_->url() + "\"\nlogical = [\"main\", \"state\"]\n"
                   "[databases.state]\nurl = \"" + postgres_->url() + "\"\nlogical = [\"state\"]\n");
  auto twice = run({"up"});
  EXPECT_EQ(twice.code, 3) << twice.err;
  EXPECT_NE(twice.err.find("configured twice"), std::string::npos) << twice.err;

  test::write_file(dir_ / "strata.toml",
                   "[layout]\nkind = \"synapse\"\nroot = \"schema\"\nschema_version = 13\n"
                   "[databases.master]\nurl = \"" + sqlite_->url() + "\"\nlogical = [\"main\"]\n");
  auto missing = run({"up"});
  EXPECT_EQ(missing.code, 3) << missing.err;
  EXPECT_NE(missing.err.find("'state'"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace strata
