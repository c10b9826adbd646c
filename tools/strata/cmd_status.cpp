// strata status: what is applied, pending, changed or missing.
#include <fmt/format.h>

#include <algorithm>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

struct StatusCommand {
  CommonOptions common;
};

void run_status(StatusCommand& cmd) {
  apply_config(cmd.common);
  if (cmd.common.synapse) return run_synapse_status(cmd.common);
  auto connection = open_database(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));
  StatusReport report = migrator.status();

  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : report.migrations) list.push_back(to_json(m));
    nlohmann::json out{{"database", connection->redacted_url()},
                       {"source", cmd.common.source},
                       {"code_latest", report.code_latest},
                       {"migrations", list}};
    if (report.compat_floor) out["compat_floor"] = *report.compat_floor;
    if (!report.repeatables.empty()) {
      nlohmann::json reps = nlohmann::json::array();
      for (const auto& r : report.repeatables) {
        reps.push_back({{"name", r.name}, {"file", r.path},
                        {"state", !r.applied ? "pending" : r.changed ? "changed" : "applied"}});
      }
      out["repeatables"] = reps;
    }
    print_json(out);
    return;
  }

  fmt::print("Database: {}\nSource:   {}\n", connection->redacted_url(), cmd.common.source);
  if (report.compat_floor) {
    fmt::print("Compatibility floor: {} (this code knows up to {}{})\n", *report.compat_floor, report.code_latest,
               *report.compat_floor > report.code_latest ? ": TOO OLD for this database" : "");
  }
  if (report.migrations.empty()) {
    fmt::print("No migrations.\n");
    return;
  }
  std::size_t width = 7;
  for (const auto& m : report.migrations) width = std::max(width, std::to_string(m.version).size());
  fmt::print("\n{:<{}}  {:<8}  {:<26}  {}\n", "VERSION", width, "STATE", "APPLIED AT (UTC)", "DESCRIPTION");
  std::size_t counts[6] = {};
  for (const auto& m : report.migrations) {
    ++counts[static_cast<int>(m.state)];
    std::string at = m.applied ? m.applied->applied_at.substr(0, 19) : "";
    fmt::print("{:<{}}  {:<8}  {:<26}  {}\n", m.version, width, to_string(m.state), at, m.description);
  }
  fmt::print("\n{} applied, {} pending", counts[static_cast<int>(MigrationState::applied)],
             counts[static_cast<int>(MigrationState::pending)]);
  for (auto s : {MigrationState::changed, MigrationState::missing, MigrationState::ahead,
                 MigrationState::dirty}) {
    if (counts[static_cast<int>(s)] != 0) fmt::print(", {} {}", counts[static_cast<int>(s)], to_string(s));
  }
  fmt::print(".\n");
  for (const auto& r : report.repeatables) {
    fmt::print("repeatable {:<20}  {}\n", r.name,
               !r.applied ? "pending (runs at the next up)" : r.changed ? "changed (runs again at the next up)" : "applied");
  }
  for (const auto& m : report.migrations) {
    if (m.state == MigrationState::dirty) {
      fmt::print("\nMigration {} is dirty: {}\nFix it by hand, then run `strata repair --forget {}` or "
                 "`strata repair --mark-applied {}`.\n",
                 m.version, m.applied->failure, m.version, m.version);
    }
  }
}

}  // namespace

void setup_status(CLI::App& app) {
  auto cmd = std::make_shared<StatusCommand>();
  CLI::App* sub = app.add_subcommand("status", "Show each migration's state: applied, pending, changed, missing, ahead, dirty");
  add_common_options(*sub, cmd->common);
  sub->add_flag("--skip-code-deltas", cmd->common.skip_code_deltas,
                "Synapse layout: show code deltas without a registered step as skipped");
  sub->footer(
      "States:\n"
      "  applied  recorded, and the file's checksum matches\n"
      "  pending  in the source, not yet applied\n"
      "  changed  applied, but the file was edited since\n"
      "  missing  applied, but no longer in the source\n"
      "  ahead    applied by newer code (newer than every migration in the source)\n"
      "  dirty    a no-transaction migration that failed part-way\n\n"
      "Examples:\n"
      "  strata status -d sqlite:app.db\n"
      "  strata status -d postgresql://app@localhost/app --json");
  sub->callback([cmd] { run_status(*cmd); });
}

}  // namespace strata::cli
