#include "strata/transaction.hpp"

#include <string>

#include "strata/error.hpp"

namespace strata {

namespace {

std::string savepoint(int level) { return "strata_sp_" + std::to_string(level); }

}  // namespace

Transaction::Transaction(Connection& connection) : connection_(connection), level_(connection.depth_ + 1) {
  if (level_ == 1) {
    connection_.execute(connection_.engine() == Engine::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  } else {
    connection_.execute("SAVEPOINT " + savepoint(level_));
  }
  connection_.depth_ = level_;
}

Transaction::~Transaction() {
  if (!active_) return;
  try {
    rollback();
  } catch (...) {
    // Swallowed: see the header. rollback() has already reset the depth.
  }
}

void Transaction::commit() {
  if (!active_) throw Error(ErrorKind::usage, "Transaction::commit: the transaction is no longer active");
  if (connection_.depth_ != level_) {
    throw Error(ErrorKind::usage, "Transaction::commit: an inner transaction is still open");
  }
  // On failure the transaction stays active, so the destructor (or an
  // explicit rollback()) cleans up: SQLite keeps a transaction open after a
  // failed COMMIT (a deferred foreign key, SQLITE_BUSY), and PostgreSQL needs
  // ROLLBACK TO after a failed RELEASE in an aborted transaction.
  if (level_ == 1) {
    connection_.execute("COMMIT");
  } else {
    connection_.execute("RELEASE SAVEPOINT " + savepoint(level_));
  }
  active_ = false;
  connection_.depth_ = level_ - 1;
}

void Transaction::rollback() {
  if (!active_) throw Error(ErrorKind::usage, "Transaction::rollback: the transaction is no longer active");
  // Whatever happens next, this transaction is over (and any inner one the
  // caller leaked with it).
  // The engine may have ended the transaction itself (a failed COMMIT on
  // PostgreSQL, an I/O error on SQLite): then there is nothing to undo.
  bool open = connection_.in_transaction();
  active_ = false;
  connection_.depth_ = level_ - 1;
  if (!open) return;
  if (level_ == 1) {
    connection_.execute("ROLLBACK");
  } else {
    connection_.execute("ROLLBACK TO SAVEPOINT " + savepoint(level_));
    connection_.execute("RELEASE SAVEPOINT " + savepoint(level_));
  }
}

}  // namespace strata
