// strata down: revert applied migrations with their .down.sql files.
#include <fmt/format.h>

#include "common.hpp"
#include "strata/error.hpp"
#include "strata/graph.hpp"
#include "strata/history.hpp"

namespace strata::cli {
namespace {

struct DownCommand {
  CommonOptions common;
  int steps = 1;
  std::string target;
};

void run_down(DownCommand& cmd) {
  apply_config(cmd.common);
  auto connection = open_database(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));
  DownOptions options;
  options.steps = cmd.steps;
  if (!cmd.target.empty()) {
    const RevisionGraph graph(source);
    History history(*connection, migrator_options(cmd.common).history);
    const std::vector<AppliedMigration> applied = history.exists() ? history.read() : std::vector<AppliedMigration>{};
    const ResolvedTarget t = resolve_target(graph, cmd.target, &applied);
    if (t.relative) {
      if (*t.relative >= 0) throw Error(ErrorKind::usage, "down takes -N (revert N); to go forward, use `strata up`");
      options.steps = -*t.relative;
    } else if (t.base) {
      options.base = true;
    } else {
      options.targets = t.versions;
    }
  }
  if (!cmd.common.json) {
    options.on_reverted = [](const AppliedStep& s) {
      fmt::print("Reverted {} {} ({})\n", s.version, s.description, human_duration(s.duration));
      std::fflush(stdout);
    };
  }
  DownResult result = migrator.down(options);
  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : result.reverted) {
      list.push_back({{"version", s.version}, {"description", s.description}, {"duration_us", s.duration.count()}});
    }
    print_json({{"database", connection->redacted_url()}, {"reverted", list}});
    return;
  }
  if (result.reverted.empty()) fmt::print("Nothing to revert.\n");
  else fmt::print("Reverted {} migration{}.\n", result.reverted.size(), result.reverted.size() == 1 ? "" : "s");
}

}  // namespace

void setup_down(CLI::App& app) {
  auto cmd = std::make_shared<DownCommand>();
  CLI::App* sub = app.add_subcommand("down", "Revert applied migrations with their .down.sql files");
  add_common_options(*sub, cmd->common);
  add_safety_options(*sub, cmd->common);
  auto* steps = sub->add_option("-n,--steps", cmd->steps, "How many of the newest migrations to revert")
                    ->capture_default_str()
                    ->check(CLI::NonNegativeNumber);
  sub->add_option("--target", cmd->target,
                  "Revert every applied migration this target does not need: base (everything), a version or "
                  "unique prefix, head(s), LABEL@head, current, or -N (the last N)")
      ->excludes(steps);
  sub->footer(
      "Before reverting anything, strata checks that every migration in range has a down file;\n"
      "each revert and the removal of its history row commit together.\n\n"
      "Examples:\n"
      "  strata down -d sqlite:app.db              # revert the newest migration\n"
      "  strata down -d sqlite:app.db --steps 3\n"
      "  strata down -d sqlite:app.db --target base   # revert everything\n"
      "  strata down -d sqlite:app.db --target -2     # the last two\n\n"
      "Version 0 is an ordinary version: --target 0 keeps it (and reverts what follows it).");
  sub->callback([cmd] { run_down(*cmd); });
}

}  // namespace strata::cli
