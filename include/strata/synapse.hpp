// strata/synapse.hpp: Synapse's schema layout, versions and compatibility.
//
// A tree laid out as Synapse lays out synapse/storage/schema:
//   <root>/common/delta/<V>/...            applies to every physical database
//   <root>/<logical>/full_schemas/<V>/...  snapshots of a logical database at V
//   <root>/<logical>/delta/<V>/...         deltas that take it from V-1 to V
// (<root>/common/full_schemas/<V>/ too.) A physical database hosts one or more
// logical databases; it sees `common` plus those.
//
// Semantics follow Synapse's prepare_database:
// - A fresh database runs every snapshot file of the newest full_schemas/<V>
//   at or below schema_version (common and each hosted logical database,
//   sorted together by file name), records version V as not upgraded, then
//   runs the deltas of every version above V.
// - An existing database at version C runs the deltas of versions C+1 ..
//   schema_version, and those of C itself that are not yet recorded when C
//   was reached through deltas (upgraded) rather than a snapshot.
// - Within a version, the files of common and every hosted logical database
//   are sorted together by file name; one file name in two of those
//   directories is an error. Files: *.sql (both engines), *.sql.sqlite /
//   *.sql.postgres and strata's *.sqlite.sql / *.postgres.sql (one engine),
//   *.py and other code deltas (run only through a registered C++ step);
//   *.pyc and __pycache__ are skipped silently, anything else with a warning.
// - Before applying anything, the stored compat version is raised to the
//   code's compat_version; a database whose stored compat version is above
//   the code's schema_version is refused (ErrorKind::incompatible).
//
// State lives in Synapse's own tables, so a database Synapse created can be
// adopted and vice versa: schema_version(lock, version, upgraded),
// schema_compat_version(lock, compat_version), applied_schema_deltas(version,
// file) with file = "<V>/<name>". strata adds strata_schema_base(version):
// the snapshot version a database was created from, so that a delta added
// later to an already-passed version can be reported rather than ignored.
//
// Each delta runs in its own transaction together with its
// applied_schema_deltas row (directives such as no-transaction are not
// honoured here: Synapse runs every delta in a transaction); a fresh
// database's snapshot files and its version row commit together.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"
#include "strata/migrator.hpp"

namespace strata {

class Connection;

struct SynapseLayout {
  std::filesystem::path root;
  Version schema_version = 0;  // what this code expects (SCHEMA_VERSION)
  Version compat_version = 0;  // oldest code that can use what it produces (SCHEMA_COMPAT_VERSION)
  // false: a fresh database replays every delta from version 1 instead of
  // starting from a snapshot (to check that snapshots match history).
  bool use_snapshots = true;
};

// A code delta, bound to a delta file of the tree such as "12/backfill.py"
// (Synapse's Python deltas): the step runs where that file would, in the
// hosting databases of the directory the file is in.
struct CodeDelta {
  MigrationFunction run_create;   // runs on fresh and existing databases
  MigrationFunction run_upgrade;  // runs only on existing databases
};

struct SynapseOptions {
  std::map<std::string, CodeDelta> code_deltas;  // key: "<V>/<file name>"
  // Skip code deltas that have no registered step (warning each, recording
  // nothing) instead of failing.
  bool skip_code_deltas = false;
  LockOptions lock;
  std::function<void(std::string_view)> on_warning;
};

enum class DeltaState {
  applied,   // recorded in applied_schema_deltas
  pending,   // will run on the next up
  covered,   // at or below the snapshot the database was created from
  late,      // not recorded, in a version the database already passed
  skipped,   // a code delta without a registered step (--skip-code-deltas)
};
const char* to_string(DeltaState state) noexcept;

struct DeltaStatus {
  Version version = 0;
  std::string file;  // "<V>/<name>", as recorded
  std::string path;  // where it is on disk
  DeltaState state = DeltaState::pending;
};

struct SynapseStatus {
  bool fresh = true;                       // no schema state yet
  Version current_version = 0;             // valid unless fresh
  bool upgraded = false;
  std::optional<Version> compat_version;   // stored in the database
  std::optional<Version> base_version;     // snapshot it was created from, if known
  std::optional<Version> snapshot_version; // the snapshot a fresh database would use
  std::vector<DeltaStatus> deltas;         // every delta of the tree for this database
  std::vector<std::string> warnings;
};

struct SynapseStep {
  std::string file;  // "<V>/<name>", or "full_schemas/<V>" for the snapshot
  std::chrono::microseconds duration{0};
};

struct SynapseUpResult {
  std::vector<SynapseStep> applied;
};

class SynapseMigrator {
 public:
  // `logical`: the logical databases this physical database hosts.
  // Throws Error{source} for a layout problem found up front (a missing root,
  // a logical database directory that does not exist).
  SynapseMigrator(Connection& connection, SynapseLayout layout, std::vector<std::string> logical,
                  SynapseOptions options = {});

  // Reads only.
  SynapseStatus status();
  // The check a worker runs before starting: errors when the database is
  // behind (pending deltas or a lower version), holds a late delta, or is too
  // new for this code. Writes nothing.
  ValidationReport validate();
  // Takes the migration lock, creates or upgrades the database.
  SynapseUpResult up(const std::function<void(const SynapseStep&)>& on_applied = {});

 private:
  // Synapse's state tables: the tree's common/schema_version.sql when it
  // has one, else strata's copy of it; and strata_schema_base.
  void create_state_tables();
  struct Entry;
  struct State;
  State read_state();
  std::vector<Entry> deltas_for(Version v) const;
  std::vector<Entry> snapshot_files(Version v) const;
  std::optional<Version> snapshot_version() const;
  SynapseStatus status_from(const State& state) const;
  void warn(std::string_view message) const;
  void run_file(const Entry& e, bool fresh);

  Connection& connection_;
  SynapseLayout layout_;
  std::vector<std::string> logical_;
  SynapseOptions options_;
};

// Logical database directories under `root` (every subdirectory but
// "common"), sorted. For checking a configuration's mapping.
std::vector<std::string> synapse_logical_databases(const std::filesystem::path& root);

}  // namespace strata
