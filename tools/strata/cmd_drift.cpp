// strata drift: does the live database still look like what its migrations
// (or its Synapse tree) produce? The source is replayed on the dev database,
// both are inspected, and every difference is listed. The live database is
// only read.
#include <fmt/format.h>

#include <filesystem>

#include "common.hpp"
#include "exit_codes.hpp"
#include "schema_cli.hpp"
#include "strata/error.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/source.hpp"

namespace strata::cli {
namespace {
namespace fs = std::filesystem;

struct DriftCommand {
  CommonOptions common;
  std::string dev_url = default_dev_url();
  std::string schema = "public";
};

// One live database and the source it should match.
struct DriftTarget {
  std::string name;  // the [databases.NAME] of a Synapse layout; "" otherwise
  std::string url;
  schema::SchemaSource source;
};

bool same_database(const std::string& a, const std::string& b) {
  DatabaseUrl x = DatabaseUrl::parse(a), y = DatabaseUrl::parse(b);
  if (x.engine != y.engine) return false;
  if (x.engine == Engine::postgres) return x.text == y.text;
  std::error_code ec;
  return fs::weakly_canonical(x.sqlite_path, ec) == fs::weakly_canonical(y.sqlite_path, ec);
}

std::vector<DriftTarget> targets(const DriftCommand& cmd) {
  const CommonOptions& o = cmd.common;
  if (!o.synapse) return {{"", database_url(o).text, schema::SchemaSource::migrations(o.source)}};
  bool pick = o.app != nullptr && o.app->count("--database-url") > 0;
  std::vector<DriftTarget> out;
  for (const auto& db : o.synapse->databases) {
    if (pick && !same_database(db.url, o.database_url)) continue;
    schema::SchemaSource s = schema::SchemaSource::synapse(o.synapse->layout, db.logical);
    s.label = fmt::format("{} [databases.{}]", o.config, db.name);
    out.push_back({db.name, db.url, std::move(s)});
  }
  if (out.empty()) {
    throw Error(ErrorKind::usage, fmt::format("{} is none of the databases of {}", DatabaseUrl::parse(o.database_url).redacted(),
                                              o.config));
  }
  return out;
}

struct DriftResult {
  schema::Diff diff;
  std::size_t pending = 0;
};

DriftResult check(const DriftCommand& cmd, const DriftTarget& t) {
  DatabaseUrl url = DatabaseUrl::parse(t.url);
  schema::SchemaSource live_source = schema::SchemaSource::database(t.url);
  const schema::SchemaSource both[] = {live_source, t.source};
  Engine engine = schema::comparison_engine(both, "", cmd.dev_url);
  if (engine == Engine::postgres && cmd.dev_url.empty()) {
    // Said before the live database is even opened: it is never a scratch.
    throw Error(ErrorKind::usage,
                "drift on PostgreSQL replays the source on a dev database: pass --dev-url with the URL of an empty "
                "database (or set STRATA_DEV_URL); the live database is only read");
  }
  schema::DevDatabase dev(engine, cmd.dev_url);
  schema::LoadOptions options = comparison_load_options({&t.source}, cmd.common.history_table, cmd.schema);
  options.skip_code_deltas = cmd.common.skip_code_deltas;

  std::error_code ec;
  if (url.engine == Engine::sqlite && !url.is_memory() && !fs::exists(url.sqlite_path, ec)) {
    throw Error(ErrorKind::connection, url.redacted() + ": no such SQLite database file");
  }
  auto live = connect(url);
  DriftResult result;
  if (t.source.kind == schema::SourceKind::migrations) {
    // Compare with what the migrations the database has applied produce:
    // a database that is merely behind has pending migrations, not drift.
    MigrationSet set = load_directory(t.source.path, engine);
    MigratorOptions m = migrator_options(cmd.common);
    m.on_warning = nullptr;
    StatusReport status = Migrator(*live, set, m).status();
    std::optional<Version> newest;
    for (const auto& s : status.migrations) {
      if (s.applied) newest = std::max(newest.value_or(s.version), s.version);
    }
    if (newest) {  // else never migrated: compare with the whole source
      options.target = newest;
      for (const auto& s : status.migrations) {
        if (s.state == MigrationState::pending && s.version > *newest) ++result.pending;
      }
    }
  }
  schema::Schema expected = schema::load_schema(t.source, dev, options);
  schema::Schema actual;
  try {
    actual = schema::inspect(*live, options.inspect);
  } catch (Error& e) {
    e.context("reading " + url.redacted());
    throw;
  }
  warn_unsupported(t.source.label, expected);
  warn_unsupported(url.redacted(), actual);
  result.diff = schema::diff(expected, actual);
  return result;
}

void print_human(const DriftTarget& t, const DriftResult& r) {
  std::string db = DatabaseUrl::parse(t.url).redacted();
  if (r.pending > 0) {
    fmt::print(stderr, "note: {} migration{} pending on {}: compared with what the applied ones produce\n", r.pending,
               r.pending == 1 ? " is" : "s are", db);
  }
  if (r.diff.empty()) {
    fmt::print("No drift: {} matches what {} produces.\n", db, t.source.label);
    return;
  }
  std::size_t n = r.diff.changes.size() + r.diff.unsupported.size();
  fmt::print("Drift: {} differs from what {} produces ({} difference{}); made to the database:\n", db,
             t.source.label, n, n == 1 ? "" : "s");
  for (const auto& c : r.diff.changes) {
    fmt::print("  {:<18} {}{}\n", schema::to_string(c.kind), c.object, c.detail.empty() ? "" : ": " + c.detail);
  }
  for (const auto& u : r.diff.unsupported) fmt::print("  {:<18} {}\n", "unsupported", u);
}

void run_drift(DriftCommand& cmd) {
  apply_config(cmd.common);
  auto list = targets(cmd);
  bool drift = false;
  nlohmann::json all_changes = nlohmann::json::array();
  nlohmann::json all_unsupported = nlohmann::json::array();
  nlohmann::json databases = nlohmann::json::array();
  for (const auto& t : list) {
    if (!t.name.empty() && !cmd.common.json) fmt::print("== {} ({})\n", t.name, DatabaseUrl::parse(t.url).redacted());
    DriftResult r;
    try {
      r = check(cmd, t);
    } catch (Error& e) {
      if (!t.name.empty()) e.context("drift on database " + t.name);
      throw;
    }
    drift = drift || !r.diff.empty();
    nlohmann::json changes = changes_json(r.diff);
    for (auto c : changes) {
      if (!t.name.empty()) c["database"] = t.name;
      all_changes.push_back(std::move(c));
    }
    for (const auto& u : r.diff.unsupported) all_unsupported.push_back(u);
    nlohmann::json j{{"database", DatabaseUrl::parse(t.url).redacted()}, {"source", t.source.label},
                     {"engine", to_string(r.diff.engine)}, {"drift", !r.diff.empty()},
                     {"changes", changes}, {"unsupported", r.diff.unsupported},
                     {"pending", r.pending}};
    if (!t.name.empty()) j["name"] = t.name;
    databases.push_back(std::move(j));
    if (!cmd.common.json) print_human(t, r);
  }
  if (cmd.common.json) {
    nlohmann::json out;
    if (list.size() == 1 && list.front().name.empty()) {
      out = databases.front();
    } else {
      out = {{"drift", drift}, {"changes", all_changes}, {"unsupported", all_unsupported}, {"databases", databases}};
    }
    print_json(out);
  }
  if (drift) throw ExitStatus{ExitCode::drift};
}

}  // namespace

void setup_drift(CLI::App& app) {
  auto cmd = std::make_shared<DriftCommand>();
  CLI::App* sub = app.add_subcommand(
      "drift", "Compare the live database with what its migrations produce (exit 14 when they differ)");
  add_common_options(*sub, cmd->common);
  sub->add_option("--dev-url", cmd->dev_url,
                  "Where the migrations are replayed: sqlite::memory: (the default for SQLite), or for PostgreSQL an "
                  "empty database in which strata creates and drops a throwaway schema (default: $STRATA_DEV_URL)");
  sub->add_option("--schema", cmd->schema, "PostgreSQL: the schema of the live database to read")->capture_default_str();
  sub->add_flag("--skip-code-deltas", cmd->common.skip_code_deltas,
                "Synapse layout: skip code deltas (.py) that have no registered C++ step, with a warning each");
  sub->footer(
      "Replays the migrations the database has applied (every one when it has no history) on the dev database,\n"
      "inspects both, and lists what was made to the live database beyond them; the live database is only\n"
      "read. strata's own tables are left out. With a Synapse layout in strata.toml, every physical database\n"
      "of it is checked (-d picks one). PostgreSQL needs --dev-url: the live database is never used as a\n"
      "scratch. --json prints {\"drift\", \"changes\": [{\"kind\", \"object\", \"detail\", \"statements\",\n"
      "\"destructive\", \"notes\"}], \"unsupported\", \"database\", \"source\", \"engine\", \"pending\"}.\n"
      "Exit 0: no drift; 14: drift.\n\n"
      "Examples:\n"
      "  strata drift -d sqlite:app.db\n"
      "  strata drift -d postgresql://app@db/app --dev-url postgresql://app@localhost/scratch --json\n"
      "  strata drift --config strata.toml");
  sub->callback([cmd] { run_drift(*cmd); });
}

}  // namespace strata::cli
