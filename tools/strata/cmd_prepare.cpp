// strata prepare: prepares every named query of a query directory against the
// schema the migrations produce, records what the engine says in
// .strata/queries.json and writes typed C++ from it (docs/queries.md).
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common.hpp"
#include "exit_codes.hpp"
#include "strata/error.hpp"
#include "strata/query.hpp"
#include "strata/source.hpp"

namespace strata::cli {
namespace {

namespace fs = std::filesystem;

struct PrepareCommand {
  std::string queries = "queries";
  std::string source = "migrations";
  std::string database_url;
  std::string dev_url;
  std::string output = ".strata/queries.json";
  std::string cpp_out;  // default: the directory of `output`
  std::string name = "queries";
  std::string namespace_name = "queries";
  bool check = false;
  bool generate = false;
  bool json = false;  // errors as JSON on stdout (main), success as {"queries", "output"}
};

std::string read_file(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    throw Error(ErrorKind::io, fmt::format("cannot read {} {}{}", what, path.string(),
                                           fs::exists(path) ? "" : ": run `strata prepare` first"));
  }
  return buffer.str();
}

// Writes only when the content differs, so a build does not recompile
// generated code that did not change.
void write_file(const fs::path& path, const std::string& content, bool always = false) {
  std::error_code ec;
  if (!always && fs::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream old;
    old << in.rdbuf();
    if (in && old.str() == content) return;
  }
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw Error(ErrorKind::io, "cannot write " + path.string());
}

fs::path cpp_dir(const PrepareCommand& cmd) {
  if (!cmd.cpp_out.empty()) return cmd.cpp_out;
  fs::path parent = fs::path(cmd.output).parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// --generate always writes (a build rule's outputs must be newer than its
// input); prepare writes only what changed.
void write_cpp(const PrepareCommand& cmd, const PreparedSet& set) {
  GeneratedCode code = generate_cpp(set, {cmd.namespace_name, cmd.name + ".hpp"});
  fs::path dir = cpp_dir(cmd);
  write_file(dir / (cmd.name + ".hpp"), code.header, cmd.generate);
  write_file(dir / (cmd.name + ".cpp"), code.source, cmd.generate);
}

[[noreturn]] void fail_check(const std::vector<std::string>& problems, const std::string& output) {
  std::string message = fmt::format("{} does not match the queries ({} problem{}):", output, problems.size(),
                                    problems.size() == 1 ? "" : "s");
  for (const auto& p : problems) message += "\n  " + p;
  message += "\nRun `strata prepare` and commit " + output + ".";
  throw ExitFailure(ExitCode::prepare_mismatch, "prepare_mismatch", message);
}

// A schema created for this run on the --dev-url PostgreSQL database, with
// search_path pointing at it; dropped (with everything in it) on the way out.
class ScratchSchema {
 public:
  explicit ScratchSchema(Connection& c) : c_(c) {
    std::random_device random;
    name_ = fmt::format("strata_prepare_{:08x}{:08x}", random(), random());
    c_.execute("CREATE SCHEMA " + Connection::quote_identifier(name_));
    created_ = true;
    c_.execute("SET search_path TO " + Connection::quote_identifier(name_));
  }
  ~ScratchSchema() {
    if (!created_) return;
    try {
      c_.execute("RESET search_path");
      c_.execute("DROP SCHEMA " + Connection::quote_identifier(name_) + " CASCADE");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: could not drop the scratch schema %s: %s\n", name_.c_str(), e.what());
    }
  }
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;
  const std::string& name() const { return name_; }

 private:
  Connection& c_;
  std::string name_;
  bool created_ = false;
};

void check_offline(const PrepareCommand& cmd) {
  PreparedSet recorded = prepared_set_from_json(read_file(cmd.output, "the prepared queries"), cmd.output);
  std::vector<Query> queries = load_queries(cmd.queries, recorded.engine);
  MigrationSet migrations = load_directory(cmd.source, recorded.engine);
  std::vector<std::string> problems;
  if (migration_fingerprint(migrations) != recorded.migrations) {
    problems.push_back("the migrations in " + cmd.source + " changed since the last prepare");
  }
  std::map<std::string, const PreparedQuery*> before;
  for (const auto& q : recorded.queries) before[q.name] = &q;
  for (const auto& q : queries) {
    const std::string where = fmt::format("{}:{}:{}", q.file, q.line, q.column);
    auto it = before.find(q.name);
    if (it == before.end()) {
      problems.push_back("query " + q.name + " (" + where + ") is new since the last prepare");
      continue;
    }
    if (it->second->sha384 != checksum(q.sql)) {
      problems.push_back("query " + q.name + " (" + where + "): its text changed since the last prepare");
    }
    before.erase(it);
  }
  for (const auto& [name, q] : before) {
    problems.push_back("query " + name + " (" + q->file + ") was removed since the last prepare");
  }
  if (!problems.empty()) fail_check(problems, cmd.output);
  if (cmd.json) return print_json({{"checked", queries.size()}, {"output", cmd.output}, {"database", false}});
  fmt::print("{} {} match {} (checked without a database)\n", queries.size(),
             queries.size() == 1 ? "query and the migrations" : "queries and the migrations", cmd.output);
}

void run_prepare(const PrepareCommand& cmd) {
  if (cmd.generate) {
    PreparedSet set = prepared_set_from_json(read_file(cmd.output, "the prepared queries"), cmd.output);
    write_cpp(cmd, set);
    return;
  }
  if (!cmd.database_url.empty() && !cmd.dev_url.empty()) {
    throw Error(ErrorKind::usage, "give either -d/--database-url (a database at head) or --dev-url (a scratch one), not both");
  }
  if (cmd.check && cmd.database_url.empty() && cmd.dev_url.empty()) return check_offline(cmd);

  // The database to prepare on: one at head (-d), or a scratch one migrated here.
  const bool scratch = cmd.database_url.empty();
  DatabaseUrl url = DatabaseUrl::parse(scratch ? (cmd.dev_url.empty() ? "sqlite::memory:" : cmd.dev_url) : cmd.database_url);
  if (scratch && url.engine == Engine::sqlite && !url.is_memory()) {
    throw Error(ErrorKind::usage, "--dev-url on SQLite must be sqlite::memory: (strata migrates it from scratch)");
  }
  auto connection = connect(url);
  const Engine engine = connection->engine();
  MigrationSet migrations = load_directory(cmd.source, engine);
  std::vector<Query> queries = load_queries(cmd.queries, engine);

  std::optional<ScratchSchema> schema;
  if (scratch) {
    MigratorOptions options;
    if (engine == Engine::postgres) {
      schema.emplace(*connection);
      options.history.schema = schema->name();
    }
    options.on_warning = [](std::string_view w) { std::fprintf(stderr, "warning: %.*s\n", static_cast<int>(w.size()), w.data()); };
    Migrator migrator(*connection, migrations, options);
    try {
      migrator.up();
    } catch (Error& e) {
      e.context("migrating the scratch database");
      throw;
    }
  }

  PreparedSet current;
  current.engine = engine;
  current.migrations = migration_fingerprint(migrations);
  std::vector<std::string> failures;
  for (const auto& q : queries) {
    try {
      current.queries.push_back(prepare_query(*connection, q));
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::connection) throw;
      failures.push_back(e.what());
    }
  }
  std::sort(current.queries.begin(), current.queries.end(),
            [](const PreparedQuery& a, const PreparedQuery& b) { return a.name < b.name; });
  schema.reset();

  if (cmd.check) {
    PreparedSet recorded = prepared_set_from_json(read_file(cmd.output, "the prepared queries"), cmd.output);
    std::vector<std::string> problems = failures;
    for (auto& d : compare(recorded, current)) problems.push_back(std::move(d));
    if (!problems.empty()) fail_check(problems, cmd.output);
    if (cmd.json) return print_json({{"checked", current.queries.size()}, {"output", cmd.output}, {"database", true}});
    fmt::print("{} queries match {} (re-prepared on {})\n", current.queries.size(), cmd.output, connection->redacted_url());
    return;
  }
  if (!failures.empty()) {
    std::string message = fmt::format("{} of {} queries did not prepare:", failures.size(), queries.size());
    for (const auto& f : failures) message += "\n" + f;
    throw Error(ErrorKind::sql, message);
  }
  write_file(cmd.output, to_json(current));
  write_cpp(cmd, current);
  fs::path dir = cpp_dir(cmd);
  if (cmd.json) {
    return print_json({{"prepared", current.queries.size()},
                       {"engine", to_string(engine)},
                       {"output", cmd.output},
                       {"header", (dir / (cmd.name + ".hpp")).string()},
                       {"source", (dir / (cmd.name + ".cpp")).string()}});
  }
  fmt::print("Prepared {} {} on {}: wrote {}, {}, {}\n", current.queries.size(),
             current.queries.size() == 1 ? "query" : "queries", connection->redacted_url(),
             cmd.output, (dir / (cmd.name + ".hpp")).string(), (dir / (cmd.name + ".cpp")).string());
}

}  // namespace

void setup_prepare(CLI::App& app) {
  auto cmd = std::make_shared<PrepareCommand>();
  CLI::App* sub = app.add_subcommand(
      "prepare", "Prepare the named queries against the migrated schema; record their types and generate C++");
  sub->add_option("--queries", cmd->queries, "Directory of query files (*.sql with \"-- name: Name :kind\")")
      ->capture_default_str();
  sub->add_option("-s,--source", cmd->source, "Directory of migration files")->capture_default_str();
  sub->add_option("-d,--database-url", cmd->database_url,
                  "Prepare on this database, already at head (no migrating; $DATABASE_URL is not read)");
  sub->add_option("--dev-url", cmd->dev_url,
                  "Migrate a scratch database here: a throwaway schema on PostgreSQL (created and dropped), "
                  "sqlite::memory: on SQLite (the default without -d)");
  sub->add_option("--output", cmd->output, "The prepared-queries file to write or check")->capture_default_str();
  sub->add_option("--cpp-out", cmd->cpp_out, "Directory for the generated header and source (default: --output's)");
  sub->add_option("--name", cmd->name, "Base name of the generated files (NAME.hpp, NAME.cpp)")->capture_default_str();
  sub->add_option("--namespace", cmd->namespace_name, "C++ namespace of the generated code")->capture_default_str();
  sub->add_flag("--check", cmd->check,
                "Compare instead of writing: without a database, query texts and migrations against the file; "
                "with -d or --dev-url, everything the engine reports (exit 16 on any difference)");
  sub->add_flag("--generate", cmd->generate,
                "Only write the C++ from the prepared-queries file (no database, no query files)");
  sub->add_flag("--json", cmd->json, "Print machine-readable JSON on stdout (errors too)");
  sub->footer(
      "Examples:\n"
      "  strata prepare                                   # SQLite in memory, migrated from ./migrations\n"
      "  strata prepare --dev-url postgres://app@localhost/app_dev\n"
      "  strata prepare --check                           # CI without a database\n"
      "  strata prepare --check --dev-url sqlite::memory: # CI with one\n"
      "  strata prepare --generate --output .strata/queries.json --cpp-out build/gen");
  sub->callback([cmd] { run_prepare(*cmd); });
}

}  // namespace strata::cli
