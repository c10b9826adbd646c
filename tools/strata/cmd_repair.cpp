// strata repair: clear a dirty (failed no-transaction) migration.
#include <fmt/format.h>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

struct RepairCommand {
  CommonOptions common;
  std::optional<Version> forget;
  std::optional<Version> mark_applied;
};

void run_repair(RepairCommand& cmd) {
  apply_config(cmd.common);
  if (!cmd.forget && !cmd.mark_applied) {
    throw Error(ErrorKind::usage, "say what to do: --forget VERSION or --mark-applied VERSION");
  }
  auto connection = open_database(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));
  Version v = cmd.forget ? *cmd.forget : *cmd.mark_applied;
  if (cmd.forget) migrator.repair_forget(v);
  else migrator.repair_mark_applied(v);
  const char* action = cmd.forget ? "forgotten" : "marked applied";
  if (cmd.common.json) {
    print_json({{"database", connection->redacted_url()}, {"version", v}, {"action", action}});
  } else {
    fmt::print("Migration {} {}.\n", v, action);
  }
}

}  // namespace

void setup_repair(CLI::App& app) {
  auto cmd = std::make_shared<RepairCommand>();
  CLI::App* sub = app.add_subcommand("repair", "Clear a dirty migration after fixing its effects by hand");
  add_common_options(*sub, cmd->common);
  add_safety_options(*sub, cmd->common);
  auto* forget = sub->add_option("--forget", cmd->forget,
                                 "Remove the dirty record (you undid the migration's partial effects)");
  sub->add_option("--mark-applied", cmd->mark_applied,
                  "Record the dirty migration as applied (you finished it by hand)")
      ->excludes(forget);
  sub->footer(
      "A no-transaction migration that fails part-way leaves the database dirty, and `up` refuses\n"
      "to run. Look at `strata status` (its failure names the statement), fix the database by hand,\n"
      "then tell strata which way you fixed it.\n\n"
      "Examples:\n"
      "  strata repair -d sqlite:app.db --forget 5\n"
      "  strata repair -d postgresql://app@localhost/app --mark-applied 20250410120000");
  sub->callback([cmd] { run_repair(*cmd); });
}

}  // namespace strata::cli
