#include "common.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "strata/error.hpp"
#include "strata/source.hpp"

namespace strata::cli {

void add_json_option(CLI::App& app, CommonOptions& options) {
  app.add_flag("--json", options.json, "Print machine-readable JSON on stdout (errors too)");
}

void add_common_options(CLI::App& app, CommonOptions& options) {
  if (const char* env = std::getenv("DATABASE_URL")) options.database_url = env;
  app.add_option("-d,--database-url", options.database_url,
                 "Database URL: sqlite:path.db, sqlite::memory:, postgres://... (default: $DATABASE_URL)");
  app.add_option("-s,--source", options.source, "Directory of migration files")
      ->capture_default_str();
  app.add_option("--history-table", options.history_table, "Name of the history table")
      ->capture_default_str();
  app.add_option("--history-schema", options.history_schema,
                 "PostgreSQL schema of the history table")
      ->capture_default_str();
  add_json_option(app, options);
}

DatabaseUrl database_url(const CommonOptions& options) {
  if (options.database_url.empty()) {
    throw Error(ErrorKind::usage,
                "no database given: pass -d/--database-url or set DATABASE_URL "
                "(for example sqlite:app.db or postgresql://user@localhost/app)");
  }
  return DatabaseUrl::parse(options.database_url);
}

std::unique_ptr<Connection> open_database(const CommonOptions& options) {
  return connect(database_url(options));
}

MigrationSet load_source(const CommonOptions& options, Engine engine) {
  return load_directory(options.source, engine);
}

MigratorOptions migrator_options(const CommonOptions& options) {
  MigratorOptions m;
  m.history.table = options.history_table;
  m.history.schema = options.history_schema;
  return m;
}

void print_json(const nlohmann::json& j) {
  std::string text = j.dump(2);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

std::string human_duration(std::chrono::microseconds d) {
  double us = static_cast<double>(d.count());
  if (us < 1000.0) return fmt::format("{:.0f} µs", us);
  if (us < 1e6) return fmt::format("{:.1f} ms", us / 1000.0);
  return fmt::format("{:.2f} s", us / 1e6);
}

}  // namespace strata::cli
