// The SQLite implementation: the repository over sqlite_queries.hpp,
// generated from sqlite/.strata/queries.json.
#include "repository_impl.hpp"
#include "sqlite_queries.hpp"

namespace accounts {
namespace {

// The generated functions, gathered for GeneratedRepository.
struct SqliteQueries {
#define ACCOUNTS_QUERY(name) \
  template <class... A>      \
  static auto name(A&&... a) { return sqlite_db::name(std::forward<A>(a)...); }
  ACCOUNTS_QUERY(CreateAccount)
  ACCOUNTS_QUERY(FindAccount)
  ACCOUNTS_QUERY(FindAccountByEmail)
  ACCOUNTS_QUERY(ListAccounts)
  ACCOUNTS_QUERY(RenameAccount)
  ACCOUNTS_QUERY(AdjustBalance)
  ACCOUNTS_QUERY(AddTransfer)
  ACCOUNTS_QUERY(OutgoingTransfers)
  ACCOUNTS_QUERY(CountAccounts)
  ACCOUNTS_QUERY(TotalBalance)
#undef ACCOUNTS_QUERY
};
static_assert(sqlite_db::kEngine == strata::Engine::sqlite);

}  // namespace

std::unique_ptr<AccountRepository> make_sqlite_repository(strata::Connection& connection) {
  return std::make_unique<detail::GeneratedRepository<SqliteQueries>>(connection);
}

}  // namespace accounts
