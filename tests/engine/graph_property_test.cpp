// Property tests of the revision graph on both engines: a random DAG of 200
// migrations (merges, branches, dependencies across branches; fixed seed).
//   - up to heads applies every node exactly once, and only after all of its
//     parents and dependencies;
//   - down to any target reverts exactly the applied nodes the target does
//     not need, each before the nodes it needs;
//   - stamp, then up, runs nothing that was stamped.
// Every migration logs itself into a table the test reads back, in order.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "strata/graph.hpp"
#include "strata/migrator.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {

constexpr int kNodes = 200;

// A random DAG: mostly chains, with branches, merges of two heads and
// dependencies on earlier nodes of other branches.
MigrationSet random_dag(std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto pick = [&](const std::vector<Version>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  std::vector<Migration> out;
  std::vector<Version> heads;
  for (Version v = 1; v <= kNodes; ++v) {
    Migration m;
    m.version = v;
    m.description = "n" + std::to_string(v);
    if (v == 1) {
      // the root
    } else if (v < kNodes - 1 && heads.size() >= 2 && chance(0.15)) {  // a merge of two heads
      Version a = pick(heads), b = pick(heads);
      while (b == a) b = pick(heads);
      m.parents = {std::min(a, b), std::max(a, b)};
    } else if (v >= kNodes - 1 || chance(0.2)) {  // a branch from any earlier node (the last two: so it ends with several heads)
      m.parents = {std::uniform_int_distribution<Version>(1, v - 1)(rng)};
    } else {  // the next on a branch
      m.parents = {pick(heads)};
    }
    if (v > 2 && chance(0.1)) {
      const Version d = std::uniform_int_distribution<Version>(1, v - 1)(rng);
      if (std::find(m.parents.begin(), m.parents.end(), d) == m.parents.end()) m.depends_on = {d};
    }
    for (Version p : m.parents) std::erase(heads, p);
    heads.push_back(v);
    m.path = "dag/" + std::to_string(v) + ".sql";
    m.sql = "INSERT INTO ran (v) VALUES (" + std::to_string(v) + ")";
    m.down_path = "dag/" + std::to_string(v) + ".down.sql";
    m.down_sql = "INSERT INTO reverted (v) VALUES (" + std::to_string(v) + ")";
    m.checksum = checksum(m.sql);
    out.push_back(std::move(m));
  }
  return MigrationSet(std::move(out));
}

class GraphProperty : public test::EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    c_ = db().connect();
    const char* serial = engine() == Engine::sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY";
    for (const char* t : {"ran", "reverted"}) {
      c_->execute(std::string("CREATE TABLE ") + t + " (seq " + serial + ", v BIGINT NOT NULL)");
    }
  }
  // The versions logged in `table`, in the order they ran.
  std::vector<Version> log(const char* table) {
    std::vector<Version> out;
    for (const auto& r : c_->query(std::string("SELECT v FROM ") + table + " ORDER BY seq").rows) {
      out.push_back(r.get<std::int64_t>(0));
    }
    return out;
  }
  std::set<Version> recorded() {
    std::set<Version> out;
    for (const auto& a : History(*c_, {}).read()) out.insert(a.version);
    return out;
  }
  void clear_logs() {
    c_->execute("DELETE FROM ran");
    c_->execute("DELETE FROM reverted");
  }
  MigratorOptions options() {
    MigratorOptions o;
    o.background_queue = std::nullopt;
    return o;
  }
  std::unique_ptr<Connection> c_;
};

// Each node of `order` appears after every prerequisite it has in `order`
// (reverse: before).
void expect_respects(const MigrationSet& set, const std::vector<Version>& order, bool reverse) {
  std::map<Version, std::size_t> at;
  for (std::size_t i = 0; i < order.size(); ++i) at[order[i]] = i;
  for (Version v : order) {
    const Migration& m = *set.find(v);
    for (const auto* list : {&m.parents, &m.depends_on}) {
      for (Version p : *list) {
        if (at.count(p) == 0) continue;
        if (reverse) EXPECT_GT(at[p], at[v]) << v << " was reverted after its prerequisite " << p;
        else EXPECT_LT(at[p], at[v]) << v << " ran before its prerequisite " << p;
      }
    }
  }
}

TEST_P(GraphProperty, UpDownStampOnARandomDag) {
  const MigrationSet set = random_dag(20261203);
  const RevisionGraph graph(set);
  ASSERT_GT(graph.heads().size(), 1u) << "the seed should give several heads";
  ASSERT_TRUE(std::any_of(set.all().begin(), set.all().end(), [](const Migration& m) { return m.parents.size() > 1; }));
  ASSERT_TRUE(std::any_of(set.all().begin(), set.all().end(), [](const Migration& m) { return !m.depends_on.empty(); }));
  Migrator migrator(*c_, set, options());

  // Plain up refuses several heads and applies nothing.
  EXPECT_EQ(test::error_from([&] { migrator.up(); }).kind(), ErrorKind::multiple_heads);
  EXPECT_TRUE(recorded().empty());

  // up to heads: every node once, prerequisites first.
  UpOptions to_heads;
  to_heads.targets = graph.heads();
  migrator.up(to_heads);
  std::vector<Version> ran = log("ran");
  EXPECT_EQ(ran.size(), static_cast<std::size_t>(kNodes));
  EXPECT_EQ(std::set<Version>(ran.begin(), ran.end()).size(), static_cast<std::size_t>(kNodes)) << "a node ran twice";
  expect_respects(set, ran, false);

  // down to random targets: exactly what the target does not need goes.
  std::mt19937 rng(7);
  for (int round = 0; round < 6; ++round) {
    clear_logs();
    const std::set<Version> before = recorded();
    const Version target = std::uniform_int_distribution<Version>(1, kNodes)(rng);
    const std::set<Version> keep = graph.ancestors({target});
    DownOptions down;
    down.targets = {target};
    migrator.down(down);
    std::set<Version> expected_reverted;
    for (Version v : before) {
      if (keep.count(v) == 0) expected_reverted.insert(v);
    }
    const std::vector<Version> reverted = log("reverted");
    EXPECT_EQ(std::set<Version>(reverted.begin(), reverted.end()), expected_reverted) << "target " << target;
    EXPECT_EQ(reverted.size(), expected_reverted.size()) << "a node was reverted twice";
    expect_respects(set, reverted, true);
    std::set<Version> after;
    std::set_difference(before.begin(), before.end(), expected_reverted.begin(), expected_reverted.end(),
                        std::inserter(after, after.begin()));
    EXPECT_EQ(recorded(), after);

    // up to another random target applies its missing ancestors only.
    clear_logs();
    const Version up_target = std::uniform_int_distribution<Version>(1, kNodes)(rng);
    UpOptions up;
    up.target = up_target;
    migrator.up(up);
    std::set<Version> expected_ran;
    for (Version v : graph.ancestors({up_target})) {
      if (after.count(v) == 0) expected_ran.insert(v);
    }
    ran = log("ran");
    EXPECT_EQ(std::set<Version>(ran.begin(), ran.end()), expected_ran) << "up to " << up_target;
    expect_respects(set, ran, false);
  }

  // stamp, then up to heads: nothing stamped runs, everything else does once.
  for (int round = 0; round < 3; ++round) {
    const Version target = std::uniform_int_distribution<Version>(1, kNodes)(rng);
    StampOptions stamp;
    stamp.targets = {target};
    clear_logs();
    migrator.stamp(stamp);
    EXPECT_EQ(recorded(), graph.ancestors({target}));
    EXPECT_TRUE(log("ran").empty() && log("reverted").empty()) << "stamp ran a migration";
    migrator.up(to_heads);
    ran = log("ran");
    const std::set<Version> stamped = graph.ancestors({target});
    for (Version v : ran) EXPECT_EQ(stamped.count(v), 0u) << v << " was stamped, then ran";
    EXPECT_EQ(ran.size() + stamped.size(), static_cast<std::size_t>(kNodes));
    expect_respects(set, ran, false);
  }

  // down to base reverts everything, dependents first.
  clear_logs();
  DownOptions all;
  all.base = true;
  migrator.down(all);
  EXPECT_TRUE(recorded().empty());
  EXPECT_EQ(log("reverted").size(), static_cast<std::size_t>(kNodes));
  expect_respects(set, log("reverted"), true);
}

STRATA_INSTANTIATE_ENGINES(GraphProperty);

}  // namespace
}  // namespace strata
