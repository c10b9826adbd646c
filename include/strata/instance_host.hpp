// strata/instance_host.hpp: a database of its own for every plugin instance.
//
//   strata::InstanceHost host("/var/lib/bots/db");      // SQLite: a directory
//   // or  strata::InstanceHost host("postgresql://bots@db/bots");  // a schema each
//   strata::Instance bot = host.start("echo-1", echo_upgrade_table.migrations());
//   bot.execute("INSERT INTO messages(body) VALUES ($1)", {"hi"});
//   { auto c = bot.acquire(); auto tx = c.transaction(); c->execute(...); tx.commit(); }
//   host.remove("echo-1");
//
// Storage. An instance id is 1-48 ASCII letters, digits, '_' and '-'
// (validate_instance_id); ids are case-sensitive. Every id that reaches SQL
// or a path has passed that check, and is quoted in SQL besides.
//   SQLite:     one file per instance, <directory>/<id>.db (created 0600; the
//               directory 0700 if the host creates it), with its own history
//               table. Ids differing only in case collide on a
//               case-insensitive file system.
//   PostgreSQL: one schema per instance in one shared database, named
//               <schema_prefix><id> (so "inst_My-Bot", quoted), holding the
//               instance's tables and its history table
//               (MigratorOptions.history.schema). The role needs CREATE on
//               the database. A schema is a namespace, not a wall: SQL that
//               names another schema explicitly can reach it. Use roles and
//               grants where instances do not trust each other.
//
// Connections. Every connection lent for an instance (Instance::acquire) has,
// on PostgreSQL, search_path set to exactly that instance's quoted schema
// (pg_catalog is still searched implicitly; public is not), and reset
// (RESET search_path, the session default) when the lease ends; a connection
// whose reset fails is closed rather than reused.
//   PostgreSQL: one shared Pool of at most max_connections for the whole
//               host, and at most max_connections_per_instance of them lent
//               to one instance at a time. So the host never holds more than
//               max_connections server connections however many instances it
//               runs (50 instances each with a pool of their own would need
//               50 x cap, more than a default server's max_connections of
//               100), and one busy instance cannot take them all.
//   SQLite:     a Pool per instance of at most max_connections_per_instance
//               connections to its file, closed when the instance's last
//               handle and lease are gone (or it is removed);
//               max_connections is not used.
//
// Migrations. start() runs the instance's MigrationSet (typically an
// UpgradeTable's) with strata::Migrator, on one of the instance's own
// connections, before it returns the instance. Each instance has its own
// history, so instances of one plugin may be at different versions.
// Concurrent start() calls for one id in this process are serialised (the
// first migrates, the others find nothing pending); other processes are kept
// out by the migration lock (strata/migrator.hpp), which is per instance
// (per history table on PostgreSQL, per file on SQLite). Different ids start
// in parallel.
//
// Ownership and thread-safety. An Instance is a cheap, copyable handle; the
// copies share one instance. InstanceHost and Instance may be used from any
// number of threads at once. An InstanceConnection (a lease) is for one
// thread at a time, like the PooledConnection it wraps. Instances and leases
// keep what they need alive (the pool included), so they may outlive the
// host. Destroying the host while another thread is inside one of its
// members is undefined.
//
// Failure. Every failure throws strata::Error: an invalid id is
// Error{ErrorKind::usage}; a migration failure is the Migrator's error, with
// the instance id added as context; storage problems are Error{ErrorKind::io}
// (SQLite) or the engine's Error (PostgreSQL).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/connection.hpp"
#include "strata/migration.hpp"
#include "strata/migrator.hpp"
#include "strata/pool.hpp"
#include "strata/transaction.hpp"
#include "strata/url.hpp"
#include "strata/value.hpp"

namespace strata {

// Whether `id` is 1-48 bytes of ASCII letters, digits, '_' and '-'.
bool is_valid_instance_id(std::string_view id) noexcept;
// Throws Error{ErrorKind::usage} naming the rule unless is_valid_instance_id.
void validate_instance_id(std::string_view id);

struct InstanceHostOptions {
  // PostgreSQL: an instance's schema is schema_prefix + id. 1-15 bytes of
  // ASCII letters, digits and '_', not starting with a digit (so that
  // prefix + a 48-byte id fits PostgreSQL's 63-byte names), else
  // Error{ErrorKind::usage} from the host's constructor. Unused on SQLite.
  std::string schema_prefix = "inst_";
  // PostgreSQL: the shared pool's size, the most server connections the
  // host opens. Unused on SQLite.
  std::size_t max_connections = 10;
  // The most connections lent to one instance at once (both engines).
  // REQUIRES: at least 1, and at most max_connections on PostgreSQL.
  std::size_t max_connections_per_instance = 2;
  // How long acquire() waits for a connection (per-instance cap and pool
  // together), and how long remove() waits for an instance's leases.
  std::chrono::milliseconds acquire_timeout{30000};
  ConnectOptions connect;
  // For every instance's Migrator. history.table is used as given;
  // history.schema is replaced by the instance's schema.
  MigratorOptions migrator;
};

struct StartOptions {
  // Migrate up to this version instead of the set's newest.
  std::optional<Version> target;
  // Called after each migration commits.
  std::function<void(const AppliedStep&)> on_applied;
};

namespace detail {
struct InstanceState;
struct HostState;
}  // namespace detail

// A lease on one connection lent to one instance: movable, not copyable.
// While it lives, the connection is this thread's, it counts against the
// instance's cap, and (PostgreSQL) its search_path is the instance's schema.
// Destroying or release()ing it gives the connection back. A default-
// constructed or moved-from lease is empty; using its connection throws
// Error{ErrorKind::usage}.
class InstanceConnection {
 public:
  InstanceConnection() noexcept;
  InstanceConnection(InstanceConnection&& other) noexcept;
  InstanceConnection& operator=(InstanceConnection&& other) noexcept;
  // Gives the connection back. Never throws.
  ~InstanceConnection();

  explicit operator bool() const noexcept { return static_cast<bool>(lease_); }
  Connection& connection() const { return lease_.connection(); }
  Connection& operator*() const { return connection(); }
  Connection* operator->() const { return &connection(); }
  // A transaction scope guard (nested ones become savepoints).
  // REQUIRES: the Transaction ends before the lease does.
  [[nodiscard]] Transaction transaction() { return Transaction(connection()); }

  // Gives the connection back now; the lease becomes empty. Rethrows a
  // failure to reset the connection (which is then closed all the same).
  void release();
  // Closes the connection instead of reusing it when the lease ends.
  void discard() noexcept { lease_.discard(); }

 private:
  friend class Instance;
  InstanceConnection(std::shared_ptr<detail::InstanceState> state, PooledConnection lease) noexcept;

  // Declared first so it is destroyed last: the instance's state (and pool)
  // outlive the lease on its connection.
  std::shared_ptr<detail::InstanceState> state_;
  PooledConnection lease_;
};

// A handle on one started instance, from InstanceHost::start(). Copies share
// the instance. A default-constructed Instance is empty: every member but
// operator bool throws Error{ErrorKind::usage}.
class Instance {
 public:
  Instance() noexcept;
  ~Instance();
  Instance(const Instance&) noexcept;
  Instance& operator=(const Instance&) noexcept;
  Instance(Instance&&) noexcept;
  Instance& operator=(Instance&&) noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(state_); }
  const std::string& id() const;
  Engine engine() const;
  // PostgreSQL: the schema, unquoted ("inst_My-Bot"); empty on SQLite.
  const std::string& schema() const;
  // SQLite: the database file; empty on PostgreSQL.
  const std::filesystem::path& path() const;

  // Lends a connection, waiting up to the host's acquire_timeout for the
  // instance's cap and then the pool (Error{ErrorKind::connection} on
  // timeout, as Pool::acquire). Error{ErrorKind::usage} once the instance
  // was removed. A thread already holding max_connections_per_instance
  // leases of this instance that asks for another waits out the timeout.
  InstanceConnection acquire() const;

  // The newest successfully applied version in the instance's history; 0
  // when it has none.
  Version version() const;
  // Migrator::status against `migrations`, in the instance's history.
  StatusReport status(const MigrationSet& migrations) const;

  // One statement on a connection leased for just that call (autocommit).
  std::int64_t execute(std::string_view sql, std::span<const Value> params = {}) const {
    return acquire()->execute(sql, params);
  }
  std::int64_t execute(std::string_view sql, std::initializer_list<Value> params) const {
    return acquire()->execute(sql, params);
  }
  std::vector<Row> fetch(std::string_view sql, std::span<const Value> params = {}) const {
    return acquire()->fetch(sql, params);
  }
  std::vector<Row> fetch(std::string_view sql, std::initializer_list<Value> params) const {
    return acquire()->fetch(sql, params);
  }
  std::optional<Row> fetch_one(std::string_view sql, std::span<const Value> params = {}) const {
    return acquire()->fetch_one(sql, params);
  }
  std::optional<Row> fetch_one(std::string_view sql, std::initializer_list<Value> params) const {
    return acquire()->fetch_one(sql, params);
  }
  Value fetch_value(std::string_view sql, std::span<const Value> params = {}) const {
    return acquire()->fetch_value(sql, params);
  }
  Value fetch_value(std::string_view sql, std::initializer_list<Value> params) const {
    return acquire()->fetch_value(sql, params);
  }
  template <class T>
  T fetch_value(std::string_view sql, std::span<const Value> params = {}) const {
    return acquire()->template fetch_value<T>(sql, params);
  }
  template <class T>
  T fetch_value(std::string_view sql, std::initializer_list<Value> params) const {
    return acquire()->template fetch_value<T>(sql, params);
  }

 private:
  friend class InstanceHost;
  explicit Instance(std::shared_ptr<detail::InstanceState> state) noexcept;
  detail::InstanceState& state() const;

  std::shared_ptr<detail::InstanceState> state_;
};

class InstanceHost {
 public:
  // `location` is a PostgreSQL URL (postgres://, postgresql:// or a libpq
  // key=value string: one schema per instance in that database) or a
  // directory for SQLite files, written as a plain path or as
  // "sqlite:<path>" (created 0700, with its parents, when missing).
  // Connects to nothing yet (PostgreSQL connections open lazily).
  // Throws Error{ErrorKind::config} for a bad URL or sqlite::memory:,
  // Error{ErrorKind::usage} for bad options, Error{ErrorKind::io} when the
  // directory cannot be created or is not a directory.
  explicit InstanceHost(std::string_view location, InstanceHostOptions options = {});
  ~InstanceHost();
  InstanceHost(const InstanceHost&) = delete;
  InstanceHost& operator=(const InstanceHost&) = delete;

  Engine engine() const noexcept;

  // Opens instance `id` (creating its file or schema if missing), migrates
  // it with `migrations` (up to options.target) and returns a handle on it.
  // While any handle or lease on instance `id` lives, start() returns that
  // same instance, migrated again with the given set (which applies what the
  // set has that the instance lacks: an upgraded plugin). Calls for one id
  // are serialised; calls for different ids run in parallel.
  // REQUIRES: this thread holds none of the instance's leases (start() takes
  // one to migrate).
  Instance start(std::string_view id, const MigrationSet& migrations, const StartOptions& options = {});

  // Deletes instance `id`; returns whether it had a database. A live
  // instance stops lending connections (its acquire() throws
  // Error{ErrorKind::usage} from now on) and remove() waits for its leases
  // to come back: if some are still out after acquire_timeout it throws
  // Error{ErrorKind::lock_timeout}, deletes nothing and the instance lends
  // again. Then:
  //   PostgreSQL: DROP SCHEMA <schema> CASCADE.
  //   SQLite: its connections are closed and <id>.db with its -wal, -shm
  //           and -journal files move to
  //           <directory>/deleted/<id>.<UTC yyyymmddThhmmssZ>.db (+ "-wal"...),
  //           with "-2", "-3", ... after the stamp when that name is taken;
  //           the migration lock file <id>.db.strata-lock is removed.
  //           Nothing is unlinked: moving the files back restores it.
  // Only this process is coordinated: another process using the instance
  // sees its schema or file vanish.
  bool remove(std::string_view id);

  // Whether instance `id` has a database (file or schema).
  bool exists(std::string_view id);
  // Ids of every instance with a database, sorted. Files or schemas whose
  // names do not map back to a valid id are ignored.
  std::vector<std::string> list();

 private:
  std::unique_ptr<detail::HostState> state_;
};

}  // namespace strata
