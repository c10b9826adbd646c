// strata/migration.hpp: the migration model.
//
// Migrations form a graph: each names its parents. A linear set of versioned
// files is the special case where each migration's parent is the previous
// version. The planner (strata/plan.hpp) orders the graph; history records
// applied migrations by version.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/url.hpp"

namespace strata {

class Connection;

using Version = std::int64_t;

enum class MigrationKind { sql, code };

// A code migration's body: given the connection (inside the migration's
// transaction unless the migration says otherwise) and the engine.
using MigrationFunction = std::function<void(Connection&, Engine)>;

struct Migration {
  Version version = 0;
  std::string description;
  std::vector<Version> parents;  // empty for a root
  // Also needed before this one, without being its parent (a dependency
  // across branches: "-- strata: depends-on V"). Orders up and down like a
  // parent; does not make V stop being a head.
  std::vector<Version> depends_on;
  std::string branch;            // "-- strata: branch NAME": a label, or empty
  std::string alembic_revision;  // "-- strata: alembic-revision REV", or empty
  MigrationKind kind = MigrationKind::sql;

  // SQL migrations: the file the up script came from (as the user should see
  // it, relative to the source directory's parent when possible) and its text.
  std::string path;
  // The up script's text. A directory loaded with a stat cache
  // (SourceOptions::cache_dir) leaves it unread for a file the cache vouches
  // for (sql_deferred): strata::up_sql() reads it when something runs it.
  mutable std::string sql;
  mutable bool sql_deferred = false;
  // Reversible migrations: the down script. Empty path = not reversible.
  std::string down_path;
  std::string down_sql;

  // Code migrations.
  MigrationFunction up;
  MigrationFunction down;
  bool code_transactional = true;
  // SQLite: run the code migration (up and down) with foreign keys off, like
  // a SQL file's "-- strata: foreign-keys off": off before its transaction,
  // PRAGMA foreign_key_check before the commit, on again afterwards. For code
  // that rebuilds a table by hand. Ignored on PostgreSQL.
  bool code_foreign_keys_off = false;

  // Hex SHA-384 of the normalised up script (see checksum()). Code
  // migrations choose their own (strata::UpgradeTable documents its rule).
  std::string checksum;

  // The compatibility floor a code migration sets, or a mautrix-go upgrade
  // file (its header's, else its own version). Other SQL files declare it
  // with "-- strata: breaking" / "-- strata: compatible-with N".
  std::optional<Version> compat_floor;

  // A shortcut (mautrix-go's "-- vA -> vB" file, usually the latest schema
  // as "-- v0 -> vN"): a database at version `*jump_from` (0 = nothing
  // applied) takes this one step to `version` instead of the migrations in
  // between. Held apart from the graph (MigrationSet::jumps()).
  std::optional<Version> jump_from;

  bool reversible() const { return !down_path.empty() || static_cast<bool>(down); }
};

// An ordered, validated set of migrations (sorted by version, versions unique).
class MigrationSet {
 public:
  MigrationSet() = default;
  // REQUIRES: versions unique. Sorts by version.
  explicit MigrationSet(std::vector<Migration> migrations);

  const std::vector<Migration>& all() const noexcept { return migrations_; }
  bool empty() const noexcept { return migrations_.empty(); }
  const Migration* find(Version v) const;
  // The newest version (shortcuts' targets included), or 0 when empty.
  Version latest() const;

  // Repeatable migrations (Flyway's R__ files: R_<name>.sql, or a file
  // marked "-- strata: repeatable"), sorted by name (Migration::description;
  // version 0). They run after the versioned ones whenever their checksum
  // differs from the one recorded.
  const std::vector<Migration>& repeatables() const noexcept { return repeatables_; }
  void set_repeatables(std::vector<Migration> repeatables);
  // Callback files by hook name (before_migrate, before_each, after_each,
  // after_migrate), or null.
  const Migration* callback(std::string_view hook) const;
  void set_callbacks(std::map<std::string, Migration, std::less<>> callbacks);
  // Shortcut migrations (Migration::jump_from), by jump_from. The planner
  // takes one only with HistoryFormat::mautrix, whose history is a single
  // version number (strata/history.hpp).
  const std::vector<Migration>& jumps() const noexcept { return jumps_; }
  const Migration* jump_from(Version from) const;
  const Migration* jump_to(Version to) const;  // the first shortcut to `to`
  void set_jumps(std::vector<Migration> jumps);
  // Whether versions count upgrades (mautrix-go): a database may stand at
  // any version up to latest(), whether or not a file ends there (one that
  // none does is passed through), so such a history row is not "missing".
  bool counted_versions() const noexcept { return counted_versions_; }
  void set_counted_versions(bool counted) { counted_versions_ = counted; }

 private:
  std::vector<Migration> migrations_;
  std::vector<Migration> repeatables_;
  std::map<std::string, Migration, std::less<>> callbacks_;
  std::vector<Migration> jumps_;
  bool counted_versions_ = false;
};

// Hex SHA-384 of `text` after normalisation: a leading UTF-8 BOM is removed and
// every CRLF becomes LF. So a file checked out with Windows line endings has the
// same checksum as the original. Nothing else is normalised (trailing
// whitespace, a final newline and lone CRs all count).
std::string checksum(std::string_view text);

// Hex SHA-384 of `text` exactly as given (sqlx's checksum, of the file's
// raw bytes).
std::string raw_checksum(std::string_view text);

// The checksum sqlx records for `m`: raw_checksum of a SQL migration's up
// file (equal to m.checksum, and not recomputed, unless the file has a BOM
// or a CR); a code migration's own.
std::string sqlx_checksum(const Migration& m);

}  // namespace strata
