#include "strata/instance_host.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "strata/error.hpp"
#include "strata/history.hpp"

namespace strata {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxIdLength = 48;
// PostgreSQL names are at most 63 bytes: a 15-byte prefix plus a 48-byte id.
constexpr std::size_t kMaxPrefixLength = 15;

// The files SQLite keeps beside a database, moved along with it on removal.
constexpr const char* kCompanionSuffixes[] = {"-wal", "-shm", "-journal"};

std::string io_message(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return fmt::format("cannot {} {}: {}", what, path.string(), ec.message());
}

std::chrono::milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// "20250410T120000Z", UTC.
std::string utc_stamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

}  // namespace

bool is_valid_instance_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

void validate_instance_id(std::string_view id) {
  if (!is_valid_instance_id(id)) {
    throw Error(ErrorKind::usage, fmt::format("invalid instance id '{}': use 1 to {} ASCII letters, digits, "
                                              "'_' and '-'",
                                              id, kMaxIdLength));
  }
}

namespace detail {

// One instance, shared by its handles and leases.
struct InstanceState {
  std::string id;
  Engine engine = Engine::sqlite;
  std::string schema;  // PostgreSQL
  fs::path path;       // SQLite
  std::size_t cap = 1;
  std::chrono::milliseconds acquire_timeout{0};
  MigratorOptions migrator;  // history.schema already set to `schema`

  std::mutex mutex;
  std::condition_variable changed;  // a lease came back, or closed/removed changed
  // Guarded by mutex:
  std::shared_ptr<Pool> pool;  // null once removed
  std::size_t in_use = 0;      // leases out, counted from before the pool's acquire
  bool closed = false;         // remove() is waiting for the leases to come back
  bool removed = false;

  void returned() noexcept {
    {
      std::lock_guard lock(mutex);
      --in_use;
    }
    changed.notify_all();
  }

  // Stops lending and waits for every lease. Throws Error{lock_timeout}
  // (lending again) when they stay out too long.
  void close_for_removal() {
    std::unique_lock lock(mutex);
    closed = true;
    bool drained = changed.wait_for(lock, acquire_timeout, [&] { return in_use == 0; });
    if (!drained) {
      std::size_t out = in_use;
      closed = false;
      lock.unlock();
      changed.notify_all();
      throw Error(ErrorKind::lock_timeout,
                  fmt::format("cannot remove instance '{}': {} of its connections still in use after {} ms; "
                              "release them first",
                              id, out, acquire_timeout.count()));
    }
    // SQLite: close its connections before its files move. The pool stays,
    // so lending can resume if the removal fails.
    if (engine == Engine::sqlite && pool) pool->close_idle();
  }

  void finish_removal(bool succeeded) noexcept {
    std::shared_ptr<Pool> dropped;
    {
      std::lock_guard lock(mutex);
      closed = false;
      if (succeeded) {
        removed = true;
        dropped = std::move(pool);
      }
    }
    changed.notify_all();
  }
};

struct HostState {
  struct Slot {
    std::mutex mutex;  // serialises start() and remove() of one id
    std::weak_ptr<InstanceState> instance;
  };

  Engine engine = Engine::sqlite;
  std::shared_ptr<Pool> shared_pool;  // PostgreSQL
  fs::path directory;                 // SQLite
  InstanceHostOptions options;

  std::mutex slots_mutex;
  std::map<std::string, std::shared_ptr<Slot>, std::less<>> slots;  // guarded by slots_mutex

  std::shared_ptr<Slot> slot(std::string_view id) {
    std::lock_guard lock(slots_mutex);
    auto it = slots.find(id);
    if (it == slots.end()) it = slots.emplace(std::string(id), std::make_shared<Slot>()).first;
    return it->second;
  }

  std::string schema_for(std::string_view id) const { return options.schema_prefix + std::string(id); }
  fs::path file_for(std::string_view id) const { return directory / (std::string(id) + ".db"); }

  bool schema_exists(Connection& c, const std::string& schema) {
    return c.fetch_one("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {schema}).has_value();
  }

  void ensure_schema(const std::string& schema) {
    auto c = shared_pool->acquire();
    if (schema_exists(*c, schema)) return;
    try {
      c->execute("CREATE SCHEMA " + Connection::quote_identifier(schema));
    } catch (const Error&) {
      // Another process created it between the check and here (a duplicate
      // schema or a unique violation on pg_namespace): that is success.
      if (!schema_exists(*c, schema)) throw;
    }
  }

  std::shared_ptr<InstanceState> make_instance(std::string_view id) {
    auto s = std::make_shared<InstanceState>();
    s->id = std::string(id);
    s->engine = engine;
    s->cap = options.max_connections_per_instance;
    s->acquire_timeout = options.acquire_timeout;
    s->migrator = options.migrator;
    if (engine == Engine::postgres) {
      s->schema = schema_for(id);
      s->migrator.history.schema = s->schema;
      ensure_schema(s->schema);
      s->pool = shared_pool;
    } else {
      s->path = file_for(id);
      DatabaseUrl url;
      url.engine = Engine::sqlite;
      url.sqlite_path = s->path.string();
      url.text = "sqlite:" + url.sqlite_path;
      PoolOptions po;
      po.max_connections = options.max_connections_per_instance;
      po.acquire_timeout = options.acquire_timeout;
      po.connect = options.connect;
      s->pool = std::make_shared<Pool>(url, std::move(po));
    }
    return s;
  }

  // SQLite: moves <id>.db and its companions into deleted/.
  bool remove_file(std::string_view id) {
    const fs::path db = file_for(id);
    std::error_code ec;
    std::vector<std::pair<fs::path, std::string>> present;  // (file, suffix after ".db")
    if (fs::exists(db, ec)) present.emplace_back(db, "");
    if (ec) throw Error(ErrorKind::io, io_message("read", db, ec));
    for (const char* suffix : kCompanionSuffixes) {
      fs::path p = db;
      p += suffix;
      if (fs::exists(p, ec)) present.emplace_back(p, suffix);
    }
    const bool existed = !present.empty() && present.front().second.empty();
    if (!present.empty()) {
      const fs::path trash = directory / "deleted";
      if (::mkdir(trash.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ErrorKind::io, io_message("create", trash, std::error_code(errno, std::generic_category())));
      }
      const std::string stamp = utc_stamp();
      fs::path base;
      for (int n = 1;; ++n) {
        base = trash / fmt::format("{}.{}{}.db", id, stamp, n == 1 ? "" : fmt::format("-{}", n));
        bool taken = fs::exists(base, ec);
        for (const char* suffix : kCompanionSuffixes) {
          fs::path p = base;
          p += suffix;
          taken = taken || fs::exists(p, ec);
        }
        if (!taken) break;
      }
      for (const auto& [from, suffix] : present) {
        fs::path to = base;
        to += suffix;
        fs::rename(from, to, ec);
        if (ec) throw Error(ErrorKind::io, io_message("move " + from.string() + " to", to, ec));
      }
    }
    fs::path lock = db;
    lock += ".strata-lock";
    fs::remove(lock, ec);  // only a lock file: failing to remove it harms nothing
    return existed;
  }

  bool drop_schema(std::string_view id) {
    const std::string schema = schema_for(id);
    auto c = shared_pool->acquire();
    if (!schema_exists(*c, schema)) return false;
    c->execute("DROP SCHEMA IF EXISTS " + Connection::quote_identifier(schema) + " CASCADE");
    return true;
  }
};

}  // namespace detail

// ---------------------------------------------------------------- InstanceConnection

InstanceConnection::InstanceConnection() noexcept = default;

InstanceConnection::InstanceConnection(std::shared_ptr<detail::InstanceState> state,
                                       PooledConnection lease) noexcept
    : state_(std::move(state)), lease_(std::move(lease)) {}

InstanceConnection::InstanceConnection(InstanceConnection&& other) noexcept
    : state_(std::move(other.state_)), lease_(std::move(other.lease_)) {}

InstanceConnection& InstanceConnection::operator=(InstanceConnection&& other) noexcept {
  if (this != &other) {
    InstanceConnection old(std::move(*this));  // gives ours back as it dies
    state_ = std::move(other.state_);
    lease_ = std::move(other.lease_);
  }
  return *this;
}

InstanceConnection::~InstanceConnection() {
  if (!state_) return;
  { PooledConnection gone = std::move(lease_); }  // back to the pool first (runs the reset)
  state_->returned();
}

void InstanceConnection::release() {
  if (!state_) return;
  auto state = std::move(state_);
  struct Returned {
    detail::InstanceState& s;
    ~Returned() { s.returned(); }
  } returned{*state};
  lease_.release();
}

// ---------------------------------------------------------------- Instance

Instance::Instance() noexcept = default;
Instance::~Instance() = default;
Instance::Instance(const Instance&) noexcept = default;
Instance& Instance::operator=(const Instance&) noexcept = default;
Instance::Instance(Instance&&) noexcept = default;
Instance& Instance::operator=(Instance&&) noexcept = default;
Instance::Instance(std::shared_ptr<detail::InstanceState> state) noexcept : state_(std::move(state)) {}

detail::InstanceState& Instance::state() const {
  if (!state_) throw Error(ErrorKind::usage, "use of an empty strata::Instance");
  return *state_;
}

const std::string& Instance::id() const { return state().id; }
Engine Instance::engine() const { return state().engine; }
const std::string& Instance::schema() const { return state().schema; }
const fs::path& Instance::path() const { return state().path; }

InstanceConnection Instance::acquire() const {
  detail::InstanceState& s = state();
  const auto deadline = Clock::now() + s.acquire_timeout;
  std::shared_ptr<Pool> pool;
  {
    std::unique_lock lock(s.mutex);
    bool ready = s.changed.wait_until(lock, deadline, [&] { return s.removed || (!s.closed && s.in_use < s.cap); });
    if (s.removed) throw Error(ErrorKind::usage, fmt::format("instance '{}' was removed", s.id));
    if (!ready) {
      throw Error(ErrorKind::connection,
                  fmt::format("timed out after {} ms waiting for a connection for instance '{}' "
                              "(all {} of its connections are in use)",
                              s.acquire_timeout.count(), s.id, s.cap));
    }
    ++s.in_use;
    pool = s.pool;
  }
  try {
    PooledConnection lease = pool->acquire(remaining(deadline));
    if (s.engine == Engine::postgres) {
      try {
        // A parameter, not SQL text: the quoted schema is the setting's value.
        lease->query("SELECT pg_catalog.set_config('search_path', $1, false)",
                     {Connection::quote_identifier(s.schema)});
      } catch (...) {
        lease.discard();
        throw;
      }
    }
    return InstanceConnection(state_, std::move(lease));
  } catch (...) {
    s.returned();
    throw;
  }
}

Version Instance::version() const {
  auto c = acquire();
  Version newest = 0;
  for (const auto& m : History(*c, state().migrator.history).read()) {
    if (m.success) newest = std::max(newest, m.version);
  }
  return newest;
}

StatusReport Instance::status(const MigrationSet& migrations) const {
  auto c = acquire();
  return Migrator(*c, migrations, state().migrator).status();
}

// ---------------------------------------------------------------- InstanceHost

InstanceHost::InstanceHost(std::string_view location, InstanceHostOptions options)
    : state_(std::make_unique<detail::HostState>()) {
  auto& h = *state_;
  if (options.max_connections_per_instance == 0) {
    throw Error(ErrorKind::usage, "InstanceHostOptions::max_connections_per_instance must be at least 1");
  }

  // A URL (sqlite:..., postgres://..., key=value) or a plain directory path.
  std::string_view trimmed = location;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) trimmed.remove_suffix(1);
  const auto first_word = trimmed.substr(0, trimmed.find_first_of(" \t"));
  const bool is_url = trimmed.find("://") != std::string_view::npos ||
                      first_word.find('=') != std::string_view::npos ||
                      (trimmed.size() >= 7 && std::equal(trimmed.begin(), trimmed.begin() + 7, "sqlite:",
                                                         [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }));
  if (!is_url) {
    h.engine = Engine::sqlite;
    h.directory = fs::path(std::string(trimmed));
  } else {
    std::string text(trimmed);
    // A directory may be written with a trailing '/', which a sqlite URL rejects.
    while (text.size() > 1 && text.back() == '/') text.pop_back();
    DatabaseUrl url = DatabaseUrl::parse(text);
    h.engine = url.engine;
    if (url.engine == Engine::sqlite) {
      if (url.is_memory()) {
        throw Error(ErrorKind::config, "an instance host needs a directory for its SQLite files, not sqlite::memory:");
      }
      h.directory = fs::path(url.sqlite_path);
    } else {
      if (options.max_connections == 0) {
        throw Error(ErrorKind::usage, "InstanceHostOptions::max_connections must be at least 1");
      }
      if (options.max_connections_per_instance > options.max_connections) {
        throw Error(ErrorKind::usage,
                    fmt::format("InstanceHostOptions::max_connections_per_instance ({}) must not exceed "
                                "max_connections ({})",
                                options.max_connections_per_instance, options.max_connections));
      }
      const std::string& prefix = options.schema_prefix;
      try {
        validate_identifier(prefix, "instance schema prefix");
      } catch (const Error& e) {
        throw Error(ErrorKind::usage, e.what());
      }
      if (prefix.size() > kMaxPrefixLength) {
        throw Error(ErrorKind::usage, fmt::format("instance schema prefix '{}' is longer than {} bytes", prefix,
                                                  kMaxPrefixLength));
      }
      PoolOptions po;
      po.max_connections = options.max_connections;
      po.acquire_timeout = options.acquire_timeout;
      po.connect = options.connect;
      // Every lease ends with the session's default search_path; a
      // connection that cannot reset (an aborted transaction, a lost
      // server) is closed by the pool instead of reused.
      po.on_release = [](Connection& c) { c.execute("RESET search_path"); };
      h.shared_pool = std::make_shared<Pool>(url, std::move(po));
    }
  }

  if (h.engine == Engine::sqlite) {
    if (h.directory.empty()) throw Error(ErrorKind::config, "an instance host needs a directory");
    std::error_code ec;
    if (!fs::exists(h.directory, ec)) {
      if (h.directory.has_parent_path()) fs::create_directories(h.directory.parent_path(), ec);
      if (ec) throw Error(ErrorKind::io, io_message("create", h.directory.parent_path(), ec));
      if (::mkdir(h.directory.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ErrorKind::io,
                    io_message("create", h.directory, std::error_code(errno, std::generic_category())));
      }
    }
    if (!fs::is_directory(h.directory, ec)) {
      throw Error(ErrorKind::io, fmt::format("{} is not a directory", h.directory.string()));
    }
  }
  h.options = std::move(options);
}

InstanceHost::~InstanceHost() = default;

Engine InstanceHost::engine() const noexcept { return state_->engine; }

Instance InstanceHost::start(std::string_view id, const MigrationSet& migrations, const StartOptions& options) {
  validate_instance_id(id);
  auto& h = *state_;
  auto slot = h.slot(id);
  std::lock_guard serialised(slot->mutex);

  std::shared_ptr<detail::InstanceState> state = slot->instance.lock();
  bool removed = false;
  if (state) {
    std::lock_guard lock(state->mutex);
    removed = state->removed;
  }
  if (!state || removed) {
    state = h.make_instance(id);
    slot->instance = state;
  }
  Instance instance(state);

  try {
    auto c = instance.acquire();
    Migrator migrator(*c, migrations, state->migrator);
    UpOptions up;
    up.target = options.target;
    up.on_applied = options.on_applied;
    migrator.up(up);
  } catch (Error& e) {
    e.context(fmt::format("instance '{}'", state->id));
    throw;
  }
  return instance;
}

bool InstanceHost::remove(std::string_view id) {
  validate_instance_id(id);
  auto& h = *state_;
  auto slot = h.slot(id);
  std::lock_guard serialised(slot->mutex);

  std::shared_ptr<detail::InstanceState> live = slot->instance.lock();
  if (live) live->close_for_removal();
  bool existed = false;
  try {
    existed = h.engine == Engine::postgres ? h.drop_schema(id) : h.remove_file(id);
  } catch (...) {
    if (live) live->finish_removal(false);
    throw;
  }
  if (live) live->finish_removal(true);
  slot->instance.reset();
  return existed;
}

bool InstanceHost::exists(std::string_view id) {
  validate_instance_id(id);
  auto& h = *state_;
  if (h.engine == Engine::postgres) {
    auto c = h.shared_pool->acquire();
    return h.schema_exists(*c, h.schema_for(id));
  }
  std::error_code ec;
  bool found = fs::exists(h.file_for(id), ec);
  if (ec) throw Error(ErrorKind::io, io_message("read", h.file_for(id), ec));
  return found;
}

std::vector<std::string> InstanceHost::list() {
  auto& h = *state_;
  std::vector<std::string> ids;
  if (h.engine == Engine::postgres) {
    const std::string& prefix = h.options.schema_prefix;
    // starts_with, not LIKE: '_' in the prefix is not a wildcard.
    for (const auto& row : h.shared_pool->fetch(
             "SELECT nspname::text FROM pg_catalog.pg_namespace WHERE starts_with(nspname::text, $1)", {prefix})) {
      std::string id = row.get<std::string>(0).substr(prefix.size());
      if (is_valid_instance_id(id)) ids.push_back(std::move(id));
    }
  } else {
    std::error_code ec;
    for (fs::directory_iterator it(h.directory, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() != ".db" || !it->is_regular_file(ec)) continue;
      std::string id = p.stem().string();
      if (is_valid_instance_id(id)) ids.push_back(std::move(id));
    }
    if (ec) throw Error(ErrorKind::io, io_message("list", h.directory, ec));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace strata
