// strata/transaction.hpp: a scope guard for a transaction.
//
// The outermost Transaction on a connection issues BEGIN (BEGIN IMMEDIATE on
// SQLite, so the write lock is taken up front and never upgraded mid-way);
// nested ones issue SAVEPOINTs. A Transaction that is destroyed without
// commit() rolls back (its savepoint, or the whole transaction). The
// destructor never throws: a failed rollback is swallowed, since the
// connection is then unusable anyway and the engine discards the work.
#pragma once

#include "strata/connection.hpp"

namespace strata {

class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // REQUIRES: this is the innermost open transaction on the connection.
  void commit();
  void rollback();
  bool active() const noexcept { return active_; }

 private:
  Connection& connection_;
  int level_;  // 1 for the outermost transaction
  bool active_ = true;
};

}  // namespace strata
