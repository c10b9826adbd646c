#include "strata/pool.hpp"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>

#include "strata/error.hpp"

namespace strata {

namespace detail {

// Shared by the Pool and its leases, so a lease may outlive the Pool.
struct PoolState {
  DatabaseUrl url;
  std::string redacted_url;
  PoolOptions options;
  std::size_t max_connections = 0;

  std::mutex mutex;
  std::condition_variable returned;  // an idle connection or a free slot appeared
  // Guarded by mutex:
  std::vector<std::unique_ptr<Connection>> idle;
  std::size_t open = 0;  // leased + idle + being opened
  bool closed = false;   // the Pool object is gone

  // Takes a connection back (or closes it) and wakes a waiter.
  void put_back(std::unique_ptr<Connection> connection, bool reuse) noexcept {
    std::unique_ptr<Connection> to_close;
    {
      std::lock_guard lock(mutex);
      if (reuse && !closed) {
        idle.push_back(std::move(connection));
      } else {
        to_close = std::move(connection);
        --open;
      }
    }
    returned.notify_one();
    // to_close is destroyed here, outside the lock (closing may block on I/O).
  }
};

}  // namespace detail

namespace {

std::size_t effective_max(const DatabaseUrl& url, const PoolOptions& options) {
  if (options.max_connections == 0) {
    throw Error(ErrorKind::usage, "PoolOptions::max_connections must be at least 1");
  }
  return url.is_memory() ? 1 : options.max_connections;
}

}  // namespace

// ---------------------------------------------------------------- lease

PooledConnection::PooledConnection() noexcept = default;

PooledConnection::PooledConnection(std::shared_ptr<detail::PoolState> state,
                                   std::unique_ptr<Connection> connection) noexcept
    : state_(std::move(state)), connection_(std::move(connection)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : state_(std::move(other.state_)), connection_(std::move(other.connection_)), discard_(other.discard_) {
  other.discard_ = false;
}

PooledConnection& PooledConnection::operator=(PooledConnection&& other) noexcept {
  if (this != &other) {
    give_back(false);
    state_ = std::move(other.state_);
    connection_ = std::move(other.connection_);
    discard_ = other.discard_;
    other.discard_ = false;
  }
  return *this;
}

PooledConnection::~PooledConnection() { give_back(false); }

Connection& PooledConnection::connection() const {
  if (!connection_) throw Error(ErrorKind::usage, "PooledConnection: the lease is empty (moved from or released)");
  return *connection_;
}

void PooledConnection::release() { give_back(true); }

void PooledConnection::give_back(bool rethrow) {
  if (!connection_) return;
  auto state = std::move(state_);
  auto connection = std::move(connection_);
  bool reuse = !discard_;
  discard_ = false;
  std::exception_ptr failure;
  if (state->options.on_release) {
    try {
      state->options.on_release(*connection);
    } catch (...) {
      failure = std::current_exception();
      reuse = false;
    }
  }
  if (connection->transaction_depth() != 0 || connection->in_transaction()) reuse = false;
  state->put_back(std::move(connection), reuse);
  if (failure && rethrow) std::rethrow_exception(failure);
}

// ---------------------------------------------------------------- pool

Pool::Pool(std::string_view url, PoolOptions options) : Pool(DatabaseUrl::parse(url), std::move(options)) {}

Pool::Pool(const DatabaseUrl& url, PoolOptions options) : state_(std::make_shared<detail::PoolState>()) {
  state_->max_connections = effective_max(url, options);
  state_->url = url;
  state_->redacted_url = url.redacted();
  state_->options = std::move(options);
}

Pool::~Pool() {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
    idle.swap(state_->idle);
    state_->open -= idle.size();
  }
  // idle closes here, outside the lock.
}

PooledConnection Pool::acquire() { return acquire(state_->options.acquire_timeout); }

PooledConnection Pool::acquire(std::chrono::milliseconds timeout) {
  auto& s = *state_;
  std::unique_ptr<Connection> connection;
  {
    std::unique_lock lock(s.mutex);
    bool ready = s.returned.wait_for(lock, timeout, [&] { return !s.idle.empty() || s.open < s.max_connections; });
    if (!ready) {
      throw Error(ErrorKind::connection,
                  "timed out after " + std::to_string(timeout.count()) + " ms waiting for a connection to " +
                      s.redacted_url + " from the pool (all " + std::to_string(s.max_connections) +
                      " in use)");
    }
    if (!s.idle.empty()) {
      connection = std::move(s.idle.back());
      s.idle.pop_back();
    } else {
      ++s.open;  // reserve the slot; connect outside the lock
    }
  }
  if (!connection) {
    try {
      connection = connect(s.url, s.options.connect);
    } catch (...) {
      {
        std::lock_guard lock(s.mutex);
        --s.open;
      }
      s.returned.notify_one();
      throw;
    }
  }
  if (s.options.on_acquire) {
    try {
      s.options.on_acquire(*connection);
    } catch (...) {
      s.put_back(std::move(connection), false);
      throw;
    }
  }
  return PooledConnection(state_, std::move(connection));
}

Engine Pool::engine() const noexcept { return state_->url.engine; }
const std::string& Pool::redacted_url() const noexcept { return state_->redacted_url; }
std::size_t Pool::max_connections() const noexcept { return state_->max_connections; }

std::size_t Pool::size() const {
  std::lock_guard lock(state_->mutex);
  return state_->open;
}

std::size_t Pool::idle() const {
  std::lock_guard lock(state_->mutex);
  return state_->idle.size();
}

std::size_t Pool::close_idle() {
  std::vector<std::unique_ptr<Connection>> idle;
  {
    std::lock_guard lock(state_->mutex);
    idle.swap(state_->idle);
    state_->open -= idle.size();
  }
  state_->returned.notify_all();
  return idle.size();
}

}  // namespace strata
