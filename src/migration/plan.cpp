#include "strata/plan.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "migration/compare.hpp"
#include "strata/error.hpp"

namespace strata {

const char* to_string(MigrationState state) noexcept {
  switch (state) {
    case MigrationState::applied: return "applied";
    case MigrationState::pending: return "pending";
    case MigrationState::changed: return "changed";
    case MigrationState::missing: return "missing";
    case MigrationState::ahead: return "ahead";
    case MigrationState::dirty: return "dirty";
  }
  return "unknown";
}

std::vector<MigrationStatus> compare(const MigrationSet& source,
                                     const std::vector<AppliedMigration>& history) {
  std::vector<MigrationStatus> out;
  out.reserve(source.all().size() + history.size());
  detail::for_each_status(source, history,
                          [&](const detail::StatusView& v) { out.push_back(detail::to_status(v)); });
  return out;
}

namespace {

std::vector<const Migration*> plan(const MigrationSet& source, const std::vector<AppliedMigration>& history,
                                   const std::vector<Version>* targets) {
  // The applied versions, sorted (the history comes in version order): one
  // allocation where a hash set took one per row.
  std::vector<Version> applied_versions;
  applied_versions.reserve(history.size());
  for (const auto& h : history) applied_versions.push_back(h.version);
  if (!std::is_sorted(applied_versions.begin(), applied_versions.end())) {
    std::sort(applied_versions.begin(), applied_versions.end());
  }
  auto is_applied = [&](Version v) {
    return std::binary_search(applied_versions.begin(), applied_versions.end(), v);
  };

  // The nodes to consider: everything, or the targets and their ancestors.
  std::unordered_set<Version> wanted;
  if (targets != nullptr) {
    for (Version t : *targets) {
      if (source.find(t) == nullptr) {
        throw Error(ErrorKind::usage, "target version " + std::to_string(t) + " is not in the migration source");
      }
    }
    std::vector<Version> stack(targets->begin(), targets->end());
    while (!stack.empty()) {
      Version v = stack.back();
      stack.pop_back();
      if (!wanted.insert(v).second) continue;
      const Migration* m = source.find(v);
      if (m == nullptr) continue;  // reported below
      stack.insert(stack.end(), m->parents.begin(), m->parents.end());
      stack.insert(stack.end(), m->depends_on.begin(), m->depends_on.end());
    }
  }
  auto in_scope = [&](Version v) { return targets == nullptr || wanted.count(v) != 0; };

  // Kahn's algorithm over pending nodes; applied prerequisites count as
  // satisfied. The ready queue is a min-heap on version, so a linear chain
  // comes out in version order and parallel branches interleave by version.
  std::unordered_map<Version, int> waiting;
  std::unordered_map<Version, std::vector<const Migration*>> children;
  std::priority_queue<std::pair<Version, const Migration*>,
                      std::vector<std::pair<Version, const Migration*>>, std::greater<>>
      ready;
  std::size_t pending = 0;
  for (const auto& m : source.all()) {
    if (is_applied(m.version) || !in_scope(m.version)) continue;
    ++pending;
    int unmet = 0;
    for (const auto* list : {&m.parents, &m.depends_on}) {
      for (Version p : *list) {
        if (source.find(p) == nullptr && !is_applied(p)) {
          throw Error(ErrorKind::source, "migration " + std::to_string(m.version) + " names " +
                                             (list == &m.parents ? "parent " : "dependency ") + std::to_string(p) +
                                             ", which the source does not have");
        }
        if (!is_applied(p)) {
          ++unmet;
          children[p].push_back(&m);
        }
      }
    }
    waiting[m.version] = unmet;
    if (unmet == 0) ready.emplace(m.version, &m);
  }

  std::vector<const Migration*> order;
  order.reserve(pending);
  while (!ready.empty()) {
    const Migration* m = ready.top().second;
    ready.pop();
    order.push_back(m);
    auto it = children.find(m->version);
    if (it == children.end()) continue;
    for (const Migration* child : it->second) {
      if (--waiting[child->version] == 0) ready.emplace(child->version, child);
    }
  }
  if (order.size() != pending) {
    throw Error(ErrorKind::source, "the migration graph has a cycle among pending migrations");
  }
  return order;
}

}  // namespace

std::vector<const Migration*> plan_up(const MigrationSet& source, const std::vector<AppliedMigration>& history,
                                      const std::vector<Version>& targets) {
  return plan(source, history, &targets);
}

std::vector<const Migration*> plan_up(const MigrationSet& source, const std::vector<AppliedMigration>& history,
                                      std::optional<Version> target) {
  if (!target) return plan(source, history, nullptr);
  const std::vector<Version> targets{*target};
  return plan(source, history, &targets);
}

std::vector<Version> revert_order(const MigrationSet& source, const std::vector<AppliedMigration>& history) {
  std::unordered_set<Version> applied;
  for (const auto& h : history) applied.insert(h.version);
  // needed_by[p]: applied migrations needing p, still to revert first.
  std::unordered_map<Version, int> needed_by;
  for (Version v : applied) {
    const Migration* m = source.find(v);
    if (m == nullptr) continue;
    for (const auto* list : {&m->parents, &m->depends_on}) {
      for (Version p : *list) {
        if (applied.count(p) != 0) ++needed_by[p];
      }
    }
  }
  std::priority_queue<Version> ready;  // max-heap: newest first
  for (Version v : applied) {
    if (needed_by[v] == 0) ready.push(v);
  }
  std::vector<Version> order;
  order.reserve(applied.size());
  while (!ready.empty()) {
    const Version v = ready.top();
    ready.pop();
    order.push_back(v);
    const Migration* m = source.find(v);
    if (m == nullptr) continue;
    for (const auto* list : {&m->parents, &m->depends_on}) {
      for (Version p : *list) {
        if (applied.count(p) != 0 && --needed_by[p] == 0) ready.push(p);
      }
    }
  }
  return order;  // a cycle (refused when loading) would leave nodes out
}

}  // namespace strata
