#include "common.hpp"
#include "config_keys.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <fstream>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "strata/error.hpp"
#include "strata/lint.hpp"
#include "strata/source.hpp"

namespace strata::cli {

void add_json_option(CLI::App& app, CommonOptions& options) {
  app.add_flag("--json", options.json, "Print machine-readable JSON on stdout (errors too)");
}

void add_background_options(CLI::App& app, CommonOptions& options) {
  app.add_option("--bg-table", options.background_table, "Name of the background-update queue table")
      ->capture_default_str();
  app.add_option("--bg-log-table", options.background_log_table,
                 "Name of the table that logs completed background updates")
      ->capture_default_str();
}

std::optional<std::string> dotenv_value(const std::string& file, std::string_view key) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string line;
  std::optional<std::string> found;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string_view l(line);
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    if (l.empty() || l.front() == '#') continue;
    if (l.starts_with("export ")) l.remove_prefix(7);
    const auto eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = l.substr(0, eq);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    if (name != key) continue;
    std::string_view value = l.substr(eq + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = value.substr(0, hash);  // an unquoted value ends at a comment
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    found = std::string(value);  // the last assignment wins, as in a shell
  }
  return found;
}

void add_common_options(CLI::App& app, CommonOptions& options) {
  options.app = &app;
  if (const char* env = std::getenv("DATABASE_URL")) {
    options.database_url = env;
  } else if (auto v = dotenv_value(".env", "DATABASE_URL")) {
    options.database_url = *v;  // dbmate's and sqlx's convention; the environment wins
  }
  app.add_option("-d,--database-url", options.database_url,
                 "Database URL: sqlite:path.db, sqlite::memory:, postgres://... (default: $DATABASE_URL)");
  app.add_option("-s,--source", options.source, "Directory of migration files")->capture_default_str();
  app.add_option("-c,--config", options.config,
                 "Config file; its [migrations] table sets defaults for these options")
      ->capture_default_str();
  app.add_option("--history-table", options.history_table, "Name of the history table")->capture_default_str();
  app.add_option("--history-schema", options.history_schema, "PostgreSQL schema of the history table")
      ->capture_default_str();
  app.add_option("--history-format", options.history_format,
                 "Layout of the history table: strata; sqlx (sqlx's _sqlx_migrations, read and written as "
                 "sqlx does; the table defaults to _sqlx_migrations); or mautrix (mautrix-go's one-row version "
                 "table, default name version, and its upgrade directories as the source: see docs/adopt.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"strata", "sqlx", "mautrix"}));
  add_json_option(app, options);
}

void add_safety_options(CLI::App& app, CommonOptions& options) {
  app.add_flag("--ignore-missing", options.ignore_missing,
               "Accept applied migrations that are no longer in the source");
  app.add_flag("--allow-unsupported", options.allow_unsupported,
               "Use a database whose compatibility floor is above this code's newest migration (warns)");
  app.add_option("--allow-checksum", options.allow_checksums,
                 "Accept an old checksum of an edited applied migration, as VERSION:SHA384HEX (repeatable)");
  app.add_option("--lock-timeout", options.lock_timeout_s, "Seconds to wait for another migrator's lock")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--skip-code-deltas", options.skip_code_deltas,
               "Synapse layout: skip code deltas (.py) that have no registered C++ step, with a warning each");
  app.add_option("--lock-mode", options.lock_mode,
                 "wait: block on the lock; poll: retry with backoff (does not stall CREATE INDEX "
                 "CONCURRENTLY in other sessions)")
      ->capture_default_str()
      ->check(CLI::IsMember({"wait", "poll"}));
}

void add_ddl_guard_options(CLI::App& app, CommonOptions& options) {
  app.add_option("--ddl-lock-timeout", options.ddl_lock_timeout_s,
                 "PostgreSQL: run each transactional migration under SET LOCAL lock_timeout of this many "
                 "seconds and retry it when a lock wait times out (0 = off; SQLite: accepted, does nothing)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ddl-retries", options.ddl_retries,
                 "PostgreSQL: retries after a lock timeout before giving up with exit 21 (SQLite: accepted, "
                 "does nothing)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

void lint_before_up(const CommonOptions& options, const MigrationSet& source, Engine engine,
                    const std::set<Version>& applied) {
  if (options.lint == "off") return;
  lint::Options lo;
  lo.history_table = options.history_table;
  lo.lock_guard = engine == Engine::postgres && options.ddl_lock_timeout_s > 0;
  std::vector<lint::Finding> findings = lint::lint(source, engine, applied, lo);
  int errors = 0;
  for (const auto& f : findings) {
    fmt::print(stderr, "lint: {}\n", lint::render(f));
    if (f.severity == lint::Severity::error) ++errors;
  }
  if (errors > 0 && options.lint == "error") {
    throw Error(ErrorKind::lint,
                fmt::format("lint found {} problem{} at error severity in the pending migrations; nothing was "
                            "applied (fix them, suppress one with -- strata: lint-ignore RULE reason, or run "
                            "with --lint warn)",
                            errors, errors == 1 ? "" : "s"));
  }
}

namespace {

bool given(const CommonOptions& o, const char* name) {
  if (o.app == nullptr) return false;
  try {
    return o.app->count(name) > 0;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

}  // namespace

namespace {

// Reads [layout] and [databases.*]. Relative paths (the root, sqlite: URLs)
// are relative to the config file's directory.
void read_layout(CommonOptions& o, const toml::table& root) {
  const toml::table* layout = root["layout"].as_table();
  if (layout == nullptr) return;
  auto fail = [&](const std::string& what) { throw Error(ErrorKind::config, o.config + ": " + what); };
  std::string kind = (*layout)["kind"].value_or(std::string("versioned"));
  if (kind == "versioned") return;
  if (kind != "synapse") fail("layout.kind must be \"versioned\" or \"synapse\", not \"" + kind + "\"");

  const std::filesystem::path base = std::filesystem::absolute(o.config).parent_path();
  SynapseConfig cfg;
  auto root_dir = (*layout)["root"].value<std::string>();
  if (!root_dir) fail("layout.root (the schema directory) is required");
  cfg.layout.root = (base / *root_dir).lexically_normal();
  auto schema_version = (*layout)["schema_version"].value<std::int64_t>();
  auto compat_version = (*layout)["compat_version"].value<std::int64_t>();
  if (!schema_version) fail("layout.schema_version (an integer) is required");
  cfg.layout.schema_version = *schema_version;
  cfg.layout.compat_version = compat_version.value_or(*schema_version);
  cfg.layout.use_snapshots = (*layout)["use_snapshots"].value_or(true);

  const toml::table* dbs = root["databases"].as_table();
  if (dbs == nullptr || dbs->empty()) fail("a synapse layout needs [databases.<name>] tables with url and logical");
  std::map<std::string, std::string> owner;  // logical -> physical
  for (const auto& [key, value] : *dbs) {
    PhysicalDatabase db;
    db.name = std::string(key.str());
    const toml::table* t = value.as_table();
    if (t == nullptr) fail("databases." + db.name + " must be a table");
    auto url = (*t)["url"].value<std::string>();
    if (!url) fail("databases." + db.name + ".url is required");
    db.url = *url;
    if (db.url.starts_with("sqlite:") && db.url != "sqlite::memory:") {
      DatabaseUrl parsed = DatabaseUrl::parse(db.url);
      std::filesystem::path p = parsed.sqlite_path;
      if (p.is_relative()) db.url = "sqlite:" + (base / p).lexically_normal().string();
    }
    const toml::array* logical = (*t)["logical"].as_array();
    if (logical == nullptr || logical->empty()) fail("databases." + db.name + ".logical must list logical databases");
    for (const auto& item : *logical) {
      auto name = item.value<std::string>();
      if (!name) fail("databases." + db.name + ".logical must hold strings");
      auto [pos, inserted] = owner.emplace(*name, db.name);
      if (!inserted) {
        fail("logical database '" + *name + "' is configured twice: in databases." + pos->second + " and databases." +
             db.name);
      }
      db.logical.push_back(*name);
    }
    cfg.databases.push_back(std::move(db));
  }
  auto in_tree = synapse_logical_databases(cfg.layout.root);
  for (const auto& l : in_tree) {
    if (owner.count(l) == 0) fail("logical database '" + l + "' (" + (cfg.layout.root / l).string() +
                                  ") is not configured on any database");
  }
  for (const auto& [l, db] : owner) {
    if (std::find(in_tree.begin(), in_tree.end(), l) == in_tree.end()) {
      fail("databases." + db + " names logical database '" + l + "', which " + cfg.layout.root.string() +
           " does not have");
    }
  }
  o.synapse = std::move(cfg);
}

}  // namespace

namespace {
void apply_config_table(CommonOptions& o, const toml::table& root);
}

void apply_config(CommonOptions& o) {
  bool explicit_config = given(o, "--config");
  if (!explicit_config && !std::filesystem::exists(o.config)) return;
  toml::table root;
  try {
    root = toml::parse_file(o.config);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw Error(ErrorKind::config, fmt::format("{}:{}:{}: {}", o.config, at.line, at.column, e.description()));
  }
  apply_config_table(o, root);
}

void apply_config_text(CommonOptions& o, std::string_view text, const std::string& name) {
  o.config = name;
  toml::table root;
  try {
    root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw Error(ErrorKind::config, fmt::format("{}:{}:{}: {}", name, at.line, at.column, e.description()));
  }
  apply_config_table(o, root);
}

namespace {
void apply_config_table(CommonOptions& o, const toml::table& root) {
  check_config_keys(o.config, root);
  read_layout(o, root);
  const toml::table* m = root["migrations"].as_table();
  if (m == nullptr) return;
  auto text = [&](const char* key, const char* option, std::string& target) {
    if (auto v = (*m)[key].value<std::string>(); v && !given(o, option)) target = *v;
  };
  text("source", "--source", o.source);
  if ((*m)["history_table"]) o.history_table_named = true;
  text("history_table", "--history-table", o.history_table);
  text("history_schema", "--history-schema", o.history_schema);
  text("background_table", "--bg-table", o.background_table);
  text("background_log_table", "--bg-log-table", o.background_log_table);
  text("lock_mode", "--lock-mode", o.lock_mode);
  if (auto v = (*m)["lock_timeout"].value<double>(); v && !given(o, "--lock-timeout")) o.lock_timeout_s = *v;
  if (auto v = (*m)["group"].value<bool>(); v && !given(o, "--group")) o.group = *v;
  text("graph", "--graph", o.graph);
  text("history_format", "--history-format", o.history_format);
  if (o.history_format != "strata" && o.history_format != "sqlx" && o.history_format != "mautrix") {
    throw Error(ErrorKind::config, o.config + ": migrations.history_format must be \"strata\", \"sqlx\" or \"mautrix\", not \"" +
                                       o.history_format + "\"");
  }
  if (o.graph != "implicit" && o.graph != "explicit") {
    throw Error(ErrorKind::config, o.config + ": migrations.graph must be \"implicit\" (a file without "
                                              "-- strata: parents follows the previous version) or \"explicit\" "
                                              "(every file names its parents), not \"" + o.graph + "\"");
  }
  text("lint", "--lint", o.lint);
  if (o.lint != "error" && o.lint != "warn" && o.lint != "off") {
    throw Error(ErrorKind::config, o.config + ": migrations.lint must be \"error\", \"warn\" or \"off\", not \"" +
                                       o.lint + "\"");
  }
  if (auto v = (*m)["ddl_lock_timeout"].value<double>(); v && !given(o, "--ddl-lock-timeout")) {
    if (*v < 0) throw Error(ErrorKind::config, o.config + ": migrations.ddl_lock_timeout must not be negative");
    o.ddl_lock_timeout_s = *v;
  }
  if (auto v = (*m)["ddl_retries"].value<std::int64_t>(); v && !given(o, "--ddl-retries")) {
    if (*v < 0 || *v > 1000) throw Error(ErrorKind::config, o.config + ": migrations.ddl_retries must be 0..1000");
    o.ddl_retries = static_cast<int>(*v);
  }
  if (auto* list = (*m)["allow_missing"].as_array()) {
    for (const auto& item : *list) {
      auto v = item.value<std::int64_t>();
      if (!v) throw Error(ErrorKind::config, o.config + ": migrations.allow_missing must list versions (integers)");
      o.allow_missing.push_back(*v);
    }
  }
  if (auto* table = (*m)["allowed_checksums"].as_table()) {
    for (const auto& [key, value] : *table) {
      auto* list = value.as_array();
      if (list == nullptr) {
        throw Error(ErrorKind::config, fmt::format("{}: migrations.allowed_checksums.{} must be a list of checksums",
                                                   o.config, key.str()));
      }
      for (const auto& item : *list) {
        auto v = item.value<std::string>();
        if (!v) throw Error(ErrorKind::config, o.config + ": checksums must be strings");
        o.allow_checksums.push_back(std::string(key.str()) + ":" + *v);
      }
    }
  }
}
}  // namespace

DatabaseUrl database_url(const CommonOptions& options) {
  if (options.database_url.empty()) {
    throw Error(ErrorKind::usage,
                "no database given: pass -d/--database-url or set DATABASE_URL "
                "(for example sqlite:app.db or postgresql://user@localhost/app)");
  }
  return DatabaseUrl::parse(options.database_url);
}

std::unique_ptr<Connection> open_database(const CommonOptions& options) {
  return connect(database_url(options));
}

// Where the stat cache of migration directories lives (strata/source.hpp):
// $STRATA_CACHE_DIR (set empty: no cache), else $XDG_CACHE_HOME/strata,
// else ~/.cache/strata.
std::filesystem::path source_cache_dir() {
  if (const char* dir = std::getenv("STRATA_CACHE_DIR")) return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::filesystem::path(xdg) / "strata";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::filesystem::path(home) / ".cache" / "strata";
  }
  return {};
}

MigrationSet load_source(const CommonOptions& options, Engine engine) {
  SourceOptions source;
  source.explicit_graph = options.graph == "explicit";
  // mautrix-go's version table goes with its upgrade directories.
  if (options.history_format == "mautrix") source.layout = SourceLayout::mautrix;
  source.cache_dir = source_cache_dir();
  return load_directory(options.source, engine, source);
}

Engine source_engine(const CommonOptions& options) {
  return options.database_url.empty() ? Engine::sqlite : database_url(options).engine;
}

MigratorOptions migrator_options(const CommonOptions& options) {
  MigratorOptions m;
  m.history.table = options.history_table;
  m.history.schema = options.history_schema;
  m.lock.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(options.lock_timeout_s * 1000)));
  m.lock.mode = options.lock_mode == "poll" ? LockOptions::Mode::poll : LockOptions::Mode::wait;
  if (options.history_format == "sqlx") {
    m.history.format = HistoryFormat::sqlx;
    // sqlx's table unless one was named (on the command line or in strata.toml).
    if (!options.history_table_named && !given(options, "--history-table")) m.history.table = "_sqlx_migrations";
  } else if (options.history_format == "mautrix") {
    m.history.format = HistoryFormat::mautrix;
    if (!options.history_table_named && !given(options, "--history-table")) m.history.table = "version";
  }
  m.ignore_missing = options.ignore_missing;
  m.allow_unsupported = options.allow_unsupported;
  for (Version v : options.allow_missing) m.allowed_missing.insert(v);
  for (const auto& entry : options.allow_checksums) {
    auto colon = entry.find(':');
    Version v = 0;
    bool ok = colon != std::string::npos && colon > 0;
    try {
      if (ok) v = std::stoll(entry.substr(0, colon));
    } catch (const std::exception&) {
      ok = false;
    }
    std::string hex = ok ? entry.substr(colon + 1) : "";
    ok = ok && (hex.size() == 96 || hex.size() == 32) && hex.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!ok) {
      throw Error(ErrorKind::usage, "--allow-checksum takes VERSION:CHECKSUM with a 96-digit lowercase hex "
                                    "SHA-384 (or its first 32 digits), not '" + entry + "'");
    }
    m.allowed_checksums[v].insert(hex);
  }
  m.on_warning = [](std::string_view w) { fmt::print(stderr, "warning: {}\n", w); };
  m.ddl_lock_timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(options.ddl_lock_timeout_s * 1000)));
  m.ddl_retries = options.ddl_retries;
  m.background_queue = background_tables(options);
  return m;
}

BackgroundTables background_tables(const CommonOptions& options) {
  BackgroundTables t;
  t.schema = options.history_schema;
  t.queue = options.background_table;
  t.log = options.background_log_table;
  return t;
}

void print_json(const nlohmann::json& j) {
  std::string text = j.dump(2);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

std::string human_duration(std::chrono::microseconds d) {
  double us = static_cast<double>(d.count());
  if (us < 1000.0) return fmt::format("{:.0f} µs", us);
  if (us < 1e6) return fmt::format("{:.1f} ms", us / 1000.0);
  return fmt::format("{:.2f} s", us / 1e6);
}

nlohmann::json to_json(const MigrationStatus& m) {
  nlohmann::json j{{"version", m.version}, {"description", m.description}, {"state", to_string(m.state)}};
  if (m.migration != nullptr && !m.migration->path.empty()) j["file"] = m.migration->path;
  if (m.migration != nullptr) j["reversible"] = m.migration->reversible();
  if (m.applied) {
    j["applied_at"] = m.applied->applied_at;
    j["checksum"] = m.applied->checksum;
    j["execution_time_us"] = m.applied->execution_time_us;
    if (!m.applied->failure.empty()) j["failure"] = m.applied->failure;
    if (m.applied->compat_floor) j["compat_floor"] = *m.applied->compat_floor;
  }
  if (m.state == MigrationState::changed) j["source_checksum"] = m.migration->checksum;
  return j;
}

}  // namespace strata::cli
