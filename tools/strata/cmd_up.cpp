// strata up: apply pending migrations (or preview them).
#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "common.hpp"
#include "strata/error.hpp"
#include "strata/graph.hpp"

namespace strata::cli {
namespace {

struct UpCommand {
  CommonOptions common;
  std::string target;
  bool dry_run = false;
  bool sql = false;
  std::string sql_range;  // up --sql A:B
};

// Previews must not create anything: a SQLite file that does not exist yet
// is previewed through an empty in-memory database of the same engine.
std::unique_ptr<Connection> open_for_preview(const CommonOptions& options) {
  DatabaseUrl url = database_url(options);
  if (url.engine == Engine::sqlite && !url.is_memory() && !std::filesystem::exists(url.sqlite_path)) {
    return connect("sqlite::memory:");
  }
  return connect(url);
}

// The options `up`, `up --dry-run` and `up --sql` share: --target and
// --sql A:B resolved against the source's graph. nullopt: nothing to do
// (a target of base or current).
std::optional<UpOptions> up_options(const UpCommand& cmd, const MigrationSet& source) {
  UpOptions options;
  options.group = cmd.common.group;
  if (!cmd.sql_range.empty()) {
    const RevisionGraph graph(source);
    const auto colon = cmd.sql_range.find(':');
    const std::string from = colon == std::string::npos ? "" : cmd.sql_range.substr(0, colon);
    const std::string to = colon == std::string::npos ? cmd.sql_range : cmd.sql_range.substr(colon + 1);
    if (!cmd.target.empty()) throw Error(ErrorKind::usage, "give the range to --sql (A:B) or --target, not both");
    if (colon != std::string::npos) {
      const ResolvedTarget a = resolve_target(graph, from.empty() ? "base" : from);
      if (a.relative) throw Error(ErrorKind::usage, "--sql A:B takes versions, head(s) or base, not " + from);
      options.assume_applied = a.versions;
    }
    const ResolvedTarget b = resolve_target(graph, to.empty() ? "heads" : to);
    if (b.relative) throw Error(ErrorKind::usage, "--sql A:B takes versions, head(s) or base, not " + to);
    if (b.base) return std::nullopt;
    options.targets = b.versions;
    return options;
  }
  if (cmd.target.empty()) return options;
  if (cmd.target == "current") return std::nullopt;
  // Built only when there is a target to resolve: its maps cost ~4,000
  // allocations at 1,000 migrations, a tenth of a no-op `up`'s.
  const RevisionGraph graph(source);
  const ResolvedTarget t = resolve_target(graph, cmd.target);
  if (t.base) return std::nullopt;
  if (t.relative) {
    if (*t.relative <= 0) {
      throw Error(ErrorKind::usage, "up takes +N (apply N more); to go back, use `strata down --target " +
                                        cmd.target + "`");
    }
    options.limit = *t.relative;
    return options;
  }
  options.targets = t.versions;
  return options;
}

void run_preview(const UpCommand& cmd) {
  auto connection = open_for_preview(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));
  const std::optional<UpOptions> resolved = up_options(cmd, source);
  UpOptions options = resolved.value_or(UpOptions{});
  if (cmd.sql) {
    std::string script = resolved ? migrator.script(options) : std::string();
    if (cmd.common.json) {
      print_json({{"database", database_url(cmd.common).redacted()}, {"sql", script}});
    } else {
      fmt::print("-- strata up --sql: {} ({})\n{}", database_url(cmd.common).redacted(),
                 to_string(connection->engine()), script);
    }
    return;
  }
  auto plan = resolved ? migrator.plan(options) : std::vector<const Migration*>{};
  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto* m : plan) {
      list.push_back({{"version", m->version}, {"description", m->description}, {"file", m->path}});
    }
    print_json({{"database", database_url(cmd.common).redacted()}, {"would_apply", list}});
    return;
  }
  if (plan.empty()) {
    fmt::print("Dry run: the database is up to date; nothing would be applied.\n");
    return;
  }
  fmt::print("Dry run: would apply {} migration{}:\n", plan.size(), plan.size() == 1 ? "" : "s");
  for (const auto* m : plan) fmt::print("  {} {}  ({})\n", m->version, m->description, m->path);
}

void run_up(UpCommand& cmd) {
  apply_config(cmd.common);
  cmd.sql = cmd.common.app != nullptr && cmd.common.app->count("--sql") > 0;
  if (cmd.common.synapse) {
    if (cmd.common.group) {
      throw Error(ErrorKind::usage, "--group (or group = true) does not apply to a Synapse layout, which runs a "
                                    "snapshot and then each delta on its own");
    }
    return run_synapse_up(cmd.common);
  }
  if (cmd.dry_run || cmd.sql) return run_preview(cmd);
  auto connection = open_database(cmd.common);
  MigrationSet source = load_source(cmd.common, connection->engine());
  Migrator migrator(*connection, source, migrator_options(cmd.common));

  const std::optional<UpOptions> resolved = up_options(cmd, source);
  UpOptions options = resolved.value_or(UpOptions{});
  if (!resolved) options.targets = {};  // base / current: apply nothing
  options.before_apply = [&](const std::vector<const Migration*>& plan) {
    std::set<Version> applied;
    for (const Migration& m : source.all()) applied.insert(m.version);
    for (const Migration* m : plan) applied.erase(m->version);
    lint_before_up(cmd.common, source, connection->engine(), applied);
  };
  if (!cmd.common.json) {
    options.on_applied = [](const AppliedStep& s) {
      if (s.repeatable) fmt::print("Ran repeatable {} ({})\n", s.description, human_duration(s.duration));
      else fmt::print("Applied {} {} ({})\n", s.version, s.description, human_duration(s.duration));
      std::fflush(stdout);
    };
  }
  UpResult result = resolved ? migrator.up(options) : UpResult{};

  if (cmd.common.json) {
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& s : result.applied) {
      nlohmann::json step{{"version", s.version}, {"description", s.description}, {"duration_us", s.duration.count()}};
      if (s.repeatable) step["repeatable"] = true;
      applied.push_back(step);
    }
    print_json({{"database", connection->redacted_url()}, {"applied", applied}, {"up_to_date", true}});
    return;
  }
  if (result.applied.empty()) {
    fmt::print("Database is up to date ({} migration{} in source, nothing to apply).\n", source.all().size(),
               source.all().size() == 1 ? "" : "s");
  } else {
    std::chrono::microseconds total{0};
    for (const auto& s : result.applied) total += s.duration;
    fmt::print("Applied {} migration{} in {}.\n", result.applied.size(), result.applied.size() == 1 ? "" : "s",
               human_duration(total));
  }
}

}  // namespace

void setup_up(CLI::App& app) {
  auto cmd = std::make_shared<UpCommand>();
  CLI::App* sub = app.add_subcommand("up", "Apply pending migrations, each in its own transaction");
  add_common_options(*sub, cmd->common);
  add_safety_options(*sub, cmd->common);
  add_background_options(*sub, cmd->common);
  add_ddl_guard_options(*sub, cmd->common);
  sub->add_option("--lint", cmd->common.lint,
                  "Lint pending migrations first: warn (print findings to stderr), error (refuse with exit 15 "
                  "when one is at error severity, before anything is applied) or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "warn", "off"}));
  sub->add_option("--target", cmd->target,
                  "Apply only up to this target (inclusive): a version or unique prefix, head, heads (every "
                  "branch), LABEL@head, +N (the next N), base");
  auto* dry = sub->add_flag("--dry-run", cmd->dry_run, "List what would be applied; change nothing");
  sub->add_option("--sql", cmd->sql_range,
                  "Print the complete script that would run (statements, history bookkeeping, transaction "
                  "boundaries); change nothing. With A:B, the offline script from A (as if applied) to B, "
                  "whatever the database holds")
      ->expected(0, 1)
      ->excludes(dry);
  sub->add_flag("--group", cmd->common.group,
                "Apply all pending migrations in one transaction: all or nothing (a no-transaction "
                "migration still runs on its own, ending the group before it)");
  sub->footer(
      "Before anything runs, strata takes the migration lock, re-reads the history and refuses a\n"
      "database with a changed or missing applied migration, a dirty migration, or a compatibility\n"
      "floor above this code. Each migration and its history row then commit together; if one\n"
      "fails it is rolled back, the ones before it stay applied, and strata names the file, line\n"
      "and column. With --group (or group = true under [migrations] in strata.toml) the pending\n"
      "migrations commit together instead, so a failure leaves the database as it was before the\n"
      "run; a no-transaction migration still runs alone, committing the group before it.\n\n"
      "Pending migrations are linted first (see `strata lint`): findings are printed to stderr;\n"
      "with --lint error (or lint = \"error\" under [migrations]) a finding at error severity\n"
      "refuses the run with exit 15 before anything is applied.\n\n"
      "DDL lock guard (PostgreSQL): with --ddl-lock-timeout S each transactional migration runs\n"
      "under SET LOCAL lock_timeout; when a lock wait times out it is rolled back and retried with\n"
      "backoff up to --ddl-retries times, each retry naming the pid that held the lock; then exit\n"
      "21. On SQLite these options are accepted and do nothing.\n\n"
      "Examples:\n"
      "  strata up -d sqlite:app.db\n"
      "  DATABASE_URL=postgresql://app@localhost/app strata up -s db/migrations\n"
      "  strata up -d sqlite:app.db --target 20250410120000\n"
      "  strata up -d sqlite:app.db --dry-run\n"
      "  strata up -d postgresql://app@localhost/app --sql > upgrade.sql\n"
      "  strata up -d postgresql://app@localhost/app --sql 0003:head   # offline, from 0003 to the head\n"
      "  strata up -d sqlite:app.db --target heads   # every branch, unmerged\n"
      "  strata up -d postgresql://app@localhost/app --lock-mode poll --lock-timeout 300");
  sub->callback([cmd] { run_up(*cmd); });
}

}  // namespace strata::cli
