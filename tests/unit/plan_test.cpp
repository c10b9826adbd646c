// Comparing source with history, and ordering the graph.
#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/plan.hpp"

namespace strata {
namespace {

Migration make(Version v, std::vector<Version> parents, std::string checksum = "c") {
  Migration m;
  m.version = v;
  m.description = "m" + std::to_string(v);
  m.parents = std::move(parents);
  m.checksum = std::move(checksum);
  return m;
}

AppliedMigration applied(Version v, std::string checksum = "c", bool success = true) {
  AppliedMigration a;
  a.version = v;
  a.description = "m" + std::to_string(v);
  a.checksum = std::move(checksum);
  a.success = success;
  return a;
}

std::vector<Version> versions(const std::vector<const Migration*>& plan) {
  std::vector<Version> out;
  for (auto* m : plan) out.push_back(m->version);
  return out;
}

TEST(Compare, EveryState) {
  MigrationSet source({make(2, {}), make(3, {2}, "new"), make(5, {3}), make(6, {5})});
  std::vector<AppliedMigration> history{applied(1), applied(2), applied(3, "old"), applied(5, "c", false),
                                        applied(9)};
  auto st = compare(source, history);
  ASSERT_EQ(st.size(), 6u);
  EXPECT_EQ(st[0].state, MigrationState::missing);  // 1: older than newest known
  EXPECT_EQ(st[1].state, MigrationState::applied);
  EXPECT_EQ(st[2].state, MigrationState::changed);
  EXPECT_EQ(st[3].state, MigrationState::dirty);
  EXPECT_EQ(st[4].state, MigrationState::pending);  // 6
  EXPECT_EQ(st[5].state, MigrationState::ahead);    // 9: newer than everything known
  EXPECT_EQ(st[5].migration, nullptr);
}

TEST(PlanUp, LinearInVersionOrder) {
  MigrationSet source({make(1, {}), make(2, {1}), make(3, {2})});
  EXPECT_EQ(versions(plan_up(source, {})), (std::vector<Version>{1, 2, 3}));
  EXPECT_EQ(versions(plan_up(source, {applied(1)})), (std::vector<Version>{2, 3}));
  EXPECT_TRUE(plan_up(source, {applied(1), applied(2), applied(3)}).empty());
}

TEST(PlanUp, TargetStopsAtTarget) {
  MigrationSet source({make(1, {}), make(2, {1}), make(3, {2})});
  EXPECT_EQ(versions(plan_up(source, {}, 2)), (std::vector<Version>{1, 2}));
  EXPECT_TRUE(plan_up(source, {applied(1), applied(2)}, 2).empty());
}

TEST(PlanUp, UnknownTargetIsUsageError) {
  MigrationSet source({make(1, {})});
  try {
    plan_up(source, {}, 7);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
  }
}

TEST(PlanUp, BranchesAndMergeRespectParents) {
  // 1 -> {2, 4}; 2 -> 3; merge 5 <- {3, 4}
  MigrationSet source({make(1, {}), make(2, {1}), make(3, {2}), make(4, {1}), make(5, {3, 4})});
  auto order = versions(plan_up(source, {}));
  EXPECT_EQ(order, (std::vector<Version>{1, 2, 3, 4, 5}));
  // Target 4 needs only its ancestors.
  EXPECT_EQ(versions(plan_up(source, {}, 4)), (std::vector<Version>{1, 4}));
}

TEST(PlanUp, ChildBeforeLowerVersionedParentIsOrderedByGraph) {
  MigrationSet source({make(1, {}), make(2, {3}), make(3, {1})});
  EXPECT_EQ(versions(plan_up(source, {})), (std::vector<Version>{1, 3, 2}));
}

TEST(PlanUp, CycleIsSourceError) {
  MigrationSet source({make(1, {}), make(2, {3}), make(3, {2})});
  try {
    plan_up(source, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::source);
  }
}

TEST(PlanUp, UnknownParentIsSourceError) {
  MigrationSet source({make(2, {1})});
  EXPECT_THROW(plan_up(source, {}), Error);
  EXPECT_EQ(plan_up(source, {applied(1)}).size(), 1u);  // an applied parent is fine
}

TEST(MigrationSet, DuplicateVersionsAreRejected) {
  EXPECT_THROW(MigrationSet({make(1, {}), make(1, {})}), Error);
}

}  // namespace
}  // namespace strata
