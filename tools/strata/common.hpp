// tools/strata/common.hpp: options and helpers shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "strata/connection.hpp"
#include "strata/migration.hpp"
#include "strata/migrator.hpp"

namespace strata::cli {

// Options every database command takes.
struct CommonOptions {
  std::string database_url;  // -d/--database-url, default $DATABASE_URL
  std::string source = "migrations";
  std::string history_table = "strata_migrations";
  std::string history_schema = "public";
  bool json = false;
};

// Adds -d/--database-url, -s/--source, --history-table, --history-schema, --json.
void add_common_options(CLI::App& app, CommonOptions& options);
// Adds only --json (for commands that need no database).
void add_json_option(CLI::App& app, CommonOptions& options);

DatabaseUrl database_url(const CommonOptions& options);
std::unique_ptr<Connection> open_database(const CommonOptions& options);
MigrationSet load_source(const CommonOptions& options, Engine engine);
MigratorOptions migrator_options(const CommonOptions& options);

// Prints a JSON document on stdout.
void print_json(const nlohmann::json& j);
// Formats a duration for people: "0.8 ms", "12.3 s".
std::string human_duration(std::chrono::microseconds d);

// Subcommands: each adds itself to `app` and runs when selected.
void setup_up(CLI::App& app);
void setup_status(CLI::App& app);
void setup_new(CLI::App& app);

}  // namespace strata::cli
