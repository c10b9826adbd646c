// strata/graph.hpp: the revision graph of a migration set, and targets.
//
// Each migration names its parents (the previous version unless its file
// says "-- strata: parents ..."), and may depend on migrations of other
// branches ("-- strata: depends-on ..."). Parents and dependencies are both
// prerequisites: up applies a migration only after all of them, down
// reverts it before them. Heads, branch points and merge points follow the
// parent edges only (Alembic's rule: a dependency does not end a branch).
//
// Targets, as `up`/`down --target`, `stamp`, `history -r` and `up --sql A:B`
// accept them (docs/graph.md):
//   head        the one head (Error{multiple_heads} when there are several)
//   heads       every head
//   base        nothing: before the first migration
//   current     the database's applied heads (needs the history)
//   LABEL@head  the head of the branch labelled LABEL
//   +N / -N     N steps forward / back from the database's state
//   VERSION     a version, or a unique prefix of one ("2025" for
//               20250410120000); an ambiguous prefix is Error{usage}
//               naming the candidates
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "strata/history.hpp"
#include "strata/migration.hpp"

namespace strata {

class RevisionGraph {
 public:
  // REQUIRES: `set` outlives the graph. Prerequisites the set does not
  // have are ignored here (load_directory reports them).
  explicit RevisionGraph(const MigrationSet& set);

  const MigrationSet& set() const noexcept { return set_; }
  // Migrations no other one names as parent, by version.
  const std::vector<Version>& heads() const noexcept { return heads_; }
  // Migrations without parents.
  std::vector<Version> bases() const;
  // The migrations naming `v` as parent.
  const std::vector<Version>& children(Version v) const;
  // Migrations with more than one child / more than one parent.
  bool is_branch_point(Version v) const { return children(v).size() > 1; }
  bool is_merge_point(Version v) const;
  bool is_head(Version v) const;
  // `vs` and every migration they need, transitively (parents and depends-on).
  std::set<Version> ancestors(const std::vector<Version>& vs) const;
  // `v` and every migration that needs it, transitively.
  std::set<Version> descendants(Version v) const;
  // Every migration, prerequisites first (ties by version).
  std::vector<Version> topological() const;
  // The label a migration carries or inherits along its parents (the
  // nearest labelled ancestor on a single-parent chain), or empty.
  std::string label_of(Version v) const;
  // The heads among the descendants of migrations labelled `label`.
  std::vector<Version> heads_of_label(std::string_view label) const;

 private:
  const MigrationSet& set_;
  std::map<Version, std::vector<Version>> children_;     // parent edges
  std::map<Version, std::vector<Version>> dependents_;   // parent and depends-on edges
  std::vector<Version> heads_;
};

// A target as written, resolved.
struct ResolvedTarget {
  bool base = false;              // "base": nothing
  std::vector<Version> versions;  // otherwise: these (and their ancestors)
  std::optional<int> relative;    // "+N" (positive) / "-N" (negative): steps
  std::string text;               // as written, for messages
};

// Resolves `text`. `applied` (the database's history) is needed for
// "current" and is ignored otherwise (nullptr: "current" is Error{usage}).
// Relative forms are returned as such (the caller knows which direction
// they mean). Throws Error{usage} for a target the source does not have,
// Error{multiple_heads} for "head" with several heads.
ResolvedTarget resolve_target(const RevisionGraph& graph, std::string_view text,
                              const std::vector<AppliedMigration>* applied = nullptr);

// "a, b and c" for messages listing versions with their descriptions.
std::string describe_versions(const MigrationSet& set, const std::vector<Version>& versions);

}  // namespace strata
