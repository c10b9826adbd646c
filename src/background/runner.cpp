// The runner: picks updates, sizes and runs their batches, and the thread
// that runs it inside an application.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <thread>
#include <utility>

#include "background/builtin.hpp"
#include "background/tables.hpp"
#include "migration/lock.hpp"
#include "strata/background.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/transaction.hpp"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// PostgreSQL: a session advisory lock on one update, held while an
// outside-transaction handler runs. Waits for a holder (another runner, or
// the backend of a killed one still finishing its statement) by polling
// pg_try_advisory_lock with backoff: a session blocked in pg_advisory_lock
// holds a snapshot, which the holder's CREATE INDEX CONCURRENTLY would wait
// for (a deadlock). Gives up, leaving held() false, when `stop` says so.
class UpdateLock {
 public:
  UpdateLock(Connection& c, const BackgroundTables& tables, const std::string& update,
             const std::function<bool()>& stop)
      : connection_(c) {
    if (c.engine() != Engine::postgres) {
      held_ = true;  // nothing to take
      return;
    }
    std::string database = c.query("SELECT current_database()").rows.at(0).get<std::string>(0);
    key_ = advisory_lock_key(database, tables.schema.empty() ? "public" : tables.schema, tables.queue + "/" + update);
    auto delay = std::chrono::milliseconds(10);
    while (!c.query("SELECT pg_try_advisory_lock($1)", {key_}).rows.at(0).get<bool>(0)) {
      if (stop()) return;
      std::this_thread::sleep_for(delay);
      delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    }
    locked_ = held_ = true;
  }
  bool held() const { return held_; }
  ~UpdateLock() {
    if (!locked_) return;
    try {
      connection_.query("SELECT pg_advisory_unlock($1)", {key_});
    } catch (...) {
      // The session ends with the connection, and the lock with it.
    }
  }
  UpdateLock(const UpdateLock&) = delete;
  UpdateLock& operator=(const UpdateLock&) = delete;

 private:
  Connection& connection_;
  std::int64_t key_ = 0;
  bool locked_ = false;  // an advisory lock to release
  bool held_ = false;
};

}  // namespace

void RunSummary::throw_if_blocked() const {
  if (!is_blocked()) return;
  std::string message = fmt::format(
      "background updates cannot run here: no handler for {} (their handlers live in the application, which "
      "runs them with strata::BackgroundRunner)",
      join(missing_handler));
  if (!blocked.empty()) message += fmt::format("; waiting on them: {}", join(blocked));
  throw Error(ErrorKind::blocked, message);
}

BackgroundRunner::BackgroundRunner(Connection& connection, RunnerOptions options)
    : connection_(connection), options_(std::move(options)), queue_(connection, options_.tables) {
  if (options_.min_batch_size < 1) throw Error(ErrorKind::usage, "the minimum batch size must be at least 1");
  if (options_.max_batch_size < options_.min_batch_size) {
    throw Error(ErrorKind::usage, fmt::format("the maximum batch size ({}) is below the minimum ({})",
                                              options_.max_batch_size, options_.min_batch_size));
  }
  if (options_.target_duration.count() <= 0) throw Error(ErrorKind::usage, "the target batch duration must be positive");
  options_.initial_batch_size =
      std::clamp(options_.initial_batch_size, options_.min_batch_size, options_.max_batch_size);
}

void BackgroundRunner::add_handler(std::string name, BatchHandler handler, HandlerMode mode) {
  if (is_builtin_handler(name)) {
    throw Error(ErrorKind::usage, fmt::format("'{}' is a built-in handler name and cannot be replaced", name));
  }
  if (!handler) throw Error(ErrorKind::usage, fmt::format("the handler for '{}' is empty", name));
  handlers_[std::move(name)] = Registered{std::move(handler), mode};
}

const BackgroundRunner::Registered* BackgroundRunner::find(std::string_view name) const {
  auto it = handlers_.find(name);
  if (it != handlers_.end()) return &it->second;
  return nullptr;
}

bool BackgroundRunner::has_handler(std::string_view name) const {
  return find(name) != nullptr || is_builtin_handler(name);
}

std::int64_t BackgroundRunner::next_size(const QueuedUpdate& u) {
  Sizing& s = sizing_[u.name];
  if (s.size == 0) {
    // A fresh start of an update that already ran (another run, a crash)
    // begins at its recorded throughput.
    if (auto rate = u.rate()) {
      s.throughput = *rate;
      double seconds = std::chrono::duration<double>(options_.target_duration).count();
      s.size = std::llround(std::clamp(seconds * *rate, static_cast<double>(options_.min_batch_size),
                                       static_cast<double>(options_.max_batch_size)));
    } else {
      s.size = options_.initial_batch_size;
    }
  }
  return s.size;
}

void BackgroundRunner::adapt(const std::string& name, const BatchReport& report) {
  Sizing& s = sizing_[name];
  if (report.items <= 0 || report.duration.count() <= 0) return;  // nothing learnt
  double measured = static_cast<double>(report.items) / std::chrono::duration<double>(report.duration).count();
  // Slow down at once, speed up gradually: a batch far over target hurts the
  // application, one under it only costs a little throughput.
  s.throughput = (s.throughput <= 0 || measured < s.throughput) ? measured : 0.5 * s.throughput + 0.5 * measured;
  double wanted = std::chrono::duration<double>(options_.target_duration).count() * s.throughput;
  wanted = std::min(wanted, 4.0 * static_cast<double>(report.batch_size));
  s.size = std::llround(std::clamp(wanted, static_cast<double>(options_.min_batch_size),
                                   static_cast<double>(options_.max_batch_size)));
}

BatchReport BackgroundRunner::run_batch(const QueuedUpdate& u, const Registered& r, std::int64_t size) {
  const Engine engine = connection_.engine();
  const std::string& queue = queue_.qualified_queue();
  const std::string& log = queue_.qualified_log();
  BatchReport report;
  report.update = u.name;
  report.handler = u.handler_name();

  const auto start = Clock::now();
  auto read_row = [&] {
    return connection_.query(fmt::format("SELECT progress_json, items_done, total_items, run_time_us, batches "
                                         "FROM {} WHERE update_name = $1{}",
                                         queue,
                                         detail::for_update_sql(engine)),
                             {u.name});
  };
  auto call = [&](const std::string& progress) {
    BatchResult result;
    try {
      result = r.handler(connection_, progress, size);
    } catch (Error& e) {
      e.context(fmt::format("background update '{}' ({}) failed", u.name, u.handler_name()));
      throw;
    } catch (const std::exception& e) {
      throw Error(ErrorKind::sql,
                  fmt::format("background update '{}' ({}) failed: {}", u.name, u.handler_name(), e.what()));
    }
    if (result.items < 0) {
      throw Error(ErrorKind::usage, fmt::format("background update '{}': its handler returned {} items",
                                                u.name, result.items));
    }
    if (result.progress.empty()) result.progress = progress;
    detail::require_json(result.progress, fmt::format("the progress background update '{}' returned", u.name));
    return result;
  };
  // Records the batch: the new progress and totals, or, for the last batch,
  // the move from the queue to the log. REQUIRES: inside the transaction.
  auto record = [&](const BatchResult& result) {
    std::int64_t us = since(start).count();
    auto now = detail::now_sql(engine);
    if (result.done) {
      connection_.execute(
          fmt::format("INSERT INTO {log} (update_name, handler, progress_json, depends_on, ordering, queued_at, "
                      "started_at, completed_at, batches, items, run_time_us) "
                      "SELECT update_name, handler, $1, depends_on, ordering, queued_at, coalesce(started_at, {now}), "
                      "{now}, batches + 1, items_done + $2, run_time_us + $3 FROM {queue} WHERE update_name = $4",
                      fmt::arg("log", log), fmt::arg("queue", queue), fmt::arg("now", now)),
          {result.progress, result.items, us, u.name});
      connection_.execute(fmt::format("DELETE FROM {} WHERE update_name = $1", queue), {u.name});
    } else {
      connection_.execute(
          fmt::format("UPDATE {queue} SET progress_json = $1, items_done = items_done + $2, batches = batches + 1, "
                      "run_time_us = run_time_us + $3, total_items = coalesce($4, total_items), "
                      "started_at = coalesce(started_at, {now}), updated_at = {now} WHERE update_name = $5",
                      fmt::arg("queue", queue), fmt::arg("now", now)),
          {result.progress, result.items, us, Value(result.total_items), u.name});
    }
  };

  BatchResult result;
  std::optional<Row> before;  // the queue row as the batch found it
  if (r.mode == HandlerMode::transactional) {
    Transaction tx(connection_);
    auto row = read_row();
    if (row.rows.empty()) return report;  // completed by another runner meanwhile
    before = row.rows.at(0);
    result = call(before->get<std::string>(0));
    record(result);
    tx.commit();
  } else {
    UpdateLock lock(connection_, options_.tables, u.name, [this] { return stop_requested(); });
    if (!lock.held()) return report;  // stopped while another session held it
    auto row = read_row();
    if (row.rows.empty()) return report;
    before = row.rows.at(0);
    result = call(before->get<std::string>(0));
    Transaction tx(connection_);
    if (read_row().rows.empty()) return report;
    record(result);
    tx.commit();
  }
  report.batch_size = size;
  report.items = result.items;
  report.duration = since(start);
  report.done = result.done;
  report.items_done = before->get<std::int64_t>(1) + result.items;
  report.total_items = result.total_items ? result.total_items : before->get<std::optional<std::int64_t>>(2);
  report.run_time_us = before->get<std::int64_t>(3) + report.duration.count();
  report.batches = before->get<std::int64_t>(4) + 1;
  return report;
}

bool BackgroundRunner::pause() {
  const auto end = Clock::now() + options_.pause_between_batches;
  while (!stop_requested()) {
    auto now = Clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(end - now, std::chrono::milliseconds(20)));
  }
  return false;
}

RunSummary BackgroundRunner::run(const RunLimits& limits) {
  if (connection_.transaction_depth() > 0 || connection_.in_transaction()) {
    throw Error(ErrorKind::usage, "BackgroundRunner::run needs a connection outside any transaction");
  }
  const auto start = Clock::now();
  RunSummary summary;
  std::set<std::string> announced;  // updates on_missing_handler was called for
  while (true) {
    if (stop_requested()) {
      summary.stopped = true;
      break;
    }
    if ((limits.budget && since(start) >= *limits.budget) ||
        (limits.max_batches && summary.batches >= *limits.max_batches)) {
      summary.budget_exhausted = true;
      break;
    }
    std::vector<QueuedUpdate> queue = queue_.list();
    std::string problems;
    for (const auto& u : queue) {
      if (u.state == UpdateState::cycle || u.state == UpdateState::unknown_dependency) {
        problems += (problems.empty() ? "" : "\n") + u.state_detail;
      }
    }
    if (!problems.empty()) throw Error(ErrorKind::validation, problems);

    const QueuedUpdate* pick = nullptr;
    const Registered* registered = nullptr;
    std::optional<detail::Builtin> builtin;
    summary.missing_handler.clear();
    summary.blocked.clear();
    for (const auto& u : queue) {
      if (u.state != UpdateState::runnable) {
        summary.blocked.push_back(u.name);
        continue;
      }
      const Registered* found = find(u.handler_name());
      auto b = found == nullptr ? detail::find_builtin(u.handler_name(), connection_.engine()) : std::nullopt;
      if (found == nullptr && !b) {
        summary.missing_handler.push_back(u.name);
        if (announced.insert(u.name).second && options_.on_missing_handler) options_.on_missing_handler(u);
        continue;
      }
      if (pick == nullptr) {
        pick = &u;
        registered = found;
        builtin = std::move(b);
      }
    }
    if (pick == nullptr) break;
    summary.missing_handler.clear();
    summary.blocked.clear();

    Registered from_builtin;
    if (registered == nullptr) {
      from_builtin = Registered{builtin->handler, builtin->mode};
      registered = &from_builtin;
    }
    BatchReport report = run_batch(*pick, *registered, next_size(*pick));
    if (report.batch_size == 0) continue;  // another runner finished it first
    ++summary.batches;
    summary.items += report.items;
    if (report.done) {
      summary.completed.push_back(report.update);
      sizing_.erase(report.update);
    } else {
      adapt(report.update, report);
    }
    if (options_.on_batch) options_.on_batch(report);
    if (options_.pause_between_batches.count() > 0 && !pause()) {
      summary.stopped = true;
      break;
    }
  }
  return summary;
}

BackgroundThread::BackgroundThread(std::unique_ptr<Connection> connection, RunnerOptions options)
    : connection_(std::move(connection)) {
  if (!connection_) throw Error(ErrorKind::usage, "BackgroundThread needs a connection");
  runner_ = std::make_unique<BackgroundRunner>(*connection_, std::move(options));
}

BackgroundThread::~BackgroundThread() {
  if (!thread_.joinable()) return;
  runner_->request_stop();
  thread_.join();
}

void BackgroundThread::start(RunLimits limits) {
  if (thread_.joinable()) throw Error(ErrorKind::usage, "BackgroundThread::start: already started");
  running_ = true;
  thread_ = std::thread([this, limits] {
    try {
      summary_ = runner_->run(limits);
    } catch (...) {
      error_ = std::current_exception();
    }
    running_ = false;
  });
}

RunSummary BackgroundThread::join() {
  if (!thread_.joinable()) return summary_;
  thread_.join();
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return summary_;
}

RunSummary BackgroundThread::stop() {
  runner_->request_stop();
  return join();
}

RunSummary BackgroundThread::wait() { return join(); }

}  // namespace strata
