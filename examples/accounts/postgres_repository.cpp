// The PostgreSQL implementation: the repository over postgres_queries.hpp,
// generated from postgres/.strata/queries.json.
#include "repository_impl.hpp"
#include "postgres_queries.hpp"

namespace accounts {
namespace {

// The generated functions, gathered for GeneratedRepository.
struct PostgresQueries {
#define ACCOUNTS_QUERY(name) \
  template <class... A>      \
  static auto name(A&&... a) { return postgres_db::name(std::forward<A>(a)...); }
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
static_assert(postgres_db::kEngine == strata::Engine::postgres);

}  // namespace

std::unique_ptr<AccountRepository> make_postgres_repository(strata::Connection& connection) {
  return std::make_unique<detail::GeneratedRepository<PostgresQueries>>(connection);
}

}  // namespace accounts
