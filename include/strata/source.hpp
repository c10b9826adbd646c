// strata/source.hpp: reading migrations from a directory of versioned files.
//
// File names (VERSION is an integer: sequential "0001" or a UTC timestamp
// "20250410120000"; the description is letters, digits, '_', '-'):
//   <VERSION>_<description>.sql              runs on both engines
//   <VERSION>_<description>.up.sql / .down.sql   a reversible pair
//   <VERSION>_<description>.sqlite.sql / .postgres.sql   engine variants
//   <VERSION>_<description>.sql.sqlite / .sql.postgres    Synapse's spelling
//   (engine and direction combine: 0003_x.up.postgres.sql, 0003_x.down.sql.sqlite)
// For one version, an engine variant wins over the generic file on its engine;
// the generic file serves the other engine. Two files claiming the same
// version for one engine (with different descriptions, or the same file
// spelled twice) are an error naming both. Files that do not end in .sql,
// .sql.sqlite or .sql.postgres (README.md, .gitkeep, editor backups) and
// hidden files are ignored; a .sql file whose name does not match is an error.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/migration.hpp"
#include "strata/url.hpp"

namespace strata {

enum class Direction { up, down };

struct FileName {
  Version version = 0;
  std::string version_text;  // as written, with leading zeros
  std::string description;   // as written, underscores kept
  Direction direction = Direction::up;
  bool explicit_direction = false;  // .up/.down was present
  std::optional<Engine> engine;     // nullopt = both engines
};

// Parses a migration file name. Returns nullopt for names that are not
// migration files at all (no .sql-like extension). Returns an error string in
// `error` (and nullopt) for a .sql file whose name is malformed.
std::optional<FileName> parse_file_name(std::string_view name, std::string* error);

// How a directory's files are named and read.
//   strata:  the scheme above.
//   mautrix: mautrix-go's upgrade directories (go.mau.fi/util/dbutil), with
//            its rules: every *.sql file is a migration whatever its name
//            ("00-latest.sql", "07-add-thing.sql"), and its first line says
//            what it is:
//              -- vN: description                      version N, after N-1
//              -- vN (compatible with vM+): description  ... compat floor M
//              -- vA -> vB: description                 a shortcut (jumps())
//            A file without such a header is an error. A second line
//            "-- transaction: on | off | sqlite-fkey-off" sets how it runs
//            (off: its own BEGIN/COMMIT; sqlite-fkey-off: a transaction with
//            foreign keys off on SQLite). "NAME.postgres.sql" and
//            "NAME.sqlite.sql" are one migration in two dialects: both must
//            exist and carry the same header. Versions a header skips are
//            skipped; two files from one version are an error. Without
//            "(compatible with ...)" a migration's compatibility floor is its
//            own version, as mautrix-go records it. No down files.
enum class SourceLayout { strata, mautrix };

// How a source's files form the revision graph (strata/graph.hpp). A file
// may name its parents ("-- strata: parents V1 V2", "parents base" for a
// root), dependencies ("-- strata: depends-on V"), a branch label and an
// Alembic revision in its opening comment lines; without "parents" its
// parent is the previous version. (The mautrix layout is a line.)
struct SourceOptions {
  // graph = "explicit" (Alembic's model): every file must name its parents.
  bool explicit_graph = false;
  SourceLayout layout = SourceLayout::strata;
  // A directory for the stat cache (empty: none). A file unchanged since
  // the cache saw it (same device, inode, size, mtime and ctime, and not
  // modified within a second of the cache being written: git's racy rule)
  // is not read: its checksum and header come from the cache, and its text
  // waits until up_sql() asks for it. The cache file is created 0600 (its
  // directory 0700) and ignored when it cannot be read or written. strata's
  // CLI uses $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else
  // ~/.cache/strata; STRATA_CACHE_DIR set empty turns it off. Not for the
  // mautrix layout, whose headers are its versions.
  std::filesystem::path cache_dir;
};

// Loads every migration for `engine` from `dir`. Throws Error{ErrorKind::source}
// listing every problem found (not just the first) when the directory is
// missing, unreadable or holds no migration for `engine`, a file is
// unreadable or not valid UTF-8, a name is malformed, versions collide, or a
// .down file has no .up, a directive is malformed, a parent or dependency
// is not in the source, or parents form a cycle.
MigrationSet load_directory(const std::filesystem::path& dir, Engine engine, const SourceOptions& options = {});

// One file of a migrations directory, held in memory. The views must outlive
// the call that reads them (generated code keeps them in static storage).
struct SourceFile {
  std::string_view name;      // the file name within the directory
  std::string_view contents;  // its bytes, as on disk
};

// A migrations directory compiled into the program by the CMake function
// strata_embed_migrations (cmake/StrataEmbed.cmake), which generates
//   const strata::EmbeddedMigrations& NAME();
// in the header "NAME.hpp" on the target's include path.
struct EmbeddedMigrations {
  std::string_view directory;         // the directory as embedded, relative to the project
  std::span<const SourceFile> files;  // its non-hidden regular files, sorted by name
};

// Loads every migration for `engine` from embedded files, with exactly
// load_directory's rules and messages: paths read "<directory>/<file name>",
// as they would from the directory itself.
MigrationSet load_embedded(const EmbeddedMigrations& embedded, Engine engine, const SourceOptions& options = {});

// The text of m's down migration. load_directory() leaves Migration::down_sql
// empty and reads a down file only when a revert asks for it (a no-op `up`
// never opens the down files): this reads down_path then (checking UTF-8;
// Error{source} when it cannot be read). Embedded and code migrations
// already hold theirs.
std::string down_sql(const Migration& m);

// The text of m's up script: Migration::sql, read first from its file when
// the loader deferred it (SourceOptions::cache_dir). Throws Error{source}
// when the file cannot be read, is not valid UTF-8, or no longer has the
// checksum it was loaded with (edited while strata ran).
const std::string& up_sql(const Migration& m);

}  // namespace strata
