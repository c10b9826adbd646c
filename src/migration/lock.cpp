#include "migration/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

std::string timeout_message(std::chrono::milliseconds timeout, std::string_view what) {
  return fmt::format(
      "another migrator holds the lock on {} and did not release it within {} ms; "
      "wait for it to finish or raise --lock-timeout",
      what, timeout.count());
}

// Sleeps with exponential backoff until `attempt` succeeds or the deadline passes.
template <class Attempt>
bool retry_until(Clock::time_point deadline, Attempt attempt) {
  auto delay = std::chrono::milliseconds(10);
  while (true) {
    if (attempt()) return true;
    auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(delay, deadline - now));
    delay = std::min(delay * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace

std::int64_t advisory_lock_key(std::string_view database, std::string_view schema,
                               std::string_view table) {
  std::string material = "strata-migrate";
  for (auto part : {database, schema, table}) {
    material += '\0';
    material += part;
  }
  std::string hex = checksum(material).substr(0, 16);
  return static_cast<std::int64_t>(std::stoull(hex, nullptr, 16));
}

std::int64_t sqlx_advisory_lock_key(std::string_view database) {
  std::uint32_t crc = 0xFFFFFFFFu;  // CRC-32/ISO-HDLC, as sqlx computes it
  for (unsigned char b : database) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  return static_cast<std::int64_t>(0x3d32ad9e) * static_cast<std::int64_t>(crc ^ 0xFFFFFFFFu);
}

MigrationLock::MigrationLock(Connection& connection, const HistoryOptions& history,
                             const LockOptions& options)
    : connection_(connection) {
  const auto deadline = Clock::now() + options.timeout;
  if (connection.engine() == Engine::postgres) {
    const bool wait = options.mode == LockOptions::Mode::wait;
    // One round trip: the database (for the key) and, in wait mode, the
    // session's lock_timeout (to restore) while setting ours.
    auto row = wait ? connection
                          .query("SELECT current_database(), current_setting('lock_timeout'), "
                                 "set_config('lock_timeout', $1, false)",
                                 {std::to_string(std::max<std::int64_t>(1, options.timeout.count())) + "ms"})
                          .rows.at(0)
                    : connection.query("SELECT current_database()").rows.at(0);
    std::string database = row.get<std::string>(0);
    key_ = history.format == HistoryFormat::sqlx ? sqlx_advisory_lock_key(database)
                                                 : advisory_lock_key(database, history.schema, history.table);
    std::string what = fmt::format("database {}", database);
    if (wait) {
      std::string previous = row.get<std::string>(1);
      try {
        connection.query("SELECT pg_advisory_lock($1), set_config('lock_timeout', $2, false)", {key_, previous});
      } catch (const Error& e) {
        try {
          connection.query("SELECT set_config('lock_timeout', $1, false)", {previous});
        } catch (...) {
        }
        if (e.engine_code() == "55P03") throw Error(ErrorKind::lock_timeout, timeout_message(options.timeout, what));
        throw;
      }
    } else {
      bool got = retry_until(deadline, [&] {
        return connection.query("SELECT pg_try_advisory_lock($1)", {key_}).rows.at(0).get<bool>(0);
      });
      if (!got) throw Error(ErrorKind::lock_timeout, timeout_message(options.timeout, what));
    }
    held_ = true;
    return;
  }

  // SQLite: find the main database file; in-memory databases are private.
  std::string path;
  for (const auto& row : connection.query("PRAGMA database_list").rows) {
    if (row.get<std::string>(1) == "main") path = row[2].is_null() ? "" : row.get<std::string>(2);
  }
  if (path.empty()) return;
  std::string lock_path = path + ".strata-lock";
  fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw Error(ErrorKind::io, fmt::format("cannot open lock file {}: {}", lock_path, std::strerror(errno)));
  }
  bool got = retry_until(deadline, [&] {
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      throw Error(ErrorKind::io, fmt::format("cannot lock {}: {}", lock_path, std::strerror(errno)));
    }
    return false;
  });
  if (!got) {
    ::close(fd_);
    fd_ = -1;
    throw Error(ErrorKind::lock_timeout, timeout_message(options.timeout, path));
  }
  held_ = true;
}

MigrationLock::~MigrationLock() {
  if (fd_ >= 0) {
    ::close(fd_);  // releases the flock
    return;
  }
  if (held_ && connection_.engine() == Engine::postgres) {
    try {
      connection_.query("SELECT pg_advisory_unlock($1)", {key_});
    } catch (...) {
      // The lock dies with the session anyway.
    }
  }
}

}  // namespace strata
