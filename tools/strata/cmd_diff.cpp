// strata diff: the SQL that turns one schema into another
// (strata/schema/diff.hpp), each side read from a database, a migrations
// directory, a declared schema or a Synapse tree (strata/schema/load.hpp).
#include <fmt/format.h>

#include <cstdio>

#include "common.hpp"
#include "exit_codes.hpp"
#include "schema_cli.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

struct DiffCommand {
  std::string from;
  std::string to;
  std::string dev_url = default_dev_url();
  std::string schema = "public";
  std::string history_table = "strata_migrations";
  std::vector<std::string> exclude;
  bool include_strata_tables = false;
  bool skip_code_deltas = false;
  bool exit_code = false;
  bool json = false;
};

void run_diff(DiffCommand& cmd) {
  schema::SchemaSource from = resolve_source(cmd.from);
  schema::SchemaSource to = resolve_source(cmd.to);
  const schema::SchemaSource both[] = {from, to};
  Engine engine = schema::comparison_engine(both, "", cmd.dev_url);
  schema::DevDatabase dev(engine, cmd.dev_url);
  schema::LoadOptions options = comparison_load_options({&from, &to}, cmd.history_table, cmd.schema);
  options.skip_code_deltas = cmd.skip_code_deltas;
  options.inspect.include_strata_tables = cmd.include_strata_tables;
  if (cmd.include_strata_tables) options.inspect.exclude_tables.clear();
  for (const auto& t : cmd.exclude) options.inspect.exclude_tables.push_back(t);

  schema::Schema a = schema::load_schema(from, dev, options);
  schema::Schema b = schema::load_schema(to, dev, options);
  warn_unsupported(from.label, a);
  warn_unsupported(to.label, b);
  schema::Diff d = schema::diff(a, b);
  for (const auto& u : d.unsupported) fmt::print(stderr, "warning: cannot be expressed as SQL: {}\n", u);

  if (cmd.json) {
    print_json({{"engine", to_string(engine)},
                {"from", from.label},
                {"to", to.label},
                {"changes", changes_json(d)},
                {"unsupported", d.unsupported},
                {"foreign_keys_off", d.foreign_keys_off}});
  } else if (d.empty()) {
    fmt::print(stderr, "-- no changes\n");
  } else {
    std::string sql = d.sql();
    std::fwrite(sql.data(), 1, sql.size(), stdout);
  }
  if (cmd.exit_code && !d.empty()) throw ExitStatus{ExitCode::diff_changes};
}

}  // namespace

void setup_diff(CLI::App& app) {
  auto cmd = std::make_shared<DiffCommand>();
  CLI::App* sub = app.add_subcommand("diff", "Print the SQL that turns one schema into another");
  sub->add_option("--from", cmd->from, "The schema to start from: a URL, a migrations directory, a .sql file or "
                                       "directory, or a strata.toml")
      ->required();
  sub->add_option("--to", cmd->to, "The schema to reach (same forms as --from)")->required();
  sub->add_option("--dev-url", cmd->dev_url,
                  "Where files are loaded: sqlite::memory: (the default), or an empty PostgreSQL database in which "
                  "strata creates and drops a throwaway schema (default: $STRATA_DEV_URL)");
  sub->add_option("--schema", cmd->schema, "PostgreSQL: the schema of the database sources to read")
      ->capture_default_str();
  sub->add_option("--history-table", cmd->history_table, "strata's history table, left out of the comparison")
      ->capture_default_str();
  sub->add_option("--exclude", cmd->exclude, "A table or view to leave out (repeatable)");
  sub->add_flag("--include-strata-tables", cmd->include_strata_tables,
                "Also compare strata's own tables (the history table and every strata_* table)");
  sub->add_flag("--skip-code-deltas", cmd->skip_code_deltas,
                "Synapse layout: skip code deltas (.py) that have no registered C++ step, with a warning each");
  sub->add_flag("--exit-code", cmd->exit_code, "Exit 13 when the schemas differ (a CI check)");
  sub->add_flag("--json", cmd->json,
                "Print {\"engine\", \"from\", \"to\", \"changes\": [{\"kind\", \"object\", \"detail\", "
                "\"statements\", \"destructive\", \"notes\"}], \"unsupported\", \"foreign_keys_off\"}");
  sub->footer(
      "A source is a database URL (read, never written), a directory of versioned migrations (replayed on\n"
      "the dev database), a declared schema (a .sql file, or a directory of .sql files run in name order,\n"
      "on the dev database), or a strata.toml (its Synapse tree, or its migrations directory; FILE#NAME\n"
      "replays only the logical databases of [databases.NAME]). The comparison runs on the engine of the\n"
      "URL sources, else of --dev-url, else SQLite in memory. Prints nothing on stdout (and \"-- no\n"
      "changes\" on stderr) when the schemas are equal. See docs/schema.md.\n\n"
      "Examples:\n"
      "  strata diff --from migrations --to schema.sql\n"
      "  strata diff --from sqlite:app.db --to schema.sql --exit-code\n"
      "  strata diff --from migrations --to postgresql://app@db/app --dev-url postgresql://app@localhost/dev --json");
  sub->callback([cmd] { run_diff(*cmd); });
}

}  // namespace strata::cli
