// schema/load.cpp: schema sources (URL, migrations, declared SQL, Synapse
// tree) and the dev database they are loaded on.
#include "strata/schema/load.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <atomic>
#include <fstream>
#include <sstream>

#include "migration/script_runner.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/source.hpp"
#include "strata/sql/splitter.hpp"
#include "strata/transaction.hpp"
#include "util/utf8.hpp"

namespace strata::schema {
namespace fs = std::filesystem;

const char* to_string(SourceKind kind) noexcept {
  switch (kind) {
    case SourceKind::database: return "database";
    case SourceKind::migrations: return "migrations";
    case SourceKind::declared: return "declared";
    case SourceKind::synapse: return "synapse";
  }
  return "?";
}

SchemaSource SchemaSource::database(std::string url) {
  SchemaSource s;
  s.kind = SourceKind::database;
  s.label = DatabaseUrl::parse(url).redacted();
  s.url = std::move(url);
  return s;
}

SchemaSource SchemaSource::migrations(fs::path dir) {
  SchemaSource s;
  s.kind = SourceKind::migrations;
  s.label = dir.string();
  s.path = std::move(dir);
  return s;
}

SchemaSource SchemaSource::declared(fs::path file_or_dir) {
  SchemaSource s;
  s.kind = SourceKind::declared;
  s.label = file_or_dir.string();
  s.path = std::move(file_or_dir);
  return s;
}

SchemaSource SchemaSource::synapse(SynapseLayout layout, std::vector<std::string> logical) {
  SchemaSource s;
  s.kind = SourceKind::synapse;
  s.label = layout.root.string();
  s.path = layout.root;
  s.layout = std::move(layout);
  s.logical = std::move(logical);
  return s;
}

namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// A URL as DatabaseUrl accepts it: a scheme we know, or a libpq conninfo
// string (its first word is key=value).
bool looks_like_url(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  if (starts_with_nocase(text, "sqlite:") || starts_with_nocase(text, "postgres://") ||
      starts_with_nocase(text, "postgresql://")) {
    return true;
  }
  std::string_view first = text.substr(0, text.find_first_of(" \t"));
  auto eq = first.find('=');
  return eq != std::string_view::npos && eq > 0 && first.find('/') == std::string_view::npos;
}

bool hidden(const std::string& name) { return name.empty() || name.front() == '.'; }

bool has_versioned_file(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (hidden(name) || !it->is_regular_file(ec)) continue;
    std::string why;
    if (parse_file_name(name, &why)) return true;
  }
  return false;
}

// The engine a declared file is for, from its name: nullopt for a plain
// .sql file (both engines); false from `wanted` when it is not a .sql file.
struct DeclaredName {
  bool sql = false;
  std::optional<Engine> engine;
};

DeclaredName declared_name(std::string_view name) {
  struct Suffix {
    std::string_view text;
    std::optional<Engine> engine;
  };
  static const Suffix suffixes[] = {
      {".sqlite.sql", Engine::sqlite}, {".sql.sqlite", Engine::sqlite},     {".postgres.sql", Engine::postgres},
      {".sql.postgres", Engine::postgres}, {".sql", std::nullopt},
  };
  for (const auto& s : suffixes) {
    if (name.size() > s.text.size() && name.ends_with(s.text)) return {true, s.engine};
  }
  return {};
}

std::string read_text(const fs::path& path, const std::string& label) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (!in || !(text << in.rdbuf())) {
    // An empty file makes operator<< fail too: tell it from a read error.
    std::error_code ec;
    if (in && fs::file_size(path, ec) == 0 && !ec) return {};
    throw Error(ErrorKind::io, "cannot read " + label);
  }
  std::string out = text.str();
  if (auto bad = util::find_invalid_utf8(out)) {
    Error e(ErrorKind::source, fmt::format("{}:{}:{}: not valid UTF-8", label, bad->line, bad->column));
    e.at(SourcePosition{label, bad->line, bad->column, 0});
    throw e;
  }
  return out;
}

// Runs one declared file as a migration would run: split for the engine,
// in one transaction unless its directives say no-transaction, errors at
// file:line:column.
void run_declared_file(Connection& c, const fs::path& path, const std::string& label) {
  std::string text = read_text(path, label);
  sql::Script script = parse_or_throw(label, text, c.engine());
  if (script.directives.no_transaction) {
    run_statements(c, label, script);
    return;
  }
  Transaction t(c);
  run_statements(c, label, script);
  t.commit();
}

void load_declared(const SchemaSource& source, Connection& c) {
  std::error_code ec;
  if (!fs::is_directory(source.path, ec)) {
    run_declared_file(c, source.path, source.label);
    return;
  }
  std::vector<std::string> names;
  for (fs::directory_iterator it(source.path, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (hidden(name) || !it->is_regular_file(type_ec)) continue;
    DeclaredName d = declared_name(name);
    if (!d.sql || (d.engine && *d.engine != c.engine())) continue;
    names.push_back(std::move(name));
  }
  if (ec) throw Error(ErrorKind::io, "cannot list " + source.label + ": " + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) run_declared_file(c, source.path / name, (source.path / name).string());
}

void load_migrations(const SchemaSource& source, DevDatabase::Scratch& scratch, const LoadOptions& options) {
  Connection& c = scratch.connection();
  MigrationSet set = load_directory(source.path, c.engine());
  MigratorOptions m;
  m.history.table = options.history_table;
  if (c.engine() == Engine::postgres) m.history.schema = scratch.schema();
  m.on_warning = options.on_warning;
  Migrator migrator(c, set, m);
  UpOptions up;
  up.target = options.target;
  migrator.up(up);
}

void load_synapse(const SchemaSource& source, Connection& c, const LoadOptions& options) {
  std::vector<std::string> logical = source.logical;
  if (logical.empty()) logical = synapse_logical_databases(source.layout.root);
  SynapseOptions s;
  s.skip_code_deltas = options.skip_code_deltas;
  s.on_warning = options.on_warning;
  SynapseMigrator migrator(c, source.layout, logical, s);
  migrator.up();
}

// Counts the PostgreSQL dev scratch schemas this process made, so two in a
// row never share a name.
std::atomic<unsigned> scratch_counter{0};

// What a PostgreSQL dev database holds besides strata's throwaway schemas:
// up to five objects, "kind name" each.
std::vector<std::string> dev_database_objects(Connection& c) {
  static constexpr const char* query = R"SQL(
SELECT kind || ' ' || name FROM (
  SELECT 'schema' AS kind, nspname::text AS name FROM pg_namespace
   WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%'
     AND nspname NOT LIKE 'strata\_dev\_%'
  UNION ALL
  SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                        WHEN 'i' THEN 'index' ELSE 'table' END, 'public.' || c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
  UNION ALL
  SELECT 'type', 'public.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = 'public' AND t.typrelid = 0 AND t.typcategory <> 'A'
  UNION ALL
  SELECT 'function', 'public.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'public'
) AS objects ORDER BY 1 LIMIT 5)SQL";
  std::vector<std::string> out;
  for (const auto& row : c.fetch(query)) out.push_back(row[0].as<std::string>());
  return out;
}

// Every object of the dev database outside strata's own throwaway schemas,
// as "kind\tDROP target" (quoted, qualified), sorted: what a scratch must
// leave as it found it.
std::vector<std::string> dev_database_snapshot(Connection& c) {
  static constexpr const char* query = R"SQL(
SELECT kind || E'\t' || name FROM (
  SELECT 'SCHEMA' AS kind, quote_ident(nspname) AS name FROM pg_namespace
   WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%'
     AND nspname NOT LIKE 'strata\_dev\_%'
  UNION ALL
  SELECT 'EXTENSION', quote_ident(extname) FROM pg_extension
  UNION ALL
  SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
         'public.' || quote_ident(c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'TYPE', 'public.' || quote_ident(t.typname) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = 'public' AND t.typrelid = 0 AND t.typcategory <> 'A'
  UNION ALL
  SELECT CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
         p.oid::regprocedure::text
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
) AS objects ORDER BY 1)SQL";
  std::vector<std::string> out;
  for (const auto& row : c.fetch(query)) out.push_back(row[0].as<std::string>());
  std::sort(out.begin(), out.end());  // byte order, for set_difference (the server's collation may differ)
  return out;
}

}  // namespace

SchemaSource parse_source(std::string_view text) {
  if (text.empty()) throw Error(ErrorKind::usage, "an empty schema source: give a database URL, a directory or a file");
  if (looks_like_url(text)) return SchemaSource::database(std::string(text));
  fs::path path{std::string(text)};
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw Error(ErrorKind::source, std::string(text) +
                                       ": no such file or directory (a schema source is a database URL, a "
                                       "migrations directory, or a .sql file or directory)");
  }
  if (fs::is_directory(status) && has_versioned_file(path)) return SchemaSource::migrations(path);
  return SchemaSource::declared(path);
}

Engine comparison_engine(std::span<const SchemaSource> sources, std::string_view database_url,
                         std::string_view dev_url) {
  std::optional<Engine> engine;
  std::string first;
  auto take = [&](Engine e, const std::string& label) {
    if (!engine) {
      engine = e;
      first = label;
    } else if (*engine != e) {
      throw Error(ErrorKind::usage, fmt::format("{} is {} but {} is {}: a comparison runs on one engine", first,
                                                to_string(*engine), label, to_string(e)));
    }
  };
  if (!database_url.empty()) {
    DatabaseUrl url = DatabaseUrl::parse(database_url);
    take(url.engine, url.redacted());
  }
  for (const auto& s : sources) {
    if (s.kind == SourceKind::database) take(DatabaseUrl::parse(s.url).engine, s.label);
  }
  if (!dev_url.empty()) {
    DatabaseUrl url = DatabaseUrl::parse(dev_url);
    take(url.engine, "the dev database " + url.redacted());
  }
  return engine.value_or(Engine::sqlite);
}

DevDatabase::DevDatabase(Engine engine, std::string_view url) : engine_(engine) {
  if (url.empty()) {
    label_ = engine == Engine::sqlite ? "sqlite::memory:" : "";
    return;
  }
  DatabaseUrl parsed = DatabaseUrl::parse(url);
  if (parsed.engine != engine) {
    throw Error(ErrorKind::usage, fmt::format("the dev database {} is {}, but the comparison runs on {}",
                                              parsed.redacted(), to_string(parsed.engine), to_string(engine)));
  }
  if (engine == Engine::sqlite) {
    if (!parsed.is_memory()) {
      throw Error(ErrorKind::usage, "the SQLite dev database is always in memory: use --dev-url sqlite::memory: "
                                    "(or leave it out), not " + parsed.redacted());
    }
    label_ = "sqlite::memory:";
    return;
  }
  label_ = parsed.redacted();
  connection_ = connect(parsed);
  auto objects = dev_database_objects(*connection_);
  if (!objects.empty()) {
    std::string list;
    for (const auto& o : objects) list += (list.empty() ? "" : ", ") + o;
    throw Error(ErrorKind::usage,
                fmt::format("the dev database {} is not empty ({}{}): strata loads schemas there in throwaway "
                            "schemas and never drops objects it did not create; give an empty database",
                            label_, list, objects.size() == 5 ? ", ..." : ""));
  }
}

DevDatabase::~DevDatabase() = default;

DevDatabase::Scratch DevDatabase::scratch() {
  if (engine_ == Engine::sqlite) return Scratch(this, connect("sqlite::memory:"), nullptr, "main");
  if (!connection_) {
    throw Error(ErrorKind::usage,
                "loading a schema from files on PostgreSQL needs a dev database: pass --dev-url with the URL of an "
                "empty database (or set STRATA_DEV_URL); strata creates and drops a throwaway schema in it");
  }
  if (scratch_alive_) throw Error(ErrorKind::usage, "one PostgreSQL dev scratch at a time");
  Connection& c = *connection_;
  std::string name;
  for (int attempt = 0;; ++attempt) {
    name = fmt::format("strata_dev_{}_{}", static_cast<long>(::getpid()), scratch_counter++);
    try {
      c.execute("CREATE SCHEMA " + Connection::quote_identifier(name));
      break;
    } catch (const Error& e) {
      // 42P06 duplicate_schema: left behind by a process that had our pid.
      if (e.engine_code() != "42P06" || attempt >= 100) throw;
    }
  }
  Scratch s(this, nullptr, &c, name);
  s.before_ = dev_database_snapshot(c);
  c.execute("SET search_path TO " + Connection::quote_identifier(name));
  return s;
}

DevDatabase::Scratch::Scratch(DevDatabase* owner, std::unique_ptr<Connection> own, Connection* shared,
                              std::string schema)
    : owner_(owner), own_(std::move(own)), connection_(own_ ? own_.get() : shared), schema_(std::move(schema)) {
  if (!own_) owner_->scratch_alive_ = true;
}

DevDatabase::Scratch::Scratch(Scratch&& other) noexcept
    : owner_(other.owner_), own_(std::move(other.own_)), connection_(other.connection_),
      schema_(std::move(other.schema_)), before_(std::move(other.before_)) {
  other.owner_ = nullptr;
  other.connection_ = nullptr;
}

DevDatabase::Scratch::~Scratch() {
  if (owner_ == nullptr || own_ || connection_ == nullptr) return;
  owner_->scratch_alive_ = false;
  try {
    if (connection_->in_transaction()) connection_->execute("ROLLBACK");
    connection_->execute("DROP SCHEMA IF EXISTS " + Connection::quote_identifier(schema_) + " CASCADE");
    connection_->execute("SET search_path TO DEFAULT");
    // What the loaded files made elsewhere: schemas first (CASCADE takes
    // their contents), then extensions, then single objects in public. An
    // object a CASCADE already took is skipped (IF EXISTS).
    std::vector<std::string> after = dev_database_snapshot(*connection_);
    std::vector<std::string> created;
    std::set_difference(after.begin(), after.end(), before_.begin(), before_.end(), std::back_inserter(created));
    std::stable_sort(created.begin(), created.end(), [](const std::string& a, const std::string& b) {
      auto rank = [](const std::string& k) { return k.rfind("SCHEMA\t", 0) == 0 ? 0 : k.rfind("EXTENSION\t", 0) == 0 ? 1 : 2; };
      return rank(a) < rank(b);
    });
    for (const std::string& o : created) {
      const auto tab = o.find('\t');
      try {
        connection_->execute("DROP " + o.substr(0, tab) + " IF EXISTS " + o.substr(tab + 1) + " CASCADE");
      } catch (const Error&) {  // e.g. a function dropped with its extension: keep going
      }
    }
  } catch (...) {
    // A destructor never throws; the schema is strata_dev_* and may be
    // dropped by hand (docs/schema.md).
  }
}

Schema DevDatabase::Scratch::inspect(InspectOptions options) {
  options.schema = schema_;
  return schema::inspect(*connection_, options);
}

std::vector<std::string> synapse_state_tables() {
  return {"schema_version", "schema_compat_version", "applied_schema_deltas"};
}

void load_into(const SchemaSource& source, DevDatabase::Scratch& scratch, const LoadOptions& options) {
  try {
    switch (source.kind) {
      case SourceKind::database:
        throw Error(ErrorKind::usage, "a database is inspected, not loaded: " + source.label);
      case SourceKind::migrations:
        load_migrations(source, scratch, options);
        return;
      case SourceKind::declared:
        load_declared(source, scratch.connection());
        return;
      case SourceKind::synapse:
        load_synapse(source, scratch.connection(), options);
        return;
    }
  } catch (Error& e) {
    e.context(fmt::format("loading {} ({}) on the dev database", source.label, to_string(source.kind)));
    throw;
  }
}

Schema load_schema(const SchemaSource& source, DevDatabase& dev, const LoadOptions& options) {
  InspectOptions inspect_options = options.inspect;
  if (source.kind == SourceKind::database) {
    DatabaseUrl url = DatabaseUrl::parse(source.url);
    if (url.engine != dev.engine()) {
      throw Error(ErrorKind::usage, fmt::format("{} is {}, but the comparison runs on {}", source.label,
                                                to_string(url.engine), to_string(dev.engine())));
    }
    std::error_code ec;
    if (url.engine == Engine::sqlite && !url.is_memory() && !fs::exists(url.sqlite_path, ec)) {
      // connect() would create it; a source is read, never written.
      throw Error(ErrorKind::source, source.label + ": no such SQLite database file");
    }
    try {
      ConnectOptions read_only;
      read_only.read_only = true;
      auto connection = connect(url, read_only);
      return inspect(*connection, inspect_options);
    } catch (Error& e) {
      e.context("reading " + source.label);
      throw;
    }
  }
  DevDatabase::Scratch scratch = dev.scratch();
  load_into(source, scratch, options);
  if (source.kind == SourceKind::migrations) inspect_options.exclude_tables.push_back(options.history_table);
  return scratch.inspect(inspect_options);
}

}  // namespace strata::schema
