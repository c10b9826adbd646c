// src/migration/compare.hpp: the merge of a source with a history that
// strata::compare() (strata/plan.hpp) returns as a list, without the list.
//
// compare() copies every applied row into its MigrationStatus, which a
// status report needs; validating before `up` only needs to look at each
// version once. At 1,000 applied migrations the copies (and the 460 KB
// list, ~56 page faults) were ~10% of a no-op `up` (bench/noop/RESULTS.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "strata/history.hpp"
#include "strata/migration.hpp"
#include "strata/plan.hpp"

namespace strata::detail {

// One version of the merge: MigrationStatus's fields, by reference.
struct StatusView {
  Version version = 0;
  std::string_view description;
  MigrationState state = MigrationState::pending;
  const Migration* migration = nullptr;        // null for missing/ahead
  const AppliedMigration* applied = nullptr;   // the history's row, if recorded
};

// The MigrationStatus compare() lists for `v` (the applied row copied).
inline MigrationStatus to_status(const StatusView& v) {
  MigrationStatus st;
  st.version = v.version;
  st.description = std::string(v.description);
  st.state = v.state;
  st.migration = v.migration;
  if (v.applied != nullptr) st.applied = *v.applied;
  return st;
}

// Calls f(const StatusView&) for every version in `source` or `history`
// (both ordered by version), in version order. Its states are compare()'s.
template <class F>
void for_each_status(const MigrationSet& source, const std::vector<AppliedMigration>& history, F&& f) {
  const Version newest_known = source.latest();
  auto s = source.all().begin();
  const auto s_end = source.all().end();
  auto h = history.begin();
  while (s != s_end || h != history.end()) {
    StatusView st;
    if (h == history.end() || (s != s_end && s->version < h->version)) {
      st.version = s->version;
      st.description = s->description;
      st.migration = &*s;
      st.state = MigrationState::pending;
      ++s;
    } else if (s == s_end || h->version < s->version) {
      st.version = h->version;
      st.description = h->description;
      st.applied = &*h;
      st.state = !h->success                 ? MigrationState::dirty
                 : h->version > newest_known ? MigrationState::ahead
                                             : MigrationState::missing;
      // A shortcut's target (mautrix-go's "-- v0 -> vN" file): applied by it.
      if (const Migration* j = source.jump_to(h->version); j != nullptr && h->success) {
        st.migration = j;
        st.state = h->checksum == j->checksum ? MigrationState::applied : MigrationState::changed;
      } else if (source.counted_versions() && h->success && h->version <= newest_known) {
        st.state = MigrationState::applied;  // a version no upgrade ends at, passed through
      }
      ++h;
    } else {
      st.version = s->version;
      st.description = s->description;
      st.migration = &*s;
      st.applied = &*h;
      st.state = !h->success                   ? MigrationState::dirty
                 : h->checksum == s->checksum ? MigrationState::applied
                                              : MigrationState::changed;
      ++s;
      ++h;
    }
    f(static_cast<const StatusView&>(st));
  }
}

}  // namespace strata::detail
