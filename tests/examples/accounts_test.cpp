// examples/accounts: the repository over generated queries, on both engines.
#include <gtest/gtest.h>

#include <chrono>

#include "accounts.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {

class AccountsTest : public test::EngineTest {};

TEST_P(AccountsTest, TheRepositoryWorksOverGeneratedQueries) {
  auto c = db().connect();
  accounts::migrate(*c);
  auto repo = accounts::make_repository(*c);
  const Timestamp now = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::sys_days{std::chrono::year{2025} / 4 / 10} + std::chrono::hours{12} + std::chrono::microseconds{7});

  accounts::Account alice = repo->create("alice@example.org", "Alice", 1000, now);
  accounts::Account bob = repo->create("bob@example.org", std::nullopt, 0, now);
  EXPECT_GT(alice.id, 0);
  EXPECT_EQ(alice.display_name, "Alice");
  EXPECT_EQ(alice.created_at, now);
  EXPECT_EQ(bob.display_name, std::nullopt);

  auto found = repo->find(alice.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->email, "alice@example.org");
  EXPECT_EQ(found->balance_cents, 1000);
  EXPECT_EQ(found->created_at, now);
  EXPECT_FALSE(repo->find(999999));
  EXPECT_EQ(repo->find_by_email("bob@example.org")->id, bob.id);

  EXPECT_TRUE(repo->rename(bob.id, "Bob"));
  EXPECT_FALSE(repo->rename(999999, "Nobody"));
  EXPECT_EQ(repo->find(bob.id)->display_name, "Bob");
  EXPECT_TRUE(repo->rename(bob.id, std::nullopt));
  EXPECT_EQ(repo->find(bob.id)->display_name, std::nullopt);

  EXPECT_TRUE(repo->outgoing(alice.id).empty());  // the LEFT JOIN's row of NULLs
  EXPECT_TRUE(repo->transfer(alice.id, bob.id, 250));
  EXPECT_FALSE(repo->transfer(alice.id, 999999, 1));
  auto transfers = repo->outgoing(alice.id);
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0].amount_cents, 250);
  EXPECT_EQ(repo->find(alice.id)->balance_cents, 750);
  EXPECT_EQ(repo->find(bob.id)->balance_cents, 250);

  auto all = repo->list(10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, alice.id);
  EXPECT_EQ(repo->list(1).size(), 1u);
  EXPECT_EQ(repo->count(), 2);
  EXPECT_EQ(repo->total_balance(), 1000);
}

STRATA_INSTANTIATE_ENGINES(AccountsTest);

}  // namespace
}  // namespace strata
