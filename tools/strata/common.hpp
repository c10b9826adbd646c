// tools/strata/common.hpp: options and helpers shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "strata/connection.hpp"
#include "strata/migration.hpp"
#include "strata/migrator.hpp"
#include "strata/synapse.hpp"

namespace strata::cli {

// A physical database of a Synapse-style configuration ([databases.<name>]).
struct PhysicalDatabase {
  std::string name;
  std::string url;
  std::vector<std::string> logical;
};

// [layout] kind = "synapse": logical databases over physical ones.
struct SynapseConfig {
  SynapseLayout layout;
  std::vector<PhysicalDatabase> databases;
};

// Options every database command takes. Values come from the command line,
// then the config file (strata.toml, [migrations] table), then defaults.
struct CommonOptions {
  std::string config = "strata.toml";  // read only if present, unless given explicitly
  std::string database_url;            // -d/--database-url, default $DATABASE_URL
  std::string source = "migrations";
  std::string history_table = "strata_migrations";
  std::string history_schema = "public";
  std::string background_table = "strata_background_updates";  // --bg-table
  std::string background_log_table = "strata_background_updates_log";  // --bg-log-table
  double lock_timeout_s = 60;
  std::string lock_mode = "wait";
  bool ignore_missing = false;
  bool allow_unsupported = false;
  std::vector<std::string> allow_checksums;  // "VERSION:HEX"
  std::vector<Version> allow_missing;
  bool skip_code_deltas = false;
  bool group = false;  // up --group, or group = true in [migrations]: one transaction per run
  std::string lint = "warn";      // up --lint / lint = "error" | "warn" | "off" in [migrations]
  double ddl_lock_timeout_s = 0;  // --ddl-lock-timeout / ddl_lock_timeout: 0 = the DDL lock guard is off
  int ddl_retries = 3;            // --ddl-retries / ddl_retries
  std::optional<SynapseConfig> synapse;  // set by apply_config for [layout] kind = "synapse"
  std::string history_format = "strata";  // --history-format / history_format: strata | sqlx
  bool history_table_named = false;        // history_table came from strata.toml
  std::string graph = "implicit";  // graph = "explicit" in [migrations]: every file names its parents
  bool json = false;
  CLI::App* app = nullptr;  // to tell which options were given on the command line
};

// Adds -d/--database-url, -s/--source, --config, --history-table,
// --history-schema and --json.
// DATABASE_URL comes from -d, else the environment, else a .env file in the
// working directory (KEY=value lines, as dbmate and sqlx read them).
void add_common_options(CLI::App& app, CommonOptions& options);

// The value `key` is given in the dotenv file `file` (the last assignment;
// quotes removed), or nullopt.
std::optional<std::string> dotenv_value(const std::string& file, std::string_view key);

// apply_config() on a config text rather than a file (`name` labels errors):
// the strata.toml fuzz target and tests use it.
void apply_config_text(CommonOptions& options, std::string_view text, const std::string& name);
// Adds the validation and locking options (--ignore-missing,
// --allow-unsupported, --allow-checksum, --lock-timeout, --lock-mode).
void add_safety_options(CLI::App& app, CommonOptions& options);
// Adds --ddl-lock-timeout and --ddl-retries (the DDL lock guard).
void add_ddl_guard_options(CLI::App& app, CommonOptions& options);
// Lints the migrations of `source` not in `applied` as configured, printing
// findings to stderr ("lint: " + strata::lint::render); with lint = "error"
// throws Error{lint} when one is at error severity. Does nothing with "off".
void lint_before_up(const CommonOptions& options, const MigrationSet& source, Engine engine,
                    const std::set<Version>& applied);
// Adds only --json (for commands that need no database).
void add_json_option(CLI::App& app, CommonOptions& options);
// Adds --bg-table and --bg-log-table (the background-update queue and log,
// in the history schema).
void add_background_options(CLI::App& app, CommonOptions& options);

// Fills options not given on the command line from the config file.
// Throws Error{config} for an unreadable or invalid file.
void apply_config(CommonOptions& options);

DatabaseUrl database_url(const CommonOptions& options);
// The engine whose files a command that needs no connection reads: the
// database URL's when one is given, else SQLite's.
Engine source_engine(const CommonOptions& options);
std::unique_ptr<Connection> open_database(const CommonOptions& options);
MigrationSet load_source(const CommonOptions& options, Engine engine);
// Warnings go to stderr (and never to stdout, which may hold JSON).
MigratorOptions migrator_options(const CommonOptions& options);
// The background-update tables: --bg-table, --bg-log-table, --history-schema.
BackgroundTables background_tables(const CommonOptions& options);

// Prints a JSON document on stdout.
void print_json(const nlohmann::json& j);
// Formats a duration for people: "0.8 ms", "12.3 s".
std::string human_duration(std::chrono::microseconds d);
// The JSON form of a status entry (status, validate).
nlohmann::json to_json(const MigrationStatus& m);

// Synapse layout: up/status/validate on every physical database of the
// configuration. Implemented in synapse_cli.cpp.
void run_synapse_up(const CommonOptions& options);
void run_synapse_status(const CommonOptions& options);
void run_synapse_validate(const CommonOptions& options);

// Subcommands: each adds itself to `app` and runs when selected.
void setup_up(CLI::App& app);
void setup_down(CLI::App& app);
void setup_status(CLI::App& app);
void setup_validate(CLI::App& app);
void setup_repair(CLI::App& app);
void setup_new(CLI::App& app);
void setup_dump(CLI::App& app);  // cmd_dump.cpp
void setup_bg(CLI::App& app);  // bg status, bg run (cmd_bg.cpp)
void setup_prepare(CLI::App& app);  // cmd_prepare.cpp
void setup_port(CLI::App& app);  // cmd_port.cpp
void setup_lint(CLI::App& app);  // cmd_lint.cpp
void setup_diff(CLI::App& app);   // cmd_diff.cpp
void setup_drift(CLI::App& app);  // cmd_drift.cpp
void setup_database(CLI::App& app);  // cmd_database.cpp: database create|drop|wait
// cmd_graph.cpp: heads, branches, current, history, stamp, merge.
void setup_graph(CLI::App& app);
// cmd_adopt.cpp: adopt alembic / mautrix / dbmate / golang-migrate / flyway.
void setup_adopt(CLI::App& app);
// The version text of the next migration file in `dir`: timestamps if the
// files there use them (or `timestamp`), else the next sequential number
// with their zero-padding (`sequential` forces it). Implemented in cmd_new.cpp.
std::string next_version_text(const std::string& dir, bool timestamp, bool sequential);
// "-- strata: parents ..." for a new file whose parents are `parents`
// (empty: a root, "parents base").
std::string parents_directive(const std::vector<Version>& parents);
void setup_completion(CLI::App& app);  // cmd_completion.cpp: register last (it reads the tree)

}  // namespace strata::cli
