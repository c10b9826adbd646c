#include "plugins.hpp"

#include "strata/transaction.hpp"

namespace plugin_host {
namespace {

// Characters, not bytes: what SQLite's length() and PostgreSQL's char_length() count.
std::int64_t utf8_length(std::string_view text) {
  std::int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

// ---------------------------------------------------------------- echo

const strata::UpgradeTable& EchoPlugin::upgrade_table() {
  static const strata::UpgradeTable table = [] {
    strata::UpgradeTable t("echo");
    t.add_sql(1, "create messages", "CREATE TABLE messages (id $%AUTO_INCREMENT_PRIMARY_KEY%$, body TEXT NOT NULL);");
    t.add_sql(2, "add messages.length", "ALTER TABLE messages ADD COLUMN length INTEGER;");
    t.add(3, "backfill messages.length", [](strata::Connection& c, strata::Engine engine) {
      // The same result on both engines, by each engine's own function.
      c.execute(engine == strata::Engine::postgres
                    ? "UPDATE messages SET length = char_length(body) WHERE length IS NULL"
                    : "UPDATE messages SET length = length(body) WHERE length IS NULL");
    });
    return t;
  }();
  return table;
}

void EchoPlugin::on_message(std::string_view body) {
  db_.execute("INSERT INTO messages (body, length) VALUES ($1, $2)", {body, utf8_length(body)});
}

void EchoPlugin::insert_raw(std::string_view body) {
  db_.execute("INSERT INTO messages (body) VALUES ($1)", {body});
}

std::vector<EchoPlugin::Message> EchoPlugin::messages() const {
  std::vector<Message> out;
  for (const auto& row : db_.fetch("SELECT id, body, length FROM messages ORDER BY id")) {
    out.push_back({row.get<std::int64_t>(0), row.get<std::string>(1), row.get<std::optional<std::int64_t>>(2)});
  }
  return out;
}

// ---------------------------------------------------------------- karma

std::string KarmaPlugin::level_for(std::int64_t points) {
  if (points >= 100) return "legend";
  if (points >= 10) return "regular";
  return "newbie";
}

const strata::UpgradeTable& KarmaPlugin::upgrade_table() {
  static const strata::UpgradeTable table = [] {
    strata::UpgradeTable t("karma");
    t.add_sql(1, "create karma", "CREATE TABLE karma (user_name TEXT PRIMARY KEY, points BIGINT NOT NULL);");
    t.add_sql(2, "add karma.level", "ALTER TABLE karma ADD COLUMN level TEXT;");
    // Logic SQL cannot express well lives in C++: read, compute, write back,
    // all inside the step's transaction.
    t.add(3, "compute karma.level", [](strata::Connection& c, strata::Engine) {
      for (const auto& row : c.fetch("SELECT user_name, points FROM karma WHERE level IS NULL")) {
        c.execute("UPDATE karma SET level = $1 WHERE user_name = $2",
                  {level_for(row.get<std::int64_t>(1)), row.get<std::string>(0)});
      }
    });
    return t;
  }();
  return table;
}

void KarmaPlugin::bump_raw(std::string_view user, std::int64_t delta) {
  db_.execute(
      "INSERT INTO karma (user_name, points) VALUES ($1, $2) "
      "ON CONFLICT (user_name) DO UPDATE SET points = karma.points + excluded.points",
      {user, delta});
}

void KarmaPlugin::bump(std::string_view user, std::int64_t delta) {
  auto c = db_.acquire();
  auto tx = c.transaction();
  auto points = c->fetch_value<std::int64_t>(
      "INSERT INTO karma (user_name, points) VALUES ($1, $2) "
      "ON CONFLICT (user_name) DO UPDATE SET points = karma.points + excluded.points RETURNING points",
      {user, delta});
  c->execute("UPDATE karma SET level = $1 WHERE user_name = $2", {level_for(points), user});
  tx.commit();
}

std::vector<KarmaPlugin::Entry> KarmaPlugin::entries() const {
  std::vector<Entry> out;
  for (const auto& row : db_.fetch("SELECT user_name, points, level FROM karma ORDER BY user_name")) {
    out.push_back({row.get<std::string>(0), row.get<std::int64_t>(1), row.get<std::optional<std::string>>(2)});
  }
  return out;
}

// ---------------------------------------------------------------- types

const strata::UpgradeTable* upgrade_table_for(std::string_view type) {
  if (type == EchoPlugin::kType) return &EchoPlugin::upgrade_table();
  if (type == KarmaPlugin::kType) return &KarmaPlugin::upgrade_table();
  return nullptr;
}

std::string type_of(std::string_view id) { return std::string(id.substr(0, id.find('-'))); }

}  // namespace plugin_host
