// The Synapse layout on both engines: snapshot + deltas, versions, compat,
// late deltas, duplicate names and code deltas.
#include <gtest/gtest.h>

#include <fstream>

#include "strata/error.hpp"
#include "strata/schema/dump.hpp"
#include "strata/synapse.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::error_from;
using test::table_exists;

class SynapseTest : public test::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    root_ = db().dir() / "schema";
    fs::copy(fs::path(STRATA_TEST_DATA_DIR) / "synapse" / "tree", root_, fs::copy_options::recursive);
  }
  SynapseLayout layout(Version schema = 13, Version compat = 12) { return {root_, schema, compat}; }
  SynapseOptions options() {
    SynapseOptions o;
    o.code_deltas["13/01backfill_guests.py"] = CodeDelta{
        [this](Connection& c, Engine) { c.execute("INSERT INTO users (name) VALUES ('created:' || $1)", {++creates_}); },
        [this](Connection& c, Engine) {
          ++upgrades_;
          c.execute("UPDATE users SET is_guest = 0");
        }};
    o.on_warning = [this](std::string_view w) { warnings_.emplace_back(w); };
    return o;
  }
  std::vector<std::string> applied(Connection& c) {
    std::vector<std::string> out;
    for (const auto& r : c.query("SELECT file FROM applied_schema_deltas ORDER BY version, file").rows) {
      out.push_back(r.get<std::string>(0));
    }
    return out;
  }

  fs::path root_;
  int creates_ = 0, upgrades_ = 0;
  std::vector<std::string> warnings_;
};

TEST_P(SynapseTest, FreshDatabaseFromSnapshotThenLaterDeltas) {
  auto c = db().connect();
  SynapseMigrator m(*c, layout(), {"main", "state"}, options());
  auto result = m.up();
  ASSERT_FALSE(result.applied.empty());
  EXPECT_EQ(result.applied.front().file, "full_schemas/10");
  for (const char* t : {"background_updates", "users", "rooms", "events", "state_groups", "receipts", "room_stats",
                        "state_group_edges"}) {
    EXPECT_TRUE(table_exists(*c, t)) << t;
  }
  EXPECT_EQ(applied(*c), (std::vector<std::string>{"11/01receipts.sql", "11/02update_ordering.sql",
                                                   "12/01room_stats.sql." + std::string(to_string(engine())),
                                                   "12/02state_edges.sql", "13/01backfill_guests.py",
                                                   "13/01edges_index.sql"}));
  auto v = c->query("SELECT version, upgraded FROM schema_version").rows.at(0);
  EXPECT_EQ(v.get<std::int64_t>(0), 13);
  EXPECT_TRUE(v.get<bool>(1));
  EXPECT_EQ(c->query("SELECT compat_version FROM schema_compat_version").rows.at(0).get<std::int64_t>(0), 12);
  // Fresh: run_create only.
  EXPECT_EQ(creates_, 1);
  EXPECT_EQ(upgrades_, 0);
  // The engine-specific trigger works.
  c->execute("INSERT INTO events (stream_ordering, event_id, room_id, type) VALUES (1, '$a', '!r', 'm')");
  c->execute("INSERT INTO events (stream_ordering, event_id, room_id, type) VALUES (2, '$b', '!r', 'm')");
  EXPECT_EQ(c->query("SELECT events FROM room_stats WHERE room_id = '!r'").rows.at(0).get<std::int64_t>(0), 2);
  // The README in delta/13 was reported, not run.
  EXPECT_FALSE(warnings_.empty());

  // A second run changes nothing.
  EXPECT_TRUE(SynapseMigrator(*c, layout(), {"main", "state"}, options()).up().applied.empty());
  EXPECT_TRUE(SynapseMigrator(*c, layout(), {"main", "state"}, options()).validate().ok());
}

// The state tables come from the tree's own common/schema_version.sql (so a
// database strata builds has applied_module_schemas, which Synapse reads at
// start-up), and from strata's copy of it when a tree has none.
TEST_P(SynapseTest, StateTablesComeFromTheTreesSchemaVersionFile) {
  {
    std::ofstream out(root_ / "common" / "schema_version.sql", std::ios::app);
    out << "CREATE TABLE IF NOT EXISTS from_the_tree (x INTEGER);\n";
  }
  auto c = db().connect();
  SynapseMigrator(*c, layout(), {"main", "state"}, options()).up();
  EXPECT_TRUE(table_exists(*c, "from_the_tree"));
  EXPECT_TRUE(table_exists(*c, "applied_module_schemas"));
  c->execute("INSERT INTO applied_module_schemas (module_name, file) VALUES ('m', 'f.sql')");

  fs::remove(root_ / "common" / "schema_version.sql");
  test::TestDatabase other(engine());
  auto o = other.connect();
  SynapseMigrator(*o, layout(), {"main", "state"}, options()).up();
  EXPECT_FALSE(table_exists(*o, "from_the_tree"));
  EXPECT_TRUE(table_exists(*o, "applied_module_schemas"));
}

TEST_P(SynapseTest, ExistingDatabaseAppliesFromItsVersionAndRunsUpgradePhase) {
  auto c = db().connect();
  SynapseMigrator(*c, layout(11, 11), {"main", "state"}, options()).up();
  EXPECT_FALSE(table_exists(*c, "room_stats"));
  auto st = SynapseMigrator(*c, layout(), {"main", "state"}, options()).status();
  EXPECT_EQ(st.current_version, 11);
  auto later = SynapseMigrator(*c, layout(), {"main", "state"}, options()).up();
  EXPECT_EQ(later.applied.size(), 4u);
  EXPECT_TRUE(table_exists(*c, "room_stats"));
  EXPECT_EQ(creates_, 1);
  EXPECT_EQ(upgrades_, 1);  // an existing database runs the upgrade phase too
}

TEST_P(SynapseTest, LogicalDatabasesLandOnlyWhereHosted) {
  auto c = db().connect();
  SynapseMigrator(*c, layout(), {"state"}, options()).up();
  EXPECT_TRUE(table_exists(*c, "state_groups"));
  EXPECT_TRUE(table_exists(*c, "background_updates"));  // common goes everywhere
  EXPECT_FALSE(table_exists(*c, "users"));
  EXPECT_FALSE(table_exists(*c, "receipts"));
}

TEST_P(SynapseTest, CompatTooNewIsRefused) {
  auto c = db().connect();
  SynapseMigrator(*c, layout(13, 13), {"main", "state"}, options()).up();
  Error e = error_from([&] { SynapseMigrator(*c, layout(12, 11), {"main", "state"}, options()).up(); });
  EXPECT_EQ(e.kind(), ErrorKind::incompatible);
  EXPECT_NE(std::string(e.what()).find("13"), std::string::npos) << e.what();
  EXPECT_EQ(SynapseMigrator(*c, layout(12, 11), {"main", "state"}, options()).validate().kind,
            ErrorKind::incompatible);
  // Code at 13 that is compatible down to 12 is fine with a compat-12 database.
  EXPECT_TRUE(SynapseMigrator(*c, layout(13, 12), {"main", "state"}, options()).validate().ok());
}

TEST_P(SynapseTest, DeltaAddedToAPassedVersionIsReportedNotIgnored) {
  auto c = db().connect();
  SynapseMigrator(*c, layout(), {"main", "state"}, options()).up();
  test::write_file(root_ / "main" / "delta" / "11" / "03forgotten.sql", "CREATE TABLE forgotten (x INT);\n");
  test::write_file(root_ / "main" / "delta" / "13" / "03current.sql", "CREATE TABLE current_v (x INT);\n");
  SynapseMigrator m(*c, layout(), {"main", "state"}, options());
  auto st = m.status();
  bool late = false, pending = false;
  for (const auto& d : st.deltas) {
    if (d.file == "11/03forgotten.sql") late = d.state == DeltaState::late;
    if (d.file == "13/03current.sql") pending = d.state == DeltaState::pending;
  }
  EXPECT_TRUE(late);
  EXPECT_TRUE(pending);  // the current version, reached by deltas: Synapse applies it
  EXPECT_FALSE(st.warnings.empty());
  auto report = m.validate();
  EXPECT_FALSE(report.ok());
  EXPECT_NE(report.errors.at(0).find("03forgotten.sql"), std::string::npos);
  m.up();
  EXPECT_TRUE(table_exists(*c, "current_v"));
  EXPECT_FALSE(table_exists(*c, "forgotten"));
}

TEST_P(SynapseTest, SameFileNameInTwoDirectoriesOfOneVersionIsAnError) {
  test::write_file(root_ / "common" / "delta" / "12" / "02state_edges.sql", "SELECT 1;\n");
  auto c = db().connect();
  Error e = error_from([&] { SynapseMigrator(*c, layout(), {"main", "state"}, options()).up(); });
  EXPECT_EQ(e.kind(), ErrorKind::source);
  EXPECT_NE(std::string(e.what()).find("02state_edges.sql"), std::string::npos) << e.what();
  EXPECT_FALSE(table_exists(*c, "users"));  // nothing ran
}

TEST_P(SynapseTest, UnboundCodeDeltaFailsUnlessSkipped) {
  auto c = db().connect();
  SynapseOptions plain;
  Error e = error_from([&] { SynapseMigrator(*c, layout(), {"main", "state"}, plain).up(); });
  EXPECT_EQ(e.kind(), ErrorKind::source);
  EXPECT_NE(std::string(e.what()).find("01backfill_guests.py"), std::string::npos) << e.what();
  EXPECT_FALSE(table_exists(*c, "users"));

  plain.skip_code_deltas = true;
  std::vector<std::string> warnings;
  plain.on_warning = [&](std::string_view w) { warnings.emplace_back(w); };
  SynapseMigrator(*c, layout(), {"main", "state"}, plain).up();
  auto files = applied(*c);
  EXPECT_EQ(std::count(files.begin(), files.end(), "13/01backfill_guests.py"), 0);
  bool warned = false;
  for (const auto& w : warnings) warned = warned || w.find("01backfill_guests.py") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST_P(SynapseTest, WorkerValidationRefusesABehindDatabase) {
  auto c = db().connect();
  EXPECT_FALSE(SynapseMigrator(*c, layout(), {"main", "state"}, options()).validate().ok());  // empty
  SynapseMigrator(*c, layout(12, 12), {"main", "state"}, options()).up();
  auto report = SynapseMigrator(*c, layout(), {"main", "state"}, options()).validate();
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.errors.at(0).find("behind"), std::string::npos) << report.errors.at(0);
  EXPECT_NE(report.errors.at(0).find("13/01edges_index.sql"), std::string::npos) << report.errors.at(0);
}

TEST_P(SynapseTest, ReplayWithoutSnapshotsReachesTheSameTables) {
  auto c = db().connect();
  SynapseLayout l = layout();
  l.use_snapshots = false;
  SynapseMigrator(*c, l, {"main", "state"}, options()).up();
  for (const char* t : {"users", "rooms", "events", "state_groups", "room_stats", "state_group_edges"}) {
    EXPECT_TRUE(table_exists(*c, t)) << t;
  }
  EXPECT_EQ(applied(*c).size(), 13u);  // every delta of versions 1 to 13
}

// The property that makes snapshots safe: a database created from the
// snapshot plus later deltas has exactly the schema of one built by replaying
// every delta from the start.
TEST_P(SynapseTest, SnapshotPlusDeltasDumpsIdenticallyToFullReplay) {
  test::TestDatabase replay_db(engine());
  auto from_snapshot = db().connect();
  auto replayed = replay_db.connect();
  SynapseMigrator(*from_snapshot, layout(), {"main", "state"}, options()).up();
  SynapseLayout l = layout();
  l.use_snapshots = false;
  SynapseMigrator(*replayed, l, {"main", "state"}, options()).up();

  schema::DumpOptions d;
  d.exclude_tables = {"schema_version", "schema_compat_version", "applied_schema_deltas"};
  // The code delta's rows are data, not schema; the dump holds no data.
  std::string a = schema::dump_schema(*from_snapshot, d);
  std::string b = schema::dump_schema(*replayed, d);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("room_stats"), std::string::npos);
  EXPECT_NE(a.find("events_count"), std::string::npos);  // the trigger
}

STRATA_INSTANTIATE_ENGINES(SynapseTest);

}  // namespace
}  // namespace strata
