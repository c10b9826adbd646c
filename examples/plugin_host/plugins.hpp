// examples/plugin_host/plugins.hpp: two kinds of plugin, each with its own
// upgrade table, run as many instances with a database each.
//
// A plugin only ever sees its Instance: unqualified table names resolve to
// the instance's own file (SQLite) or schema (PostgreSQL), so two instances
// of one plugin cannot see each other's rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/instance_host.hpp"
#include "strata/upgrade_table.hpp"

namespace plugin_host {

// An echo bot that remembers what it was told.
//   v1 creates messages, v2 adds messages.length, v3 backfills it in code.
class EchoPlugin {
 public:
  static constexpr std::string_view kType = "echo";
  static const strata::UpgradeTable& upgrade_table();

  struct Message {
    std::int64_t id = 0;
    std::string body;
    std::optional<std::int64_t> length;  // null for rows written before v3 ran
  };

  explicit EchoPlugin(strata::Instance db) : db_(std::move(db)) {}
  // REQUIRES: the instance is at v3 (at v1 or v2, use insert_raw()).
  void on_message(std::string_view body);
  // What a v1/v2 plugin wrote: no length.
  void insert_raw(std::string_view body);
  std::vector<Message> messages() const;
  const strata::Instance& db() const { return db_; }

 private:
  strata::Instance db_;
};

// A karma counter per user.
//   v1 creates karma, v2 adds karma.level, v3 computes every level in C++.
class KarmaPlugin {
 public:
  static constexpr std::string_view kType = "karma";
  static const strata::UpgradeTable& upgrade_table();
  // The level a number of points earns ("newbie", "regular", "legend").
  static std::string level_for(std::int64_t points);

  struct Entry {
    std::string user;
    std::int64_t points = 0;
    std::optional<std::string> level;
  };

  explicit KarmaPlugin(strata::Instance db) : db_(std::move(db)) {}
  // REQUIRES: the instance is at v3 (at v1 or v2, use bump_raw()).
  void bump(std::string_view user, std::int64_t delta);
  // What a v1/v2 plugin did: points only.
  void bump_raw(std::string_view user, std::int64_t delta);
  std::vector<Entry> entries() const;
  const strata::Instance& db() const { return db_; }

 private:
  strata::Instance db_;
};

// The upgrade table of a plugin type ("echo" or "karma"); nullptr for others.
const strata::UpgradeTable* upgrade_table_for(std::string_view type);
// An instance id's plugin type: the part before the first '-' ("echo-7" is an echo).
std::string type_of(std::string_view id);

}  // namespace plugin_host
