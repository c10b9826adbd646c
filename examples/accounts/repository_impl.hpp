// The one body of both repository implementations: the generated query
// namespaces of the two engines have the same functions (the same query
// files, prepared on each engine), so the repository is written once over
// them; what differs per engine is what the generated code says (types,
// nullability), which the compiler checks against this code.
#pragma once

#include <strata/transaction.hpp>

#include "accounts.hpp"

namespace accounts::detail {

template <class Db>
class GeneratedRepository final : public AccountRepository {
 public:
  explicit GeneratedRepository(strata::Connection& c) : c_(c) {}

  Account create(const std::string& email, const std::optional<std::string>& display_name,
                 std::int64_t balance_cents, strata::Timestamp now) override {
    auto row = Db::CreateAccount(c_, email, display_name, balance_cents, now);
    return to_account(*row);  // RETURNING always gives the row
  }
  std::optional<Account> find(std::int64_t id) override {
    auto row = Db::FindAccount(c_, id);
    return row ? std::optional<Account>(to_account(*row)) : std::nullopt;
  }
  std::optional<Account> find_by_email(const std::string& email) override {
    auto row = Db::FindAccountByEmail(c_, email);
    return row ? std::optional<Account>(to_account(*row)) : std::nullopt;
  }
  std::vector<Account> list(std::int64_t limit) override {
    std::vector<Account> out;
    for (const auto& row : Db::ListAccounts(c_, limit)) out.push_back(to_account(row));
    return out;
  }
  bool rename(std::int64_t id, const std::optional<std::string>& display_name) override {
    return Db::RenameAccount(c_, display_name, id) == 1;
  }
  bool transfer(std::int64_t from, std::int64_t to, std::int64_t amount_cents) override {
    strata::Transaction tx(c_);
    if (Db::AdjustBalance(c_, -amount_cents, from) != 1 || Db::AdjustBalance(c_, amount_cents, to) != 1) return false;
    Db::AddTransfer(c_, from, to, amount_cents);
    tx.commit();
    return true;
  }
  std::vector<OutgoingTransfer> outgoing(std::int64_t id) override {
    std::vector<OutgoingTransfer> out;
    for (const auto& row : Db::OutgoingTransfers(c_, id)) {
      // LEFT JOIN: the transfer's columns are optional; an account without
      // transfers gives one row of NULLs.
      if (row.transfer_id) out.push_back({*row.transfer_id, row.amount_cents.value_or(0)});
    }
    return out;
  }
  std::int64_t count() override { return Db::CountAccounts(c_)->n; }
  std::int64_t total_balance() override { return Db::TotalBalance(c_)->total; }

 private:
  template <class Row>
  static Account to_account(const Row& r) {
    return Account{r.id, r.email, r.display_name, r.balance_cents, r.created_at};
  }

  strata::Connection& c_;
};

}  // namespace accounts::detail
