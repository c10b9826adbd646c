#include "strata/plan.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>
#include <unordered_set>

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
  const Version newest_known = source.latest();
  auto s = source.all().begin();
  const auto s_end = source.all().end();
  auto h = history.begin();
  // Both lists are ordered by version: merge them.
  while (s != s_end || h != history.end()) {
    MigrationStatus st;
    if (h == history.end() || (s != s_end && s->version < h->version)) {
      st.version = s->version;
      st.description = s->description;
      st.migration = &*s;
      st.state = MigrationState::pending;
      ++s;
    } else if (s == s_end || h->version < s->version) {
      st.version = h->version;
      st.description = h->description;
      st.applied = *h;
      st.state = !h->success                 ? MigrationState::dirty
                 : h->version > newest_known ? MigrationState::ahead
                                             : MigrationState::missing;
      ++h;
    } else {
      st.version = s->version;
      st.description = s->description;
      st.migration = &*s;
      st.applied = *h;
      st.state = !h->success                   ? MigrationState::dirty
                 : h->checksum == s->checksum ? MigrationState::applied
                                              : MigrationState::changed;
      ++s;
      ++h;
    }
    out.push_back(std::move(st));
  }
  return out;
}

std::vector<const Migration*> plan_up(const MigrationSet& source,
                                      const std::vector<AppliedMigration>& history,
                                      std::optional<Version> target) {
  std::unordered_set<Version> applied;
  applied.reserve(history.size());
  for (const auto& h : history) applied.insert(h.version);

  const auto& all = source.all();
  if (target && source.find(*target) == nullptr) {
    throw Error(ErrorKind::usage, "target version " + std::to_string(*target) +
                                      " is not in the migration source");
  }

  // The nodes to consider: everything, or the target and its ancestors.
  std::unordered_set<Version> wanted;
  if (target) {
    std::vector<Version> stack{*target};
    while (!stack.empty()) {
      Version v = stack.back();
      stack.pop_back();
      if (!wanted.insert(v).second) continue;
      const Migration* m = source.find(v);
      if (m == nullptr) continue;  // reported below
      for (Version p : m->parents) stack.push_back(p);
    }
  }
  auto in_scope = [&](Version v) { return !target || wanted.count(v) != 0; };

  // Kahn's algorithm over pending nodes; applied parents count as satisfied.
  // The ready queue is a min-heap on version, so a linear chain comes out in
  // version order and parallel branches interleave by version.
  std::unordered_map<Version, int> waiting;
  std::unordered_map<Version, std::vector<const Migration*>> children;
  std::priority_queue<std::pair<Version, const Migration*>,
                      std::vector<std::pair<Version, const Migration*>>, std::greater<>>
      ready;
  std::size_t pending = 0;
  for (const auto& m : all) {
    if (applied.count(m.version) != 0 || !in_scope(m.version)) continue;
    ++pending;
    int unmet = 0;
    for (Version p : m.parents) {
      if (source.find(p) == nullptr && applied.count(p) == 0) {
        throw Error(ErrorKind::source, "migration " + std::to_string(m.version) +
                                           " names parent " + std::to_string(p) +
                                           ", which the source does not have");
      }
      if (applied.count(p) == 0) {
        ++unmet;
        children[p].push_back(&m);
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

}  // namespace strata
