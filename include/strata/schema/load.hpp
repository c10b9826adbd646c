// strata/schema/load.hpp: where a schema comes from, and the dev database
// that turns files into a schema.
//
// Everything that compares schemas (strata diff, strata drift, strata new
// --autogenerate) reads both sides through load_schema():
//   - a database URL is inspected as it is (read-only: nothing is written);
//   - a migrations directory (strata's versioned files) is replayed with the
//     Migrator on a scratch database and inspected there;
//   - a declared schema (one .sql file, or a directory of plain .sql files
//     run in name order) is run on a scratch database with the migration
//     script runner, so an error names file:line:column as a migration's
//     does, and inspected there;
//   - a Synapse layout is replayed with the SynapseMigrator on a scratch
//     database and inspected there.
// So both sides of a comparison come from the same reader on the same engine
// (Atlas's dev database), and their text compares exactly.
//
// The scratch database (DevDatabase):
//   - SQLite: a private in-memory database per load; nothing touches disk.
//   - PostgreSQL (the --dev-url database): strata creates a throwaway schema
//     strata_dev_<pid>_<n> in it, sets search_path to that schema alone,
//     loads, inspects that schema, and drops it (CASCADE) when the load ends:
//     only what it created. A dev database holding anything else (an object
//     in public, or any other non-system schema but strata's throwaway ones)
//     is refused before anything is created, because strata never drops
//     objects it did not create. Statements that name another schema
//     explicitly (public.t) would still reach it: the dev database is a
//     scratch database, never a live one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"
#include "strata/schema/inspect.hpp"
#include "strata/schema/model.hpp"
#include "strata/synapse.hpp"
#include "strata/url.hpp"

namespace strata {
class Connection;
}

namespace strata::schema {

enum class SourceKind {
  database,    // a database URL
  migrations,  // a directory of strata's versioned migration files
  declared,    // a .sql file or a directory of plain .sql files: the desired schema
  synapse,     // a Synapse-style tree (strata.toml with [layout] kind = "synapse")
};

// "database", "migrations", "declared", "synapse".
const char* to_string(SourceKind kind) noexcept;

struct SchemaSource {
  SourceKind kind = SourceKind::declared;
  // For messages: the redacted URL, or the path as given.
  std::string label;
  // database: the URL as given (it may hold a password: print label instead).
  std::string url;
  // migrations: the directory. declared: the file or the directory.
  std::filesystem::path path;
  // synapse: the tree and the logical databases replayed together on the
  // scratch database (empty: every logical database of the tree).
  SynapseLayout layout;
  std::vector<std::string> logical;

  static SchemaSource database(std::string url);
  static SchemaSource migrations(std::filesystem::path dir);
  static SchemaSource declared(std::filesystem::path file_or_dir);
  static SchemaSource synapse(SynapseLayout layout, std::vector<std::string> logical = {});
};

// Classifies a source as the command line gives it:
//   - a URL (it starts with "sqlite:", "postgres://" or "postgresql://", or
//     is a libpq "key=value" conninfo string) is a database;
//   - a regular file is a declared schema, whatever its extension;
//   - a directory holding at least one file with a versioned migration name
//     (0001_x.sql, 20250410120000_x.up.sql, ...) is a migrations directory;
//     load_directory then reports any other .sql file in it as misnamed;
//   - any other directory is a declared schema: its .sql files (and those of
//     the comparison's engine: x.sqlite.sql, x.sql.postgres, ...) run in
//     byte order of their names; other files, hidden files and
//     subdirectories are ignored; a directory without any is the empty
//     schema.
// A strata.toml is resolved by the CLI (it reads the config), not here: this
// call classifies it as a declared file.
// Throws Error{ErrorKind::source} for a path that does not exist and
// Error{ErrorKind::config} for a malformed URL.
SchemaSource parse_source(std::string_view text);

// The engine of a comparison: that of its database sources and of
// `database_url` (drift's -d; empty when none), which must agree; else that
// of `dev_url`; else SQLite. A dev URL of another engine than the database
// sources is an error too. Throws Error{ErrorKind::usage} naming the
// disagreeing sources (redacted).
Engine comparison_engine(std::span<const SchemaSource> sources, std::string_view database_url,
                         std::string_view dev_url);

// The scratch database non-URL sources are loaded on. Not thread-safe.
class DevDatabase {
 public:
  // `url`: "" or "sqlite::memory:" for SQLite in memory; a PostgreSQL URL for
  // throwaway schemas in that database. `engine` is the comparison's: a dev
  // URL of another engine, a SQLite file (the SQLite dev database is always
  // in memory) or PostgreSQL without a dev URL are Error{ErrorKind::usage}.
  // A PostgreSQL dev database that is not empty is refused with
  // Error{ErrorKind::usage} naming what it holds; nothing is connected for
  // SQLite until a scratch is made.
  DevDatabase(Engine engine, std::string_view url);
  ~DevDatabase();
  DevDatabase(const DevDatabase&) = delete;
  DevDatabase& operator=(const DevDatabase&) = delete;

  Engine engine() const noexcept { return engine_; }
  // "sqlite::memory:" or the dev URL, redacted.
  const std::string& label() const noexcept { return label_; }

  // An empty database to load one schema into, gone when the Scratch dies.
  // SQLite: a fresh in-memory connection. PostgreSQL: a fresh schema on the
  // dev connection, with search_path set to it alone; the destructor drops
  // it (CASCADE) and resets search_path. What the loaded files created
  // outside it goes too: schemas of their own (CREATE SCHEMA apalis),
  // objects they put in public by name, extensions; the dev database is
  // left as the scratch found it.
  // REQUIRES (PostgreSQL): no other Scratch of this DevDatabase is alive
  // (they share the dev connection); Error{ErrorKind::usage} otherwise.
  class Scratch {
   public:
    ~Scratch();
    Scratch(Scratch&& other) noexcept;
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    Scratch& operator=(Scratch&&) = delete;

    Connection& connection() noexcept { return *connection_; }
    // The schema to inspect and to keep history in: "main" on SQLite.
    const std::string& schema() const noexcept { return schema_; }
    // inspect() of this scratch: `options` with its schema set to schema().
    Schema inspect(InspectOptions options = {});

   private:
    friend class DevDatabase;
    Scratch(DevDatabase* owner, std::unique_ptr<Connection> own, Connection* shared, std::string schema);
    DevDatabase* owner_ = nullptr;
    std::unique_ptr<Connection> own_;  // SQLite
    Connection* connection_ = nullptr;
    std::string schema_;
    std::vector<std::string> before_;  // PostgreSQL: "kind\tquoted name" of what existed outside schema_
  };
  Scratch scratch();

 private:
  Engine engine_;
  std::string label_;
  std::unique_ptr<Connection> connection_;  // PostgreSQL
  bool scratch_alive_ = false;
};

struct LoadOptions {
  // What inspect() reads and leaves out. For a database source, `schema` is
  // the PostgreSQL schema to read (default public); for the others it is
  // replaced by the scratch's. exclude_tables applies to every source.
  InspectOptions inspect;
  // Migrations: the history table the replay records in (left out of the
  // result with the rest of strata's tables).
  std::string history_table = "strata_migrations";
  // Migrations: stop at this version (drift compares a database with what
  // its applied migrations produce).
  std::optional<Version> target;
  // Synapse: skip code deltas (.py) that have no registered step.
  bool skip_code_deltas = false;
  // Warnings (skipped code deltas, ...); nothing is printed when unset.
  std::function<void(std::string_view)> on_warning;
};

// Synapse's own bookkeeping tables (schema_version, schema_compat_version,
// applied_schema_deltas), left out of a comparison that involves a Synapse
// tree, as strata's tables are.
std::vector<std::string> synapse_state_tables();

// The schema `source` describes. A database source is connected to and
// inspected, never written; the others are loaded on a fresh scratch of
// `dev` and inspected there. A database source of another engine than
// `dev` is Error{ErrorKind::usage}. Load errors keep their kind and file
// position (a declared file that fails names file:line:column), with
// "loading <label>" in front.
Schema load_schema(const SchemaSource& source, DevDatabase& dev, const LoadOptions& options = {});

// Loads `source` into `scratch` (a database source is not accepted here).
// For callers that keep working on the loaded database (tests, benchmarks).
void load_into(const SchemaSource& source, DevDatabase::Scratch& scratch, const LoadOptions& options = {});

}  // namespace strata::schema
