#include "accounts.hpp"

#include <strata/migrator.hpp>
#include <strata/source.hpp>

#include "accounts_migrations.hpp"

namespace accounts {

std::unique_ptr<AccountRepository> make_repository(strata::Connection& connection) {
  return connection.engine() == strata::Engine::sqlite ? make_sqlite_repository(connection)
                                                       : make_postgres_repository(connection);
}

void migrate(strata::Connection& connection) {
  strata::MigrationSet migrations = strata::load_embedded(accounts_migrations(), connection.engine());
  strata::Migrator(connection, migrations).up();
}

}  // namespace accounts
