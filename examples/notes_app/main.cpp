// notes_app: a tiny notes service that carries its migrations inside its
// binary (examples/notes/migrations, embedded by strata_embed_migrations).
//
//   notes_app [-d URL] [--no-migrate] [add USER TITLE [BODY] | list]
//
// At start-up it brings the database up to date, unless --no-migrate says
// that some other process (a deploy step, `strata up`) owns the schema: then
// it only checks, and refuses to start on a database that is behind, naming
// the pending migrations and how to apply them. The URL defaults to
// $DATABASE_URL.
//
// Exit codes: 0 ok, 1 a database or migration error, 2 bad arguments,
// 3 --no-migrate and the database is behind.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "notes_migrations.hpp"  // generated: the embedded migrations
#include "strata/error.hpp"
#include "strata/migrator.hpp"
#include "strata/pool.hpp"
#include "strata/source.hpp"

namespace {

constexpr int exit_error = 1;
constexpr int exit_usage = 2;
constexpr int exit_behind = 3;

struct Options {
  std::string url;
  bool migrate = true;
  std::vector<std::string> command;
};

int usage(const char* why) {
  std::cerr << "notes_app: " << why << "\n"
            << "usage: notes_app [-d URL] [--no-migrate] [add USER TITLE [BODY] | list]\n";
  return exit_usage;
}

// Applies pending migrations; or, with --no-migrate, returns false when any
// are pending, after saying which and how to apply them.
bool prepare_schema(strata::Pool& pool, const strata::MigrationSet& migrations, const Options& options) {
  auto connection = pool.acquire();
  strata::Migrator migrator(*connection, migrations);
  if (options.migrate) {
    strata::UpOptions up;
    up.on_applied = [](const strata::AppliedStep& step) {
      std::cout << "notes_app: applied " << step.version << " " << step.description << "\n";
    };
    migrator.up(up);
    return true;
  }
  migrator.validate().throw_if_failed();  // changed or missing migrations
  auto pending = migrator.plan();
  if (pending.empty()) return true;
  std::cerr << "notes_app: the database is behind this build: " << pending.size() << " pending migration"
            << (pending.size() == 1 ? "" : "s") << ":\n";
  for (const strata::Migration* m : pending) {
    std::cerr << "  " << m->version << " " << m->description << "  (" << m->path << ")\n";
  }
  std::cerr << "Apply them with\n"
            << "  strata up -d " << pool.redacted_url() << " -s " << notes_migrations().directory
            << "    (from the source tree)\n"
            << "or start notes_app without --no-migrate.\n";
  return false;
}

void add_note(strata::Pool& pool, const std::string& user, const std::string& title, const std::string& body) {
  auto c = pool.acquire();
  auto tx = c.transaction();
  c.execute("INSERT INTO users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", {user});
  auto user_id = c.fetch_value<std::int64_t>("SELECT id FROM users WHERE name = $1", {user});
  auto id = c.fetch_value<std::int64_t>(
      "INSERT INTO notes (user_id, title, body) VALUES ($1, $2, $3) RETURNING id", {user_id, title, body});
  tx.commit();
  std::cout << "note " << id << "\n";
}

void list_notes(strata::Pool& pool) {
  for (const strata::Row& row : pool.fetch(
           "SELECT n.id, u.name, n.title, n.body FROM notes n JOIN users u ON u.id = n.user_id ORDER BY n.id")) {
    std::cout << row.get<std::int64_t>(0) << "\t" << row.get<std::string>(1) << "\t" << row.get<std::string>(2)
              << "\t" << row.get<std::string>(3) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const char* env = std::getenv("DATABASE_URL")) options.url = env;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-d" || arg == "--database-url") {
      if (++i == argc) return usage("-d needs a URL");
      options.url = argv[i];
    } else if (arg == "--no-migrate") {
      options.migrate = false;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << "usage: notes_app [-d URL] [--no-migrate] [add USER TITLE [BODY] | list]\n";
      return 0;
    } else {
      options.command.assign(argv + i, argv + argc);
      break;
    }
  }
  if (options.url.empty()) return usage("no database: pass -d URL or set DATABASE_URL");
  const auto& cmd = options.command;
  bool add = !cmd.empty() && cmd[0] == "add" && (cmd.size() == 3 || cmd.size() == 4);
  bool list = cmd.size() == 1 && cmd[0] == "list";
  if (!cmd.empty() && !add && !list) return usage("unknown command");

  try {
    strata::PoolOptions pool_options;
    pool_options.max_connections = 4;
    strata::Pool pool(options.url, pool_options);
    // The same rules as a directory on disk: engine variants, .up/.down pairs.
    strata::MigrationSet migrations = strata::load_embedded(notes_migrations(), pool.engine());
    if (!prepare_schema(pool, migrations, options)) return exit_behind;
    if (add) add_note(pool, cmd[1], cmd[2], cmd.size() == 4 ? cmd[3] : "");
    if (list) list_notes(pool);
    if (cmd.empty()) {
      std::cout << "notes_app: ready at version " << migrations.latest() << " with "
                << pool.fetch_value<std::int64_t>("SELECT COUNT(*) FROM notes") << " notes\n";
    }
  } catch (const strata::Error& e) {
    std::cerr << "notes_app: " << e.what() << "\n";
    return exit_error;
  }
  return 0;
}
