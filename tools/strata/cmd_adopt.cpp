// strata adopt TOOL: record what another migration tool applied, running
// nothing (strata/adopt.hpp, docs/adopt.md).
#include <fmt/format.h>

#include "common.hpp"
#include "strata/adopt.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

struct AdoptCommand {
  CommonOptions common;
  std::string tool;
  std::string table;
  std::string schema;
  bool dry_run = false;
};

void run_adopt(AdoptCommand& cmd) {
  apply_config(cmd.common);
  auto connection = open_database(cmd.common);
  const MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));
  AdoptOptions options;
  options.from = cmd.tool == "alembic"          ? AdoptFrom::alembic
                 : cmd.tool == "mautrix"        ? AdoptFrom::mautrix
                 : cmd.tool == "golang-migrate" ? AdoptFrom::golang_migrate
                 : cmd.tool == "flyway"         ? AdoptFrom::flyway
                                                : AdoptFrom::dbmate;
  options.table = cmd.table;
  options.schema = cmd.schema;
  options.dry_run = cmd.dry_run;
  const AdoptResult r = migrator.adopt(options);
  if (cmd.common.json) {
    print_json({{"database", connection->redacted_url()},
                {"from", cmd.tool},
                {"found", r.found},
                {"recorded", r.recorded},
                {"dry_run", cmd.dry_run}});
    return;
  }
  fmt::print("{}: {}\n", cmd.tool, r.found);
  if (r.recorded.empty()) {
    fmt::print("Nothing to record: {} applied nothing this source knows.\n", cmd.tool);
    return;
  }
  fmt::print("{} {} migration{} as applied, without running them:\n", cmd.dry_run ? "Would record" : "Recorded",
             r.recorded.size(), r.recorded.size() == 1 ? "" : "s");
  for (Version v : r.recorded) {
    const Migration& m = *source.find(v);
    fmt::print("  {} {}  ({})\n", m.version, m.description, m.path);
  }
}

}  // namespace

void setup_adopt(CLI::App& app) {
  auto cmd = std::make_shared<AdoptCommand>();
  CLI::App* sub = app.add_subcommand(
      "adopt", "Take over a database from another tool: record what it applied, without running anything");
  add_common_options(*sub, cmd->common);
  add_safety_options(*sub, cmd->common);
  sub->add_option("tool", cmd->tool, "alembic, mautrix, dbmate, golang-migrate or flyway")
      ->required()
      ->check(CLI::IsMember({"alembic", "mautrix", "dbmate", "golang-migrate", "flyway"}));
  sub->add_option("--table", cmd->table,
                  "The other tool's table (default: alembic_version, version, schema_migrations, "
                  "flyway_schema_history)");
  sub->add_option("--schema", cmd->schema, "PostgreSQL: the other table's schema (default: the history schema)");
  sub->add_flag("--dry-run", cmd->dry_run, "Show what would be recorded; write nothing");
  sub->footer(
      "One transaction under the migration lock; the other tool's table is left as it is. strata's\n"
      "history must be empty. Flyway's checksums are checked against the files; Alembic revisions\n"
      "map to files through -- strata: alembic-revision REV. See docs/adopt.md.\n\n"
      "Examples:\n"
      "  strata adopt dbmate -d postgresql://app@localhost/app --dry-run\n"
      "  strata adopt alembic -d sqlite:app.db\n"
      "  strata adopt flyway -d postgresql://app@localhost/app --schema public");
  sub->callback([cmd] { run_adopt(*cmd); });
}

}  // namespace strata::cli
