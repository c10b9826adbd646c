// strata up: apply pending migrations.
#include <fmt/format.h>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

struct UpCommand {
  CommonOptions common;
  std::optional<Version> target;
};

void run_up(const UpCommand& cmd) {
  auto connection = open_database(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));

  UpOptions options;
  options.target = cmd.target;
  if (!cmd.common.json) {
    options.on_applied = [](const AppliedStep& s) {
      fmt::print("Applied {} {} ({})\n", s.version, s.description, human_duration(s.duration));
      std::fflush(stdout);
    };
  }
  UpResult result = migrator.up(options);

  if (cmd.common.json) {
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& s : result.applied) {
      applied.push_back({{"version", s.version},
                         {"description", s.description},
                         {"duration_us", s.duration.count()}});
    }
    print_json({{"database", connection->redacted_url()}, {"applied", applied}, {"up_to_date", true}});
    return;
  }
  if (result.applied.empty()) {
    fmt::print("Database is up to date ({} migration{} in source, nothing to apply).\n",
               source.all().size(), source.all().size() == 1 ? "" : "s");
  } else {
    std::chrono::microseconds total{0};
    for (const auto& s : result.applied) total += s.duration;
    fmt::print("Applied {} migration{} in {}.\n", result.applied.size(),
               result.applied.size() == 1 ? "" : "s", human_duration(total));
  }
}

}  // namespace

void setup_up(CLI::App& app) {
  auto cmd = std::make_shared<UpCommand>();
  CLI::App* sub = app.add_subcommand("up", "Apply pending migrations, each in its own transaction");
  add_common_options(*sub, cmd->common);
  sub->add_option("--target", cmd->target, "Apply only up to this version (inclusive)");
  sub->footer(
      "Each migration and its history row commit together; if one fails, it is rolled back,\n"
      "the ones before it stay applied, and strata names the file, line and column.\n\n"
      "Examples:\n"
      "  strata up -d sqlite:app.db\n"
      "  DATABASE_URL=postgresql://app@localhost/app strata up -s db/migrations\n"
      "  strata up -d sqlite:app.db --target 20250410120000\n"
      "  strata up -d sqlite:app.db --json");
  sub->callback([cmd] { run_up(*cmd); });
}

}  // namespace strata::cli
