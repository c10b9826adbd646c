// strata/plan.hpp: comparing the source with the history, and ordering work.
//
// Pure: no database access. The migrator reads history, then asks these
// functions what the state is and what to run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "strata/history.hpp"
#include "strata/migration.hpp"

namespace strata {

enum class MigrationState {
  applied,  // recorded with the same checksum as the source
  pending,  // in the source, not recorded
  changed,  // recorded with a different checksum
  missing,  // recorded, not in the source, older than the source's newest
  ahead,    // recorded, not in the source, newer than everything the source knows
  dirty,    // recorded as started but not finished (a failed no-transaction run)
};

const char* to_string(MigrationState state) noexcept;

struct MigrationStatus {
  Version version = 0;
  std::string description;
  MigrationState state = MigrationState::pending;
  const Migration* migration = nullptr;       // null for missing/ahead
  std::optional<AppliedMigration> applied;    // set when recorded
};

// One entry per version found in either the source or the history, by version.
std::vector<MigrationStatus> compare(const MigrationSet& source,
                                     const std::vector<AppliedMigration>& history);

// The pending migrations to apply, prerequisites (parents and depends-on)
// before the migrations needing them, ties by version. With targets, only
// the targets and their unapplied ancestors; without, every pending
// migration. Throws Error{ErrorKind::usage} for a target the source does not
// have, and Error{ErrorKind::source} for a cycle or a prerequisite the
// source does not have.
std::vector<const Migration*> plan_up(const MigrationSet& source,
                                      const std::vector<AppliedMigration>& history,
                                      const std::vector<Version>& targets);
std::vector<const Migration*> plan_up(const MigrationSet& source,
                                      const std::vector<AppliedMigration>& history,
                                      std::optional<Version> target = std::nullopt);

// Every applied version (successful or not) in the order they can be
// reverted: a migration only after every applied one that needs it,
// newest first among those free to go. Versions the source does not have
// are ordered by version alone.
std::vector<Version> revert_order(const MigrationSet& source, const std::vector<AppliedMigration>& history);

}  // namespace strata
