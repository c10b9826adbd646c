// strata database create | drop | wait: what dbmate and sqlx-cli users
// expect around a migration run (a container's entrypoint waits for the
// server, CI creates and drops a database per job).
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {
namespace fs = std::filesystem;

struct DatabaseCommand {
  CommonOptions common;
  double timeout_s = 60;
};

// A postgres:// URL split at its path: the database name (percent-decoded)
// and the same URL naming another database. key=value conninfo strings get
// dbname appended (libpq takes the last one).
struct PostgresTarget {
  std::string name;
  std::string maintenance_url;  // the same server, database "postgres"
};

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

PostgresTarget postgres_target(const DatabaseUrl& url) {
  const std::string& t = url.text;
  const auto scheme = t.find("://");
  if (scheme == std::string::npos) {
    // conninfo: dbname=... somewhere; the maintenance connection overrides it.
    const auto at = t.find("dbname=");
    if (at == std::string::npos) throw Error(ErrorKind::usage, "the URL names no database (dbname=...)");
    std::string name = t.substr(at + 7, t.find(' ', at) == std::string::npos ? std::string::npos : t.find(' ', at) - at - 7);
    if (name.size() >= 2 && name.front() == '\'' && name.back() == '\'') name = name.substr(1, name.size() - 2);
    return {name, t + " dbname=postgres"};
  }
  const auto authority_end = t.find_first_of("/?", scheme + 3);
  std::string path, query;
  if (authority_end != std::string::npos && t[authority_end] == '/') {
    const auto q = t.find('?', authority_end);
    path = t.substr(authority_end + 1, q == std::string::npos ? std::string::npos : q - authority_end - 1);
    if (q != std::string::npos) query = t.substr(q);
  } else if (authority_end != std::string::npos) {
    query = t.substr(authority_end);
  }
  std::string name = percent_decode(path);
  if (name.empty()) throw Error(ErrorKind::usage, "the URL " + url.redacted() + " names no database (…/DBNAME)");
  const std::string base = t.substr(0, authority_end == std::string::npos ? t.size() : authority_end);
  return {name, base + "/postgres" + query};
}

bool database_exists(Connection& maintenance, const std::string& name) {
  return maintenance.fetch_value<bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", {name});
}

void run_create(DatabaseCommand& cmd) {
  apply_config(cmd.common);
  const DatabaseUrl url = database_url(cmd.common);
  if (url.engine == Engine::sqlite) {
    const bool existed = url.is_memory() || fs::exists(url.sqlite_path);
    connect(url);  // creates the file, 0600, in WAL mode
    fmt::print("{} {}\n", existed ? "Exists:" : "Created", url.redacted());
    return;
  }
  const PostgresTarget target = postgres_target(url);
  auto c = connect(target.maintenance_url);
  if (database_exists(*c, target.name)) {
    fmt::print("Exists: {}\n", url.redacted());
    return;
  }
  c->execute("CREATE DATABASE " + Connection::quote_identifier(target.name));
  fmt::print("Created {}\n", url.redacted());
}

void run_drop(DatabaseCommand& cmd) {
  apply_config(cmd.common);
  const DatabaseUrl url = database_url(cmd.common);
  if (url.engine == Engine::sqlite) {
    if (url.is_memory()) return;
    bool removed = false;
    for (const char* suffix : {"", "-wal", "-shm", "-journal", ".strata-lock"}) {
      std::error_code ec;
      removed = fs::remove(url.sqlite_path + suffix, ec) || removed;
    }
    fmt::print("{} {}\n", removed ? "Dropped" : "Absent:", url.redacted());
    return;
  }
  const PostgresTarget target = postgres_target(url);
  auto c = connect(target.maintenance_url);
  if (!database_exists(*c, target.name)) {
    fmt::print("Absent: {}\n", url.redacted());
    return;
  }
  c->execute("DROP DATABASE " + Connection::quote_identifier(target.name));
  fmt::print("Dropped {}\n", url.redacted());
}

void run_wait(DatabaseCommand& cmd) {
  apply_config(cmd.common);
  const DatabaseUrl url = database_url(cmd.common);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(cmd.timeout_s);
  ConnectOptions options;
  options.connect_timeout = std::chrono::milliseconds(2000);
  options.read_only = url.engine == Engine::sqlite;  // waiting never creates a SQLite file
  auto delay = std::chrono::milliseconds(100);
  for (int attempt = 1;; ++attempt) {
    try {
      auto c = connect(url, options);
      c->fetch_value<std::int64_t>("SELECT 1");
      fmt::print("Ready: {} (after {} attempt{})\n", url.redacted(), attempt, attempt == 1 ? "" : "s");
      return;
    } catch (Error& e) {
      if (e.kind() != ErrorKind::connection) throw;
      if (std::chrono::steady_clock::now() + delay > deadline) {
        e.context(fmt::format("waited {} s ({} attempts) for {}", cmd.timeout_s, attempt, url.redacted()));
        throw;
      }
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace

void setup_database(CLI::App& app) {
  CLI::App* db = app.add_subcommand("database", "Create, drop or wait for the database named by -d / $DATABASE_URL");
  db->require_subcommand(1);
  auto add = [&](const char* name, const char* help, void (*run)(DatabaseCommand&)) {
    auto cmd = std::make_shared<DatabaseCommand>();
    CLI::App* sub = db->add_subcommand(name, help);
    add_common_options(*sub, cmd->common);
    if (std::string(name) == "wait") {
      sub->add_option("--timeout", cmd->timeout_s, "Seconds to keep trying")->capture_default_str()->check(
          CLI::NonNegativeNumber);
    }
    sub->callback([cmd, run] { run(*cmd); });
  };
  add("create", "Create the database if it does not exist (PostgreSQL: CREATE DATABASE on the server's "
                "'postgres' database; SQLite: the file, 0600)", run_create);
  add("drop", "Drop the database if it exists (SQLite: the file and its -wal/-shm/lock files)", run_drop);
  add("wait", "Wait until the database accepts connections (exit 5 after --timeout)", run_wait);
}

}  // namespace strata::cli
