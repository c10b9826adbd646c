// strata/background.hpp: background updates, long data migrations that run
// in batches beside the live application, resume after a crash and show
// their progress (Synapse's background_updates).
//
// A migration queues an update with a plain INSERT into the queue table (see
// docs/background-updates.md for the SQL, the same on both engines); a
// BackgroundRunner then works through the queue, one batch at a time:
//
//   strata::BackgroundRunner runner(connection);
//   runner.add_handler("users_fill_search", [](strata::Connection& c, std::string_view progress,
//                                              std::int64_t batch_size) {
//     ...                           // process up to batch_size items after `progress`
//     return strata::BatchResult{items, new_progress_json, done};
//   });
//   runner.run();                   // to completion; or run({.budget = 30s})
//
// Progress is JSON text. strata stores it verbatim and hands it to the handler
// as stored, so an application can use any JSON library (strata's public API
// does not depend on one).
//
// Tables (PostgreSQL types; SQLite uses INTEGER/TEXT equivalents, timestamps
// as ISO-8601 text). Both are created by Migrator::up() beside the history
// table (MigratorOptions::background_queue), or by BackgroundQueue::ensure().
//
//   CREATE TABLE <schema>.strata_background_updates (      -- the queue
//     update_name    TEXT PRIMARY KEY,
//     handler        TEXT,             -- a built-in ("strata.sql_batches", ...);
//                                      -- NULL: the handler added under update_name
//     progress_json  TEXT NOT NULL DEFAULT '{}',
//     depends_on     TEXT,             -- runs only after this update completed
//     ordering       BIGINT NOT NULL DEFAULT 0,  -- runs in (ordering, update_name) order
//     queued_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
//     started_at     TIMESTAMPTZ,      -- when its first batch committed
//     updated_at     TIMESTAMPTZ,      -- when its last batch committed
//     batches        BIGINT NOT NULL DEFAULT 0,
//     items_done     BIGINT NOT NULL DEFAULT 0,
//     total_items    BIGINT,           -- the handler's estimate, for percent and ETA
//     run_time_us    BIGINT NOT NULL DEFAULT 0   -- time spent inside batches
//   )
//   CREATE TABLE <schema>.strata_background_updates_log (  -- completed updates
//     update_name, handler, progress_json (the final one), depends_on, ordering,
//     queued_at, started_at, completed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
//     batches, items, run_time_us
//   )
//
// Exactly once: a batch of a transactional handler (the default) runs inside
// one transaction together with the update of its queue row (or, for the last
// batch, the move of the row to the log), so a crash never loses or repeats a
// batch. The runner locks the queue row first (SELECT ... FOR UPDATE on
// PostgreSQL; BEGIN IMMEDIATE on SQLite), so two runners on one database
// never run the same batch twice either.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace strata {

class Connection;

// Where the two tables live. Names are validated like the history table's
// and always quoted.
struct BackgroundTables {
  // PostgreSQL schema (ignored on SQLite). Empty: "public", except in
  // MigratorOptions, where empty means the history table's schema.
  std::string schema;
  std::string queue = "strata_background_updates";
  std::string log = "strata_background_updates_log";
};

// The names of the built-in handlers, for the queue's `handler` column.
// Each reads its parameters from the progress JSON (docs/background-updates.md).
namespace builtin_handler {
// {"table", "key", "sql", ["last"], ["max"]}: runs `sql` (an UPDATE or DELETE
// with $1 < key <= $2) over consecutive key ranges of batch_size rows.
inline constexpr std::string_view sql_batches = "strata.sql_batches";
// {"table", "index", "columns": [...], ["unique"], ["where"], ["schema"]}:
// PostgreSQL CREATE INDEX CONCURRENTLY outside a transaction, after dropping
// an invalid leftover of the same name; SQLite CREATE INDEX IF NOT EXISTS.
inline constexpr std::string_view create_index = "strata.create_index";
// {"table", "constraint", ["schema"]}: PostgreSQL ALTER TABLE .. VALIDATE
// CONSTRAINT for a constraint added NOT VALID. Not offered on SQLite, which
// cannot add a constraint to an existing table (Error{usage}).
inline constexpr std::string_view validate_constraint = "strata.validate_constraint";
}  // namespace builtin_handler

// Whether `name` is one of the built-in handlers above.
bool is_builtin_handler(std::string_view name);

// What a handler returns for one batch.
struct BatchResult {
  std::int64_t items = 0;         // items processed by this batch (for rate and sizing)
  std::string progress;           // the new progress JSON, stored for the next batch
  bool done = false;              // true: the update is complete and leaves the queue
  // The handler's estimate of the whole update's item count, when it knows
  // one (kept in total_items for percent and ETA); nullopt keeps the last.
  std::optional<std::int64_t> total_items;
};

// A handler runs one batch: `progress` is the stored progress JSON, and
// `batch_size` how many items to process (a hint sized to the target
// duration; a handler may do fewer, and must return done when nothing is
// left). A transactional handler runs inside the batch's transaction: it
// must not commit or roll back that transaction itself (a nested
// strata::Transaction, i.e. a savepoint, is fine). An exception rolls the
// batch back and leaves the progress as it was.
using BatchHandler =
    std::function<BatchResult(Connection& connection, std::string_view progress, std::int64_t batch_size)>;

enum class HandlerMode {
  // The batch and its progress commit in one transaction (exactly once).
  transactional,
  // The handler runs outside any transaction (CREATE INDEX CONCURRENTLY);
  // its progress is written afterwards in a transaction of its own, so after
  // a crash between the two the batch runs again: such a handler must be
  // idempotent. On PostgreSQL the runner holds a session advisory lock for
  // the update while the handler runs, so two runners never run it at once.
  outside_transaction,
};

// The state of a queued update with respect to its dependency.
enum class UpdateState {
  runnable,            // no dependency, or its dependency has completed
  waiting,             // its dependency is still queued
  cycle,               // its dependency chain loops back to itself
  unknown_dependency,  // it depends on an update neither queued nor completed
};
const char* to_string(UpdateState state) noexcept;

// One row of the queue, as BackgroundQueue::list() reads it.
struct QueuedUpdate {
  std::string name;
  std::string handler;  // empty: NULL, the handler added under `name`
  std::string progress;
  std::optional<std::string> depends_on;
  std::int64_t ordering = 0;
  std::string queued_at, started_at, updated_at;  // UTC text; empty when not yet
  std::int64_t batches = 0;
  std::int64_t items_done = 0;
  std::optional<std::int64_t> total_items;
  std::int64_t run_time_us = 0;

  UpdateState state = UpdateState::runnable;
  std::string state_detail;  // for cycle/unknown_dependency: a sentence naming the problem

  // The handler that runs it: `handler`, or `name` when handler is empty.
  const std::string& handler_name() const { return handler.empty() ? name : handler; }
  // Items per second of batch time, once a batch has run.
  std::optional<double> rate() const;
  // Percent done, when total_items is known.
  std::optional<double> percent() const;
  // Time left at the measured rate, when total_items is known.
  std::optional<std::chrono::seconds> eta() const;
};

// One row of the log of completed updates.
struct CompletedUpdate {
  std::string name;
  std::string handler;
  std::string progress;  // the final progress
  std::string queued_at, started_at, completed_at;
  std::int64_t batches = 0;
  std::int64_t items = 0;
  std::int64_t run_time_us = 0;
};

// What a code migration (or an application) queues; the same as the
// documented INSERT.
struct NewUpdate {
  std::string name;
  std::string handler;          // empty: NULL
  std::string progress = "{}";  // JSON text
  std::optional<std::string> depends_on;
  std::int64_t ordering = 0;
};

// Reads and writes the two tables on one borrowed connection. Not
// thread-safe.
class BackgroundQueue {
 public:
  // Validates the names; throws Error{ErrorKind::config}.
  BackgroundQueue(Connection& connection, BackgroundTables tables = {});

  const std::string& qualified_queue() const noexcept { return queue_; }
  const std::string& qualified_log() const noexcept { return log_; }

  bool exists();
  // Creates the schema (PostgreSQL) and both tables if missing.
  void ensure();
  // The CREATE TABLE IF NOT EXISTS statements ensure() runs, ';'-separated.
  std::string ensure_sql() const;

  // Queues an update (the documented INSERT). Error{sql} if the name is taken.
  void enqueue(const NewUpdate& update);
  // Every queued update in run order (ordering, then name), with its state.
  // An absent queue table reads as empty.
  std::vector<QueuedUpdate> list();
  // Completed updates, most recent first (at most `limit`).
  std::vector<CompletedUpdate> completed(std::size_t limit = 100);
  // Whether an update of this name has completed.
  bool has_completed(std::string_view name);

 private:
  friend class BackgroundRunner;
  Connection& connection_;
  BackgroundTables tables_;
  std::string queue_, log_;
};

// One committed batch, for progress output and the batch-size trace.
struct BatchReport {
  std::string update;
  std::string handler;
  std::int64_t batch_size = 0;  // asked of the handler
  std::int64_t items = 0;       // done by this batch
  std::chrono::microseconds duration{0};  // the whole batch, commit included
  // The update's totals after this batch, over every run so far.
  std::int64_t items_done = 0;
  std::optional<std::int64_t> total_items;
  std::int64_t run_time_us = 0;
  std::int64_t batches = 0;
  bool done = false;
};

struct RunnerOptions {
  BackgroundTables tables;
  // Batch sizing: each batch aims to take `target_duration`. The next size is
  // target_duration times the measured throughput (items per second, a
  // moving average over the update's batches), grown at most 4x per batch,
  // and clamped to [min_batch_size, max_batch_size]. An update that already
  // ran starts from its recorded throughput; a new one from
  // initial_batch_size.
  std::chrono::milliseconds target_duration{100};
  std::int64_t min_batch_size = 1;
  std::int64_t max_batch_size = 1'000'000;
  std::int64_t initial_batch_size = 100;
  // A pause after each batch, leaving the database to the application.
  std::chrono::milliseconds pause_between_batches{0};
  // Called after each batch commits (on the runner's thread).
  std::function<void(const BatchReport&)> on_batch;
  // Called when the runner first meets a runnable update it has no handler
  // for (its handler lives in another program).
  std::function<void(const QueuedUpdate&)> on_missing_handler;
};

struct RunLimits {
  // Start no batch after this much time (measured from the call); nullopt:
  // run until nothing runnable is left.
  std::optional<std::chrono::milliseconds> budget;
  // Stop after this many batches (for tests and stepping); nullopt: no limit.
  std::optional<std::int64_t> max_batches;
};

struct RunSummary {
  std::int64_t batches = 0;
  std::int64_t items = 0;
  std::vector<std::string> completed;        // in completion order
  // Queued updates this runner has no handler for (runnable, but their
  // handler lives in the application), and those waiting on them.
  std::vector<std::string> missing_handler;
  std::vector<std::string> blocked;
  bool stopped = false;           // request_stop() ended the run
  bool budget_exhausted = false;  // the budget or max_batches ended it
  // True when the run ended because nothing runnable was left and the queue
  // still holds updates (missing_handler and blocked name them).
  bool is_blocked() const { return !missing_handler.empty() && !stopped && !budget_exhausted; }
  // Throws Error{ErrorKind::blocked} naming the updates, when is_blocked().
  void throw_if_blocked() const;
};

// Works through the queue on one borrowed connection, which must not be in a
// transaction. Not thread-safe, except request_stop(). To run in a thread of
// the application, give the runner a connection of its own (BackgroundThread
// does).
class BackgroundRunner {
 public:
  // Validates the table names (Error{config}).
  explicit BackgroundRunner(Connection& connection, RunnerOptions options = {});

  // Adds (or replaces) the handler for updates named `name` (or whose
  // handler column names it). Built-in handler names are reserved
  // (Error{usage}).
  void add_handler(std::string name, BatchHandler handler, HandlerMode mode = HandlerMode::transactional);
  // Whether this runner can run updates of that handler name.
  bool has_handler(std::string_view name) const;

  // Runs batches until nothing runnable is left, the budget is spent, or a
  // stop is requested; each batch picks the first runnable update in
  // (ordering, name) order that has a handler here. Throws
  // Error{ErrorKind::validation} before running anything when the queue
  // holds a dependency cycle or a dependency on an update that is neither
  // queued nor completed; rethrows a handler's failure (an Error gets the
  // update's name as context, other exceptions become Error{sql}) after its
  // batch was rolled back.
  RunSummary run(const RunLimits& limits = {});

  // Asks run() to return before its next batch (a batch in progress
  // finishes and commits). Thread-safe and async-signal-safe; sticky until
  // clear_stop().
  void request_stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  void clear_stop() noexcept { stop_.store(false, std::memory_order_relaxed); }
  bool stop_requested() const noexcept { return stop_.load(std::memory_order_relaxed); }

  BackgroundQueue& queue() { return queue_; }

 private:
  struct Registered {
    BatchHandler handler;
    HandlerMode mode;
  };
  struct Sizing {
    double throughput = 0;  // items per second, smoothed; 0 = unknown
    std::int64_t size = 0;
  };
  const Registered* find(std::string_view name) const;
  std::int64_t next_size(const QueuedUpdate& u);
  void adapt(const std::string& name, const BatchReport& report);
  // Runs one batch of `u`; returns its report (items 0, done false and
  // batch_size 0 when another runner completed it meanwhile).
  BatchReport run_batch(const QueuedUpdate& u, const Registered& r, std::int64_t size);
  bool pause();

  Connection& connection_;
  RunnerOptions options_;
  BackgroundQueue queue_;
  std::map<std::string, Registered, std::less<>> handlers_;
  std::map<std::string, Sizing, std::less<>> sizing_;
  std::atomic<bool> stop_{false};
};

// A runner on a std::thread of its own, with its own connection:
//
//   strata::BackgroundThread worker(strata::connect(url));
//   worker.runner().add_handler("users_fill_search", fill_search);
//   worker.start();
//   ...
//   worker.stop();  // returns between batches; rethrows the thread's error
//
// The destructor stops and joins the thread without throwing.
class BackgroundThread {
 public:
  explicit BackgroundThread(std::unique_ptr<Connection> connection, RunnerOptions options = {});
  ~BackgroundThread();
  BackgroundThread(const BackgroundThread&) = delete;
  BackgroundThread& operator=(const BackgroundThread&) = delete;

  // REQUIRES: start() not called yet (add handlers here first).
  BackgroundRunner& runner() { return *runner_; }
  // Starts run(limits) on the thread. Error{usage} if already started.
  void start(RunLimits limits = {});
  // Whether the thread is still running batches.
  bool running() const noexcept { return running_.load(); }
  // Asks the thread to stop between batches, joins it, and returns its
  // summary; rethrows what the run threw. Without start(): an empty summary.
  RunSummary stop();
  // Joins without asking it to stop (the queue drains, or the budget ends).
  RunSummary wait();

 private:
  RunSummary join();

  std::unique_ptr<Connection> connection_;
  std::unique_ptr<BackgroundRunner> runner_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  RunSummary summary_;
  std::exception_ptr error_;
};

}  // namespace strata
