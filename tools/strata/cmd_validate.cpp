// strata validate: check the database against the source without changing it.
#include <fmt/format.h>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

struct ValidateCommand {
  CommonOptions common;
  bool allow_pending = false;
};

void run_validate(ValidateCommand& cmd) {
  apply_config(cmd.common);
  if (cmd.common.synapse) return run_synapse_validate(cmd.common);
  auto connection = open_database(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  auto options = migrator_options(cmd.common);
  options.on_warning = nullptr;  // reported below, once
  Migrator migrator(*connection, source, options);
  ValidationReport report = migrator.validate();

  std::vector<const MigrationStatus*> pending;
  for (const auto& m : report.status.migrations) {
    if (m.state == MigrationState::pending) pending.push_back(&m);
  }
  if (!cmd.allow_pending && !pending.empty() && report.ok()) {
    std::string names;
    for (const auto* m : pending) names += fmt::format("\n  {} {}", m->version, m->description);
    report.kind = ErrorKind::validation;
    report.errors.push_back(fmt::format("the database is behind: {} pending migration{}:{}\nRun `strata up` to "
                                        "apply them (or pass --allow-pending).",
                                        pending.size(), pending.size() == 1 ? "" : "s", names));
  }

  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : report.status.migrations) list.push_back(to_json(m));
    nlohmann::json out{{"database", connection->redacted_url()},
                       {"valid", report.ok()},
                       {"errors", report.errors},
                       {"warnings", report.warnings},
                       {"migrations", list},
                       {"code_latest", report.status.code_latest}};
    if (report.status.compat_floor) out["compat_floor"] = *report.status.compat_floor;
    print_json(out);
  } else {
    for (const auto& w : report.warnings) fmt::print(stderr, "warning: {}\n", w);
  }
  report.throw_if_failed();
  if (!cmd.common.json) {
    fmt::print("Valid: {} migration{} checked against {}.\n", report.status.migrations.size(),
               report.status.migrations.size() == 1 ? "" : "s", connection->redacted_url());
  }
}

}  // namespace

void setup_validate(CLI::App& app) {
  auto cmd = std::make_shared<ValidateCommand>();
  CLI::App* sub = app.add_subcommand("validate", "Check the database against the source; change nothing");
  add_common_options(*sub, cmd->common);
  add_safety_options(*sub, cmd->common);
  sub->add_flag("--allow-pending", cmd->allow_pending, "Do not fail when migrations are pending");
  sub->footer(
      "Fails (exit 7) when an applied migration's file changed (checksums compare the file with a\n"
      "leading BOM removed and CRLF as LF) or is missing, or when migrations are pending; exit 9\n"
      "when a migration is dirty; exit 8 when the database needs newer code. A worker that must not\n"
      "migrate runs this at start.\n\n"
      "Examples:\n"
      "  strata validate -d sqlite:app.db\n"
      "  strata validate -d postgresql://app@localhost/app --allow-pending --json");
  sub->callback([cmd] { run_validate(*cmd); });
}

}  // namespace strata::cli
