// src/migration/lock.hpp: the migration lock, held while a migrator writes.
// The contract (keys, files, modes) is documented on strata::LockOptions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "strata/history.hpp"
#include "strata/migrator.hpp"

namespace strata {

class Connection;

// The PostgreSQL advisory-lock key for one history table in one database.
std::int64_t advisory_lock_key(std::string_view database, std::string_view schema,
                               std::string_view table);

// sqlx's migration lock key: 0x3d32ad9e times the CRC-32 (ISO-HDLC) of the
// database name (HistoryFormat::sqlx takes this one, so sqlx and strata
// exclude each other).
std::int64_t sqlx_advisory_lock_key(std::string_view database);

// Acquires the lock in its constructor (Error{lock_timeout} when it cannot
// within the timeout) and releases it in its destructor, which never throws.
// REQUIRES: no transaction is open on the connection.
class MigrationLock {
 public:
  MigrationLock(Connection& connection, const HistoryOptions& history, const LockOptions& options);
  ~MigrationLock();
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  Connection& connection_;
  std::int64_t key_ = 0;  // PostgreSQL
  int fd_ = -1;           // SQLite lock file
  bool held_ = false;
};

}  // namespace strata
