// strata/migrator.hpp: what `strata up` and `strata status` do, as a library.
//
// A Migrator borrows a connection and a migration set; it is not thread-safe.
// Every migration runs in its own transaction together with its history row,
// so a failure leaves the database at the boundary after the last migration
// that succeeded.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "strata/history.hpp"
#include "strata/migration.hpp"
#include "strata/plan.hpp"

namespace strata {

class Connection;

struct MigratorOptions {
  HistoryOptions history;
};

struct AppliedStep {
  Version version = 0;
  std::string description;
  std::chrono::microseconds duration{0};
};

struct UpOptions {
  std::optional<Version> target;
  // Called after each migration commits (for progress output).
  std::function<void(const AppliedStep&)> on_applied;
};

struct UpResult {
  std::vector<AppliedStep> applied;
};

struct StatusReport {
  std::vector<MigrationStatus> migrations;
  bool history_exists = false;
};

class Migrator {
 public:
  Migrator(Connection& connection, const MigrationSet& source, MigratorOptions options = {});

  StatusReport status();

  // Applies pending migrations in plan order. Throws strata::Error on the
  // first failure, with the file, line, column, statement and engine code of
  // the failing statement; migrations before it stay applied.
  UpResult up(const UpOptions& options = {});

 private:
  void apply(const Migration& m, History& history, AppliedStep& step);

  Connection& connection_;
  const MigrationSet& source_;
  MigratorOptions options_;
};

}  // namespace strata
