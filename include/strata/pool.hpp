// strata/pool.hpp: a thread-safe pool of connections to one database.
//
//   strata::Pool pool("postgresql://app@localhost/app", {.max_connections = 4});
//   auto n = pool.fetch_value<std::int64_t>("SELECT count(*) FROM notes WHERE owner = $1", {42});
//   {
//     auto c = pool.acquire();             // a lease: the connection is ours
//     auto tx = c.transaction();           // BEGIN
//     c->execute("INSERT INTO notes(owner, body) VALUES ($1, $2)", {42, "hi"});
//     tx.commit();
//   }                                      // the connection goes back
//
// Ownership. The pool owns its connections. acquire() lends one out as a
// PooledConnection (a lease), which has it to itself until the lease is
// destroyed or release()d; the connection then goes back to the pool, or is
// closed (see "Returning"). A lease keeps the pool's shared state alive, so
// it may outlive the Pool object: its connection is then closed on return.
//
// Thread-safety. Every member of Pool may be called from any number of
// threads at once. A PooledConnection (and the Connection it lends) is for
// one thread at a time; it may be moved to another thread. Destroying a Pool
// while another thread is inside one of its members is undefined.
//
// Connections are opened lazily: the constructor only parses the URL (throws
// Error{ErrorKind::config}) and checks the options (Error{ErrorKind::usage}
// for max_connections == 0). acquire() hands out an idle connection, opens a
// new one while fewer than max_connections exist (throwing the driver's
// Error{ErrorKind::connection} if that fails), or waits for one to come back,
// for at most acquire_timeout; then it throws Error{ErrorKind::connection}
// ("timed out after N ms waiting for a connection ..."). Waiters are served
// as connections come back, not strictly first-come-first-served. Idle
// connections stay open until the pool is destroyed or close_idle() is called.
//
// Returning. When a lease ends, on_release (if set) runs first, on the
// lease's thread; then the connection is put back for reuse, unless
//   - on_acquire or on_release threw (the exception propagates from acquire();
//     from a lease's destructor it is swallowed, from release() rethrown),
//   - it is still inside a transaction (a Transaction outlived the lease, or a
//     raw BEGIN was left open): its work is discarded with the connection,
//   - discard() was called on the lease,
// in which case it is closed and its slot freed for a new connection.
//
// In-memory SQLite ("sqlite::memory:") is private to one connection, so a
// pool over it holds at most one connection (max_connections is clamped to
// 1): every lease sees the same database, one lease at a time. The database
// lives as long as that connection: it is lost when the connection is closed
// (discarded as above, close_idle(), or the pool destroyed).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "strata/connection.hpp"
#include "strata/transaction.hpp"
#include "strata/url.hpp"
#include "strata/value.hpp"

namespace strata {

struct PoolOptions {
  // The most connections open at once (leased plus idle). 1 for sqlite::memory:.
  std::size_t max_connections = 10;
  // How long acquire() waits for a connection when all are leased.
  std::chrono::milliseconds acquire_timeout{30000};
  // Handed to connect() for every new connection.
  ConnectOptions connect;
  // Run on every lease: on_acquire before acquire() returns it, on_release
  // when it ends, before the connection goes back (e.g. set and reset a
  // PostgreSQL search_path). Called without the pool's lock held, so they may
  // take their time, but must not acquire from the same pool. A hook that
  // throws gets the connection discarded (see the file comment).
  std::function<void(Connection&)> on_acquire;
  std::function<void(Connection&)> on_release;
};

namespace detail {
struct PoolState;
}

// A lease on one pooled connection: movable, not copyable. A default-
// constructed or moved-from lease is empty (operator bool is false); using
// an empty lease's connection throws Error{ErrorKind::usage}.
class PooledConnection {
 public:
  PooledConnection() noexcept;
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&& other) noexcept;
  // Returns the connection (see "Returning"). Never throws.
  ~PooledConnection();

  explicit operator bool() const noexcept { return connection_ != nullptr; }
  Connection& connection() const;
  Connection& operator*() const { return connection(); }
  Connection* operator->() const { return &connection(); }

  // Returns the connection now; the lease becomes empty. Rethrows what
  // on_release threw (the connection is discarded all the same).
  void release();
  // Closes the connection instead of reusing it when the lease ends. The
  // pool cannot tell that the server dropped a connection, so call this
  // after an Error{ErrorKind::connection}, or after anything that may have
  // left session state behind (a SET the next user must not inherit).
  void discard() noexcept { discard_ = true; }

  // A transaction scope guard on this connection (nested ones become
  // savepoints). REQUIRES: the Transaction ends before the lease does.
  [[nodiscard]] Transaction transaction() { return Transaction(connection()); }

  // Connection's convenience members, on the leased connection.
  ResultSet query(std::string_view sql, std::span<const Value> params = {}) {
    return connection().query(sql, params);
  }
  ResultSet query(std::string_view sql, std::initializer_list<Value> params) {
    return connection().query(sql, params);
  }
  std::int64_t execute(std::string_view sql, std::span<const Value> params = {}) {
    return connection().execute(sql, params);
  }
  std::int64_t execute(std::string_view sql, std::initializer_list<Value> params) {
    return connection().execute(sql, params);
  }
  std::vector<Row> fetch(std::string_view sql, std::span<const Value> params = {}) {
    return connection().fetch(sql, params);
  }
  std::vector<Row> fetch(std::string_view sql, std::initializer_list<Value> params) {
    return connection().fetch(sql, params);
  }
  std::optional<Row> fetch_one(std::string_view sql, std::span<const Value> params = {}) {
    return connection().fetch_one(sql, params);
  }
  std::optional<Row> fetch_one(std::string_view sql, std::initializer_list<Value> params) {
    return connection().fetch_one(sql, params);
  }
  Value fetch_value(std::string_view sql, std::span<const Value> params = {}) {
    return connection().fetch_value(sql, params);
  }
  Value fetch_value(std::string_view sql, std::initializer_list<Value> params) {
    return connection().fetch_value(sql, params);
  }
  template <class T>
  T fetch_value(std::string_view sql, std::span<const Value> params = {}) {
    return connection().fetch_value<T>(sql, params);
  }
  template <class T>
  T fetch_value(std::string_view sql, std::initializer_list<Value> params) {
    return connection().fetch_value<T>(sql, params);
  }

 private:
  friend class Pool;
  PooledConnection(std::shared_ptr<detail::PoolState> state, std::unique_ptr<Connection> connection) noexcept;
  void give_back(bool rethrow);

  std::shared_ptr<detail::PoolState> state_;
  std::unique_ptr<Connection> connection_;
  bool discard_ = false;
};

class Pool {
 public:
  explicit Pool(std::string_view url, PoolOptions options = {});
  explicit Pool(const DatabaseUrl& url, PoolOptions options = {});
  // Closes idle connections; leases still out close theirs when they end.
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Waits for a connection for at most options.acquire_timeout (or `timeout`).
  PooledConnection acquire();
  PooledConnection acquire(std::chrono::milliseconds timeout);

  Engine engine() const noexcept;
  // The URL with its password hidden.
  const std::string& redacted_url() const noexcept;
  // The effective cap (1 for sqlite::memory:).
  std::size_t max_connections() const noexcept;
  // Connections open now (leased plus idle), and those idle.
  std::size_t size() const;
  std::size_t idle() const;
  // Closes every idle connection; returns how many were closed.
  std::size_t close_idle();

  // One statement on a connection leased for just that call (autocommit).
  std::int64_t execute(std::string_view sql, std::span<const Value> params = {}) {
    return acquire().execute(sql, params);
  }
  std::int64_t execute(std::string_view sql, std::initializer_list<Value> params) {
    return acquire().execute(sql, params);
  }
  std::vector<Row> fetch(std::string_view sql, std::span<const Value> params = {}) {
    return acquire().fetch(sql, params);
  }
  std::vector<Row> fetch(std::string_view sql, std::initializer_list<Value> params) {
    return acquire().fetch(sql, params);
  }
  std::optional<Row> fetch_one(std::string_view sql, std::span<const Value> params = {}) {
    return acquire().fetch_one(sql, params);
  }
  std::optional<Row> fetch_one(std::string_view sql, std::initializer_list<Value> params) {
    return acquire().fetch_one(sql, params);
  }
  Value fetch_value(std::string_view sql, std::span<const Value> params = {}) {
    return acquire().fetch_value(sql, params);
  }
  Value fetch_value(std::string_view sql, std::initializer_list<Value> params) {
    return acquire().fetch_value(sql, params);
  }
  template <class T>
  T fetch_value(std::string_view sql, std::span<const Value> params = {}) {
    return acquire().fetch_value<T>(sql, params);
  }
  template <class T>
  T fetch_value(std::string_view sql, std::initializer_list<Value> params) {
    return acquire().fetch_value<T>(sql, params);
  }

 private:
  std::shared_ptr<detail::PoolState> state_;
};

}  // namespace strata
