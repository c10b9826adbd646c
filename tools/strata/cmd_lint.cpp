// strata lint: check pending migrations for statements that lose data, fail
// at run time or hold long locks (strata/lint.hpp).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common.hpp"
#include "exit_codes.hpp"
#include "strata/error.hpp"
#include "strata/history.hpp"
#include "strata/lint.hpp"
#include "strata/source.hpp"

namespace strata::cli {
namespace {

struct LintCommand {
  CommonOptions common;
  std::vector<std::string> files;
  std::optional<Version> since;
  std::string engine;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::io, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

void run_lint(LintCommand& cmd) {
  apply_config(cmd.common);
  Engine engine = Engine::sqlite;
  if (!cmd.engine.empty()) {
    engine = cmd.engine == "postgres" ? Engine::postgres : Engine::sqlite;
  } else if (!cmd.common.database_url.empty()) {
    engine = database_url(cmd.common).engine;
  } else {
    throw Error(ErrorKind::usage, "lint needs an engine: pass --engine sqlite|postgres, or -d/DATABASE_URL");
  }

  // The migration set: the source directory (when it exists, or when no
  // file is named), plus named files from elsewhere, as pending after it.
  std::vector<Migration> migrations;
  if (cmd.files.empty() || std::filesystem::is_directory(cmd.common.source)) {
    MigrationSet dir = load_source(cmd.common, engine);
    migrations = dir.all();
  }
  std::set<Version> applied;
  if (cmd.since) {
    for (const Migration& m : migrations) {
      if (m.version <= *cmd.since) applied.insert(m.version);
    }
  } else if (!cmd.common.database_url.empty()) {
    auto connection = open_database(cmd.common);
    if (connection->engine() != engine) {
      throw Error(ErrorKind::usage, fmt::format("--engine {} does not match the database ({})", to_string(engine),
                                                to_string(connection->engine())));
    }
    History history(*connection, HistoryOptions{cmd.common.history_table, cmd.common.history_schema});
    if (history.exists()) {
      for (const AppliedMigration& a : history.read()) applied.insert(a.version);
    }
  }
  std::set<std::string> targets;  // with named files, report only on these
  Version next = migrations.empty() ? 1 : migrations.back().version + 1;
  for (const std::string& file : cmd.files) {
    auto it = std::find_if(migrations.begin(), migrations.end(), [&](const Migration& m) { return same_file(m.path, file); });
    if (it != migrations.end()) {
      applied.erase(it->version);  // a file named on the command line is linted, applied or not
      targets.insert(it->path);
      continue;
    }
    Migration m;
    m.version = next++;
    m.description = std::filesystem::path(file).filename().string();
    m.path = file;
    m.sql = read_file(file);
    migrations.push_back(std::move(m));
    targets.insert(file);
  }

  lint::Options options;
  options.history_table = cmd.common.history_table;
  options.lock_guard = engine == Engine::postgres && cmd.common.ddl_lock_timeout_s > 0;
  std::vector<lint::Finding> findings = lint::lint(MigrationSet(std::move(migrations)), engine, applied, options);
  if (!targets.empty()) {
    std::erase_if(findings, [&](const lint::Finding& f) { return targets.count(f.file) == 0; });
  }

  int errors = 0;
  for (const auto& f : findings) errors += f.severity == lint::Severity::error ? 1 : 0;
  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& f : findings) {
      list.push_back({{"rule", f.rule},
                      {"severity", lint::to_string(f.severity)},
                      {"file", f.file},
                      {"line", f.line},
                      {"column", f.column},
                      {"message", f.message},
                      {"hint", f.hint}});
    }
    print_json({{"findings", list}});
  } else {
    for (const auto& f : findings) fmt::print("{}\n", lint::render(f));
    const int warnings = static_cast<int>(findings.size()) - errors;
    fmt::print("{} error{}, {} warning{} ({}).\n", errors, errors == 1 ? "" : "s", warnings,
               warnings == 1 ? "" : "s", to_string(engine));
  }
  if (errors > 0) throw ExitWith{ExitCode::lint};
}

std::string rule_table() {
  std::string out = "Rules (id, severity, engines):\n";
  for (const lint::Rule& r : lint::rules()) {
    out += fmt::format("  {:<30} {:<8} {}\n", r.id, lint::to_string(r.severity),
                       r.sqlite && r.postgres ? "both" : r.postgres ? "postgres" : "sqlite");
  }
  return out;
}

}  // namespace

void setup_lint(CLI::App& app) {
  auto cmd = std::make_shared<LintCommand>();
  CLI::App* sub = app.add_subcommand("lint", "Check pending migrations for destructive, failing or long-locking statements");
  add_common_options(*sub, cmd->common);
  add_ddl_guard_options(*sub, cmd->common);
  sub->add_option("files", cmd->files, "Lint only these files (default: every pending migration in --source)");
  sub->add_option("--since", cmd->since, "Treat the migrations up to this version as applied (no database needed)");
  sub->add_option("--engine", cmd->engine, "The engine to lint for (default: the engine of -d/DATABASE_URL)")
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  sub->footer(
      "Which migrations are pending: with --since V, those after V; else with -d (or DATABASE_URL)\n"
      "those the database's history does not list; else all of them. Tables created by pending\n"
      "migrations (earlier in the same file or in an earlier pending file) are new: lock and\n"
      "destructive rules do not fire on them. PostgreSQL statements are read by PostgreSQL's own\n"
      "parser; SQLite statements are prepared on a scratch database that replays the migrations\n"
      "before them. Silence a rule for one statement with a comment before or inside it:\n"
      "  -- strata: lint-ignore drop-column the column has been unused since v41\n"
      "With --ddl-lock-timeout (or ddl_lock_timeout in strata.toml) missing-lock-timeout is off.\n"
      "Exit 15 when a finding is at error severity. --json prints\n"
      "{\"findings\": [{\"rule\", \"severity\", \"file\", \"line\", \"column\", \"message\", \"hint\"}]}.\n\n" +
      rule_table() +
      "\nExamples:\n"
      "  strata lint --engine postgres\n"
      "  strata lint -d postgresql://app@localhost/app --json\n"
      "  strata lint --engine sqlite --since 20250101000000 migrations/20250402_add_index.sql");
  sub->callback([cmd] { run_lint(*cmd); });
}

}  // namespace strata::cli
