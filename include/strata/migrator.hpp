// strata/migrator.hpp: what `strata up/down/status/validate/repair` do, as a
// library.
//
// A Migrator borrows a connection and a migration set (both must outlive it);
// it is not thread-safe. Every transactional migration runs in its own
// transaction together with its history row, so a failure leaves the
// database at the boundary after the last migration that succeeded.
//
// Writers (up, down, repair) first take the migration lock (see LockOptions),
// then re-read the history, so concurrent migrators apply each migration
// exactly once.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "strata/adopt.hpp"
#include "strata/background.hpp"
#include "strata/error.hpp"
#include "strata/history.hpp"
#include "strata/migration.hpp"
#include "strata/plan.hpp"

namespace strata {

class Connection;

// The lock that serialises migrators on one database.
//
// PostgreSQL: a session-level advisory lock. Its key is the first 8 bytes
// (big-endian, as a signed 64-bit integer) of
//   SHA-384("strata-migrate\0" + current_database() + "\0" + schema + "\0" + table)
// where schema and table are the history table's, so two applications with
// separate history tables in one database do not block each other.
// SQLite: an exclusive flock(2) on "<database file>.strata-lock" (created
// 0600 beside the database); the kernel releases it when the process dies, so
// a crash never leaves a stale lock. In-memory databases need no lock.
struct LockOptions {
  enum class Mode {
    wait,  // PostgreSQL: pg_advisory_lock under lock_timeout. SQLite: poll.
    poll,  // pg_try_advisory_lock with exponential backoff (10 ms .. 1 s):
           // holds no snapshot while waiting, so CREATE INDEX CONCURRENTLY
           // in other sessions is not stalled by a waiting migrator.
  };
  Mode mode = Mode::wait;
  std::chrono::milliseconds timeout{60000};
};

// Hooks around an up() run (Flyway's callbacks). A source's callback files
// (before_migrate.sql, before_each.sql, after_each.sql, after_migrate.sql)
// run first, then these. before_migrate and after_migrate run once per up()
// that has work to do (never on a no-op), each in its own transaction;
// before_each and after_each run around each migration's body, in its
// transaction (outside one for a no-transaction migration). A failure fails
// the run like a failing statement. The *_undo hooks (files
// before_undo.sql, before_each_undo.sql, after_each_undo.sql,
// after_undo.sql: Flyway's undo callbacks) do the same around a down() run
// and each revert.
struct Callbacks {
  std::function<void(Connection&)> before_migrate;
  std::function<void(Connection&, const Migration&)> before_each;
  std::function<void(Connection&, const Migration&)> after_each;
  std::function<void(Connection&)> after_migrate;
  std::function<void(Connection&)> before_undo;
  std::function<void(Connection&, const Migration&)> before_each_undo;
  std::function<void(Connection&, const Migration&)> after_each_undo;
  std::function<void(Connection&)> after_undo;
};

struct MigratorOptions {
  HistoryOptions history;
  Callbacks callbacks;
  LockOptions lock;
  // Old checksums accepted for an applied migration that was edited on
  // purpose (MAS's allow-list): version -> hex SHA-384 values, whole or
  // their first 32 hex digits.
  std::map<Version, std::set<std::string>> allowed_checksums;
  // Applied migrations that may be missing from the source.
  std::set<Version> allowed_missing;
  // Accept every missing migration (--ignore-missing).
  bool ignore_missing = false;
  // Use a database whose compatibility floor is above this code's newest
  // migration (--allow-unsupported). A warning is still reported.
  bool allow_unsupported = false;
  // Receives warnings (an override in effect, an allow-listed checksum).
  std::function<void(std::string_view)> on_warning;
  // The background-update queue and log (strata/background.hpp). up()
  // creates them if missing, after validation and before the first
  // migration, so a migration can queue work with a plain INSERT; `up --sql`
  // shows their CREATE TABLE. An empty schema means the history table's.
  // nullopt: up() leaves them alone.
  std::optional<BackgroundTables> background_queue = BackgroundTables{};
  // The DDL lock guard (PostgreSQL only; SQLite ignores it). With a non-zero
  // ddl_lock_timeout, each transactional migration runs under SET LOCAL
  // lock_timeout, so a statement queued behind a long transaction gives up
  // instead of stalling every query queued behind its own lock request. When
  // one fails with SQLSTATE 55P03 (lock_not_available), the migration is
  // rolled back whole and retried after ddl_retry_backoff (doubling each time,
  // at most 10 s), up to ddl_retries times; each retry is reported through
  // on_warning, naming the backend pid(s) that held a lock on the tables the
  // statement touches. Then Error{ddl_lock_timeout} naming them; the
  // migrations before it stay applied, nothing of it does. With
  // UpOptions::group a timeout is not retried (the group would have to be
  // replayed) and fails with Error{ddl_lock_timeout} at once.
  std::chrono::milliseconds ddl_lock_timeout{0};
  int ddl_retries = 3;
  std::chrono::milliseconds ddl_retry_backoff{200};
};

struct AppliedStep {
  Version version = 0;
  std::string description;  // a repeatable migration's name
  std::chrono::microseconds duration{0};
  bool repeatable = false;  // a repeatable migration (version 0) that re-ran
};

struct UpOptions {
  // What to apply: `target` and its unapplied ancestors, or `targets` and
  // theirs (`--target heads` resolves to every head). With neither, every
  // pending migration; when the source has several heads (branches not yet
  // merged) and something is pending, up() refuses with
  // Error{multiple_heads} naming them (merge them, or ask for heads).
  std::optional<Version> target;
  std::vector<Version> targets;
  // Apply at most this many of the planned migrations (`--target +N`; with
  // several heads, the next N in plan order across branches); 0: all.
  int limit = 0;
  // script() only: do not read the database's history; plan as if exactly
  // these migrations and their ancestors were applied (empty: none). For
  // `up --sql A:B`, which prints the script from A to B.
  std::optional<std::vector<Version>> assume_applied;
  // Apply consecutive transactional migrations in one transaction (Flyway's
  // `group`, Alembic's transaction_per_migration=False): each group commits
  // whole or not at all, so a fresh install that fails part-way leaves the
  // database as it was before the run instead of half-built, and a long run
  // pays one commit instead of one per migration. A no-transaction migration
  // ends the group before it and runs on its own, as without grouping; so
  // does a "-- strata: foreign-keys off" migration on SQLite (foreign keys
  // go off before its own transaction and are checked before its commit).
  bool group = false;
  // Called after each migration commits (for progress output); with group,
  // for each migration of a group once the group has committed.
  std::function<void(const AppliedStep&)> on_applied;
  // Called once under the migration lock, after validation and before the
  // first migration runs, with what is about to be applied (not called when
  // nothing is pending). Throwing refuses the run with nothing applied
  // (`strata up` lints here).
  std::function<void(const std::vector<const Migration*>& plan)> before_apply;
};

struct UpResult {
  std::vector<AppliedStep> applied;
  std::vector<std::string> repeatables_run;  // names, in the order they ran
};

struct DownOptions {
  // Revert this many of the newest applied migrations (default 1; in a
  // graph, a migration goes only after every applied one that needs it) ...
  int steps = 1;
  // ... or every applied migration that `target` (or `targets`) does not
  // need: what stays applied is the target and its ancestors. Version 0 is
  // an ordinary version; to revert everything, set `base`. Wins over steps.
  std::optional<Version> target;
  std::vector<Version> targets;
  bool base = false;
  std::function<void(const AppliedStep&)> on_reverted;
};

struct DownResult {
  std::vector<AppliedStep> reverted;
};

struct StampOptions {
  // Make the history say exactly `targets` and their ancestors are applied
  // (or nothing, with base), without running anything: rows are added for
  // the missing ones and removed for applied ones the targets do not need.
  std::vector<Version> targets;
  bool base = false;
  // Also remove rows the source does not know and dirty rows (otherwise a
  // dirty row refuses the stamp: see repair).
  bool purge = false;
  bool dry_run = false;  // compute, write nothing
};

struct StampResult {
  std::vector<Version> added;    // by version
  std::vector<Version> removed;  // by version
};

struct RepeatableStatus {
  std::string name;
  std::string path;
  bool applied = false;  // recorded at all
  bool changed = false;  // recorded with another checksum: runs at the next up
};

struct StatusReport {
  std::vector<MigrationStatus> migrations;
  std::vector<RepeatableStatus> repeatables;
  bool history_exists = false;
  Version code_latest = 0;                 // newest migration this code knows
  std::optional<Version> compat_floor;     // the database's floor, if any
};

// The outcome of validation: every problem found, not just the first.
struct ValidationReport {
  StatusReport status;
  std::vector<std::string> errors;    // changed, missing, dirty, incompatible
  std::vector<std::string> warnings;  // allow-listed or overridden problems
  ErrorKind kind = ErrorKind::validation;  // the kind of the first error
  bool ok() const { return errors.empty(); }
  // Throws Error{kind} listing every error; does nothing when ok().
  void throw_if_failed() const;
};

class Migrator {
 public:
  Migrator(Connection& connection, const MigrationSet& source, MigratorOptions options = {});

  // Reads only. An absent history table reads as an empty history.
  StatusReport status();

  // Checks the history against the source without writing: changed files
  // (unless allow-listed), missing migrations (unless allow-listed or
  // ignored), a dirty migration, and a compatibility floor above this code's
  // newest migration (unless allow_unsupported). Pending migrations are not
  // an error here (see pending()).
  ValidationReport validate();

  // What up() would apply, in order, without taking the lock or writing.
  std::vector<const Migration*> plan(const UpOptions& options = {});
  // The complete script up() would run, with transaction boundaries and the
  // history bookkeeping (`strata up --sql`). Reads the history only.
  std::string script(const UpOptions& options = {});

  // Takes the lock, validates (throwing as ValidationReport::throw_if_failed),
  // and applies pending migrations in plan order. Throws strata::Error on the
  // first failure, with the file, line, column, statement and engine code of
  // the failing statement; migrations before it stay applied (with
  // options.group: those committed before its group; the error then names
  // the migrations rolled back with it).
  UpResult up(const UpOptions& options = {});

  // Takes the lock and reverts applied migrations, newest first, each with
  // its down script and the removal of its history row in one transaction.
  // Before reverting anything, checks that every migration in range is in
  // the source and reversible (Error{usage} naming those that are not).
  DownResult down(const DownOptions& options = {});

  // Repairs a dirty migration (`strata repair`): forget() removes its record,
  // for when the user undid its partial effects; mark_applied() records it as
  // applied, for when the user finished it by hand. Error{usage} unless the
  // version is recorded as dirty.
  void repair_forget(Version version);
  void repair_mark_applied(Version version);

  // Writes or removes history rows without running any migration (`strata
  // stamp`), in one transaction under the migration lock. Error{dirty} for a
  // dirty row unless purge.
  StampResult stamp(const StampOptions& options);

  // Records what another tool's table says is applied (strata/adopt.hpp),
  // in one transaction under the migration lock; runs nothing. Error{usage}
  // when strata's history already has rows, Error{validation} for a version
  // the source lacks or a changed checksum, Error{dirty} for a failed row,
  // Error{config} when the other table is missing or not as expected.
  AdoptResult adopt(const AdoptOptions& options);

 private:
  void warn(std::string_view message) const;
  // The history's rows, checksums in strata's form (see HistoryFormat::sqlx).
  std::vector<AppliedMigration> read_history(History& history) const;
  // Repeatable migrations whose checksum differs from the recorded one
  // (none when up() has a target: they run on a full up only).
  std::vector<const Migration*> pending_repeatables(const UpOptions& options);
  // Runs a callback file and hook (hook is "before_migrate", ...).
  void run_callback(std::string_view hook, const Migration* m);
  // run_callback(hook, nullptr) in a transaction of its own (before/after
  // a whole run: before_migrate, after_migrate, before_undo, after_undo).
  void run_callback_in_transaction(std::string_view hook);
  // What up() applies given `applied` (targets, heads, limit).
  std::vector<const Migration*> plan_for(const std::vector<AppliedMigration>& applied, const UpOptions& options) const;
  // With mautrix's history: replaces the start of `plan` by the shortcut
  // files (MigrationSet::jumps()) a database at its version takes.
  void take_shortcuts(const std::vector<AppliedMigration>& applied, const UpOptions& options,
                      std::vector<const Migration*>& plan) const;
  // REQUIRES: options_.background_queue.
  BackgroundTables background_tables() const;
  // Checks `history` against the source. Without with_list, the report's
  // status.migrations stays empty (up and down need only the verdict).
  ValidationReport validate_history(const std::vector<AppliedMigration>& history, bool history_exists,
                                    bool with_list = true) const;
  // What running a migration takes, derived once (see migrator.cpp).
  struct Prepared;
  Prepared prepare(const Migration& m) const;
  // The compatibility floor m sets (from its directives): prepare(m).floor.
  std::optional<Version> compat_floor_of(const Migration& m) const;
  // Applies m in its own transaction, or outside one if it is a
  // no-transaction migration; with in_open_transaction, inside the caller's
  // (m must then be transactional).
  void apply(const Migration& m, const Prepared& p, History& history, bool in_open_transaction);
  void revert(const Migration& m, History& history, AppliedStep& step);
  // The DDL lock guard (MigratorOptions::ddl_lock_timeout).
  bool ddl_guard() const;
  void set_lock_timeout();
  // "the lock was held by pid N (state, application A)", read from pg_locks
  // after a lock timeout in `failed_sql`. Never throws.
  std::string lock_holders(std::string_view failed_sql);
  Error give_up(const Error& e, int retries);

  Connection& connection_;
  const MigrationSet& source_;
  MigratorOptions options_;
};

}  // namespace strata
