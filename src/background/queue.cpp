// The queue of background updates and the log of completed ones.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "background/tables.hpp"
#include "strata/background.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/history.hpp"

namespace strata {

namespace detail {

std::string_view now_sql(Engine engine) {
  return engine == Engine::sqlite ? "strftime('%Y-%m-%d %H:%M:%f', 'now')" : "now()";
}

std::string timestamp_sql(Engine engine, std::string_view column) {
  if (engine == Engine::sqlite) return std::string(column);
  return fmt::format("to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')", column);
}

std::string_view for_update_sql(Engine engine) { return engine == Engine::postgres ? " FOR UPDATE" : ""; }

void require_json(std::string_view text, std::string_view what) {
  if (!nlohmann::json::accept(text)) {
    throw Error(ErrorKind::usage, fmt::format("{} is not valid JSON: {}", what, text));
  }
}

}  // namespace detail

const char* to_string(UpdateState state) noexcept {
  switch (state) {
    case UpdateState::runnable: return "runnable";
    case UpdateState::waiting: return "waiting";
    case UpdateState::cycle: return "cycle";
    case UpdateState::unknown_dependency: return "unknown_dependency";
  }
  return "unknown";
}

std::optional<double> QueuedUpdate::rate() const {
  if (run_time_us <= 0 || items_done <= 0) return std::nullopt;
  return static_cast<double>(items_done) * 1e6 / static_cast<double>(run_time_us);
}

std::optional<double> QueuedUpdate::percent() const {
  if (!total_items) return std::nullopt;
  if (*total_items <= 0) return 100.0;
  return std::min(100.0, 100.0 * static_cast<double>(items_done) / static_cast<double>(*total_items));
}

std::optional<std::chrono::seconds> QueuedUpdate::eta() const {
  auto r = rate();
  if (!total_items || !r) return std::nullopt;
  double left = std::max<double>(0, static_cast<double>(*total_items - items_done));
  return std::chrono::seconds(static_cast<std::int64_t>(std::ceil(left / *r)));
}

BackgroundQueue::BackgroundQueue(Connection& connection, BackgroundTables tables)
    : connection_(connection), tables_(std::move(tables)) {
  if (tables_.schema.empty()) tables_.schema = "public";
  validate_identifier(tables_.queue, "background update queue table name");
  validate_identifier(tables_.log, "background update log table name");
  if (tables_.queue == tables_.log) {
    throw Error(ErrorKind::config, "the background update queue and log tables need different names");
  }
  if (connection_.engine() == Engine::postgres) {
    validate_schema_name(tables_.schema, "background update schema name");
    std::string schema = Connection::quote_identifier(tables_.schema) + ".";
    queue_ = schema + Connection::quote_identifier(tables_.queue);
    log_ = schema + Connection::quote_identifier(tables_.log);
  } else {
    queue_ = Connection::quote_identifier(tables_.queue);
    log_ = Connection::quote_identifier(tables_.log);
  }
}

namespace {

bool table_exists(Connection& c, const std::string& schema, const std::string& table) {
  if (c.engine() == Engine::sqlite) {
    return !c.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", {table}).rows.empty();
  }
  return !c.query("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2", {schema, table})
              .rows.empty();
}

}  // namespace

bool BackgroundQueue::exists() { return table_exists(connection_, tables_.schema, tables_.queue); }

std::string BackgroundQueue::ensure_sql() const {
  const bool sqlite = connection_.engine() == Engine::sqlite;
  const char* bigint = sqlite ? "INTEGER" : "BIGINT";
  const char* timestamp = sqlite ? "TEXT" : "TIMESTAMPTZ";
  std::string now = sqlite ? "(" + std::string(detail::now_sql(Engine::sqlite)) + ")" : "now()";
  return fmt::format(
      "CREATE TABLE IF NOT EXISTS {queue} (\n"
      "  update_name TEXT NOT NULL PRIMARY KEY,\n"
      "  handler TEXT,\n"
      "  progress_json TEXT NOT NULL DEFAULT '{{}}',\n"
      "  depends_on TEXT,\n"
      "  ordering {bigint} NOT NULL DEFAULT 0,\n"
      "  queued_at {ts} NOT NULL DEFAULT {now},\n"
      "  started_at {ts},\n"
      "  updated_at {ts},\n"
      "  batches {bigint} NOT NULL DEFAULT 0,\n"
      "  items_done {bigint} NOT NULL DEFAULT 0,\n"
      "  total_items {bigint},\n"
      "  run_time_us {bigint} NOT NULL DEFAULT 0\n"
      ");\n"
      "CREATE TABLE IF NOT EXISTS {log} (\n"
      "  update_name TEXT NOT NULL,\n"
      "  handler TEXT,\n"
      "  progress_json TEXT NOT NULL,\n"
      "  depends_on TEXT,\n"
      "  ordering {bigint} NOT NULL,\n"
      "  queued_at {ts},\n"
      "  started_at {ts},\n"
      "  completed_at {ts} NOT NULL DEFAULT {now},\n"
      "  batches {bigint} NOT NULL,\n"
      "  items {bigint} NOT NULL,\n"
      "  run_time_us {bigint} NOT NULL\n"
      ")",
      fmt::arg("queue", queue_), fmt::arg("log", log_), fmt::arg("bigint", bigint), fmt::arg("ts", timestamp),
      fmt::arg("now", now));
}

void BackgroundQueue::ensure() {
  if (table_exists(connection_, tables_.schema, tables_.queue) &&
      table_exists(connection_, tables_.schema, tables_.log)) {
    return;
  }
  if (connection_.engine() == Engine::postgres &&
      connection_.query("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {tables_.schema}).rows.empty()) {
    // Only when missing, as History::ensure(): CREATE SCHEMA IF NOT EXISTS
    // needs the CREATE privilege even when the schema is there.
    connection_.execute("CREATE SCHEMA IF NOT EXISTS " + Connection::quote_identifier(tables_.schema));
  }
  connection_.execute_script(ensure_sql());
}

void BackgroundQueue::enqueue(const NewUpdate& u) {
  if (u.name.empty()) throw Error(ErrorKind::usage, "a background update needs a name");
  detail::require_json(u.progress, fmt::format("the progress of background update '{}'", u.name));
  connection_.execute(
      fmt::format("INSERT INTO {} (update_name, handler, progress_json, depends_on, ordering) "
                  "VALUES ($1, $2, $3, $4, $5)",
                  queue_),
      {u.name, u.handler.empty() ? Value() : Value(u.handler), u.progress, Value(u.depends_on), u.ordering});
}

namespace {

// Marks each update's state from its dependency: the graph is a set of
// chains (one depends_on each), so a walk from each update either leaves the
// queue (runnable or unknown), or comes back to a node it visited (a cycle).
void classify(std::vector<QueuedUpdate>& queue, const std::set<std::string>& completed) {
  std::map<std::string, QueuedUpdate*, std::less<>> by_name;
  for (auto& u : queue) by_name[u.name] = &u;
  for (auto& u : queue) {
    if (!u.depends_on) {
      u.state = UpdateState::runnable;
      continue;
    }
    if (by_name.count(*u.depends_on) == 0) {
      if (completed.count(*u.depends_on) != 0) {
        u.state = UpdateState::runnable;
      } else {
        u.state = UpdateState::unknown_dependency;
        u.state_detail = fmt::format(
            "background update '{}' depends on '{}', which is neither queued nor completed", u.name, *u.depends_on);
      }
      continue;
    }
    u.state = UpdateState::waiting;
    // Walk the chain; a cycle through u shows up as a return to u.
    std::vector<std::string> path{u.name};
    std::set<std::string> seen{u.name};
    const QueuedUpdate* at = &u;
    while (at->depends_on) {
      auto next = by_name.find(*at->depends_on);
      if (next == by_name.end()) break;
      path.push_back(next->second->name);
      if (next->second == &u) {
        std::string chain;
        for (const auto& p : path) chain += (chain.empty() ? "" : " -> ") + p;
        u.state = UpdateState::cycle;
        u.state_detail = fmt::format("background update '{}' is in a dependency cycle: {}", u.name, chain);
        break;
      }
      if (!seen.insert(next->second->name).second) break;  // a cycle further along, not through u
      at = next->second;
    }
  }
}

}  // namespace

std::vector<QueuedUpdate> BackgroundQueue::list() {
  std::vector<QueuedUpdate> out;
  if (!exists()) return out;
  const Engine e = connection_.engine();
  auto rows = connection_.query(fmt::format(
      "SELECT update_name, handler, progress_json, depends_on, ordering, {}, {}, {}, batches, items_done, "
      "total_items, run_time_us FROM {}",
      detail::timestamp_sql(e, "queued_at"), detail::timestamp_sql(e, "started_at"),
      detail::timestamp_sql(e, "updated_at"), queue_));
  std::set<std::string> dependencies;
  for (const auto& r : rows.rows) {
    QueuedUpdate u;
    u.name = r.get<std::string>(0);
    u.handler = r.get<std::optional<std::string>>(1).value_or("");
    u.progress = r.get<std::string>(2);
    u.depends_on = r.get<std::optional<std::string>>(3);
    u.ordering = r.get<std::int64_t>(4);
    u.queued_at = r.get<std::optional<std::string>>(5).value_or("");
    u.started_at = r.get<std::optional<std::string>>(6).value_or("");
    u.updated_at = r.get<std::optional<std::string>>(7).value_or("");
    u.batches = r.get<std::int64_t>(8);
    u.items_done = r.get<std::int64_t>(9);
    u.total_items = r.get<std::optional<std::int64_t>>(10);
    u.run_time_us = r.get<std::int64_t>(11);
    if (u.depends_on) dependencies.insert(*u.depends_on);
    out.push_back(std::move(u));
  }
  // In byte order of the name, not the database's collation, so both
  // engines run updates in the same order.
  std::sort(out.begin(), out.end(), [](const QueuedUpdate& a, const QueuedUpdate& b) {
    return a.ordering != b.ordering ? a.ordering < b.ordering : a.name < b.name;
  });
  std::set<std::string> completed;
  for (const auto& d : dependencies) {
    bool queued = std::any_of(out.begin(), out.end(), [&](const QueuedUpdate& u) { return u.name == d; });
    if (!queued && has_completed(d)) completed.insert(d);
  }
  classify(out, completed);
  return out;
}

bool BackgroundQueue::has_completed(std::string_view name) {
  if (!table_exists(connection_, tables_.schema, tables_.log)) return false;
  return !connection_.query(fmt::format("SELECT 1 FROM {} WHERE update_name = $1 LIMIT 1", log_), {name})
              .rows.empty();
}

std::vector<CompletedUpdate> BackgroundQueue::completed(std::size_t limit) {
  std::vector<CompletedUpdate> out;
  if (!table_exists(connection_, tables_.schema, tables_.log)) return out;
  const Engine e = connection_.engine();
  auto rows = connection_.query(
      fmt::format("SELECT update_name, handler, progress_json, {}, {}, {}, batches, items, run_time_us FROM {} "
                  "ORDER BY completed_at DESC, update_name LIMIT $1",
                  detail::timestamp_sql(e, "queued_at"), detail::timestamp_sql(e, "started_at"),
                  detail::timestamp_sql(e, "completed_at"), log_),
      {static_cast<std::int64_t>(limit)});
  for (const auto& r : rows.rows) {
    CompletedUpdate c;
    c.name = r.get<std::string>(0);
    c.handler = r.get<std::optional<std::string>>(1).value_or("");
    c.progress = r.get<std::string>(2);
    c.queued_at = r.get<std::optional<std::string>>(3).value_or("");
    c.started_at = r.get<std::optional<std::string>>(4).value_or("");
    c.completed_at = r.get<std::optional<std::string>>(5).value_or("");
    c.batches = r.get<std::int64_t>(6);
    c.items = r.get<std::int64_t>(7);
    c.run_time_us = r.get<std::int64_t>(8);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace strata
