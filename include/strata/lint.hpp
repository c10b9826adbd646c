// strata/lint.hpp: checks pending migrations for statements that lose data,
// fail at run time, or hold long locks on a live database (`strata lint`).
//
// strata knows the history, so it knows which migrations are pending and
// which tables they create: a table created earlier in the same file or by
// an earlier pending migration is new (nobody uses it yet), and the rules
// about locks, rewrites and destructive changes do not fire on it. Every
// other table is assumed to exist and be in use.
//
// How statements are read, per engine:
//   PostgreSQL  each statement is parsed by PostgreSQL's own parser
//               (libpg_query) and the rules look at its parse tree.
//   SQLite      a scratch in-memory database is built by replaying every
//               migration before the first pending one; each pending
//               statement is then prepared (never stepped) with an
//               authorizer that reports what it would do (drop a table,
//               alter one, write to one), and run on the scratch database
//               so the next one sees its effect. ALTER TABLE is told apart
//               (add, drop or rename a column, rename the table) by the
//               columns of the table before and after.
//
// Suppression: a comment "-- strata: lint-ignore RULE-ID[,RULE-ID...] reason"
// on a line between the previous statement and this one, inside this
// statement, or after it on the line where it ends, silences those rules for
// this statement only. An unknown rule id is a finding (unknown-lint-ignore).
//
// Pure with respect to the caller's databases: lint() reads files already in
// memory and uses only its own scratch database. Thread-compatible.
#pragma once

#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"
#include "strata/url.hpp"

namespace strata::lint {

enum class Severity { warning, error };
const char* to_string(Severity severity) noexcept;  // "warning", "error"

struct Rule {
  std::string_view id;        // stable, kebab-case: "drop-table"
  Severity severity;
  bool sqlite;                // whether the rule exists on each engine
  bool postgres;
  std::string_view reason;    // one line: why the statement is a problem
  std::string_view hint;      // one line: what to do instead
};

// Every rule, in the order docs/lint.md lists them.
std::span<const Rule> rules();
// nullptr for an unknown id.
const Rule* find_rule(std::string_view id);

struct Finding {
  std::string rule;
  Severity severity = Severity::warning;
  std::string file;     // the migration's path
  int line = 0;         // 1-based, of the statement (or the part of it at fault)
  int column = 0;
  std::string message;  // what this statement does, naming the object
  std::string hint;
  Version version = 0;
};

struct Options {
  // The history table: writing to it is a finding.
  std::string history_table = "strata_migrations";
  // The DDL lock guard (MigratorOptions::ddl_lock_timeout) is on, so every
  // transactional migration gets a lock_timeout: missing-lock-timeout is off.
  bool lock_guard = false;
};

// Lints every SQL migration of `source` whose version is not in `applied`,
// in version order, for `engine`. Migrations in `applied` (and code
// migrations, which cannot be read) only build the context. Findings come
// in file order, then by position. Never throws for problems in the SQL:
// a statement PostgreSQL cannot parse, or SQLite cannot prepare, is a
// finding itself.
std::vector<Finding> lint(const MigrationSet& source, Engine engine, const std::set<Version>& applied,
                          const Options& options = {});

// Renders a finding for people, on one line plus a hint line:
//   file:line:column: error[drop-table]: message
//     hint: ...
std::string render(const Finding& finding);

}  // namespace strata::lint
