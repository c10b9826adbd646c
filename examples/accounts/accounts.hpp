// examples/accounts: a small service's storage layer in the repository
// pattern matrix-authentication-service uses: domain structs, a repository
// interface the service codes against, and one implementation per engine, each
// over C++ generated from queries checked by `strata prepare`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <strata/connection.hpp>
#include <strata/value.hpp>

namespace accounts {

// ---------------------------------------------------------------- domain
struct Account {
  std::int64_t id = 0;
  std::string email;
  std::optional<std::string> display_name;
  std::int64_t balance_cents = 0;
  strata::Timestamp created_at{};
};

struct OutgoingTransfer {
  std::int64_t id = 0;
  std::int64_t amount_cents = 0;
};

// ---------------------------------------------------------------- repository
// Storage for accounts. Borrows a connection (which must outlive it); not
// thread-safe, like the connection. Every failure is a strata::Error.
class AccountRepository {
 public:
  virtual ~AccountRepository() = default;
  virtual Account create(const std::string& email, const std::optional<std::string>& display_name,
                         std::int64_t balance_cents, strata::Timestamp now) = 0;
  virtual std::optional<Account> find(std::int64_t id) = 0;
  virtual std::optional<Account> find_by_email(const std::string& email) = 0;
  virtual std::vector<Account> list(std::int64_t limit) = 0;
  // False when there is no such account.
  virtual bool rename(std::int64_t id, const std::optional<std::string>& display_name) = 0;
  // Moves money in one transaction; false (and nothing changed) when either
  // account does not exist.
  virtual bool transfer(std::int64_t from, std::int64_t to, std::int64_t amount_cents) = 0;
  virtual std::vector<OutgoingTransfer> outgoing(std::int64_t id) = 0;
  virtual std::int64_t count() = 0;
  virtual std::int64_t total_balance() = 0;
};

std::unique_ptr<AccountRepository> make_sqlite_repository(strata::Connection& connection);
std::unique_ptr<AccountRepository> make_postgres_repository(strata::Connection& connection);
// The implementation for the connection's engine.
std::unique_ptr<AccountRepository> make_repository(strata::Connection& connection);

// Applies the embedded migrations (examples/accounts/migrations).
void migrate(strata::Connection& connection);

}  // namespace accounts
