// strata bg status / strata bg run: the background-update queue.
//
// The CLI runs only the built-in handlers (strata.sql_batches,
// strata.create_index, strata.validate_constraint); an update whose handler
// lives in the application is named, and `bg run` exits with the blocked code
// when that is all that is left.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>

#include "common.hpp"
#include "strata/background.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

std::string count_text(double n) {
  if (n >= 1e9) return fmt::format("{:.1f}G", n / 1e9);
  if (n >= 1e6) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 1e4) return fmt::format("{:.0f}k", n / 1e3);
  return fmt::format("{:.0f}", n);
}

std::string eta_text(std::chrono::seconds s) {
  auto n = s.count();
  if (n < 60) return fmt::format("{}s", n);
  if (n < 3600) return fmt::format("{}m{:02}s", n / 60, n % 60);
  return fmt::format("{}h{:02}m", n / 3600, (n % 3600) / 60);
}

// Rate and ETA of an update from its totals.
struct Pace {
  std::optional<double> rate;  // items per second of batch time
  std::optional<double> percent;
  std::optional<std::chrono::seconds> eta;
};

Pace pace_of(std::int64_t items_done, std::optional<std::int64_t> total, std::int64_t run_time_us) {
  QueuedUpdate u;
  u.items_done = items_done;
  u.total_items = total;
  u.run_time_us = run_time_us;
  return Pace{u.rate(), u.percent(), u.eta()};
}

std::string progress_text(std::int64_t done, std::optional<std::int64_t> total, const Pace& p) {
  std::string out = total ? fmt::format("{}/{} items ({:.1f}%)", done, *total, p.percent.value_or(0))
                          : fmt::format("{} items", done);
  if (p.rate) out += fmt::format(", {} items/s", count_text(*p.rate));
  if (p.eta) out += ", ETA " + eta_text(*p.eta);
  return out;
}

std::string cannot_run_text(const QueuedUpdate& u) {
  return fmt::format(
      "cannot run '{}' here: its handler '{}' lives in the application (it is not a built-in handler); "
      "the application runs it with strata::BackgroundRunner",
      u.name, u.handler_name());
}

std::string completed_text(const BatchReport& b) {
  return fmt::format("{}: completed: {} items in {} batch{}, {} in batches", b.update, b.items_done, b.batches,
                     b.batches == 1 ? "" : "es", human_duration(std::chrono::microseconds(b.run_time_us)));
}

// ------------------------------------------------------------------ status

struct StatusCommand {
  CommonOptions common;
  std::size_t completed = 5;
};

std::string state_text(const QueuedUpdate& u) {
  switch (u.state) {
    case UpdateState::runnable:
      return is_builtin_handler(u.handler_name()) ? "runnable" : "runnable by the application";
    case UpdateState::waiting: return "waiting for " + u.depends_on.value_or("?");
    case UpdateState::cycle: return "ERROR: dependency cycle";
    case UpdateState::unknown_dependency: return "ERROR: unknown dependency " + u.depends_on.value_or("?");
  }
  return "";
}

nlohmann::json progress_json(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

void run_status(StatusCommand& cmd) {
  apply_config(cmd.common);
  auto connection = open_database(cmd.common);
  BackgroundQueue queue(*connection, background_tables(cmd.common));
  const bool exists = queue.exists();
  std::vector<QueuedUpdate> updates = queue.list();
  std::vector<CompletedUpdate> completed = queue.completed(cmd.completed);

  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& u : updates) {
      nlohmann::json j{{"name", u.name},
                       {"handler", u.handler_name()},
                       {"builtin", is_builtin_handler(u.handler_name())},
                       {"progress", progress_json(u.progress)},
                       {"ordering", u.ordering},
                       {"state", to_string(u.state)},
                       {"batches", u.batches},
                       {"items_done", u.items_done},
                       {"run_time_us", u.run_time_us},
                       {"queued_at", u.queued_at}};
      j["depends_on"] = u.depends_on ? nlohmann::json(*u.depends_on) : nlohmann::json(nullptr);
      j["total_items"] = u.total_items ? nlohmann::json(*u.total_items) : nlohmann::json(nullptr);
      j["percent"] = u.percent() ? nlohmann::json(*u.percent()) : nlohmann::json(nullptr);
      j["rate_per_second"] = u.rate() ? nlohmann::json(*u.rate()) : nlohmann::json(nullptr);
      j["eta_seconds"] = u.eta() ? nlohmann::json(u.eta()->count()) : nlohmann::json(nullptr);
      if (!u.started_at.empty()) j["started_at"] = u.started_at;
      if (!u.updated_at.empty()) j["updated_at"] = u.updated_at;
      if (!u.state_detail.empty()) j["problem"] = u.state_detail;
      list.push_back(std::move(j));
    }
    nlohmann::json done = nlohmann::json::array();
    for (const auto& c : completed) {
      done.push_back({{"name", c.name},
                      {"handler", c.handler.empty() ? c.name : c.handler},
                      {"progress", progress_json(c.progress)},
                      {"batches", c.batches},
                      {"items", c.items},
                      {"run_time_us", c.run_time_us},
                      {"started_at", c.started_at},
                      {"completed_at", c.completed_at}});
    }
    print_json({{"database", connection->redacted_url()},
                {"queue_exists", exists},
                {"queue", list},
                {"recently_completed", done}});
    return;
  }

  fmt::print("Database: {}\n", connection->redacted_url());
  if (!exists) {
    fmt::print("No background updates: the queue table does not exist yet (`strata up` creates it).\n");
    return;
  }
  if (updates.empty()) {
    fmt::print("No background updates queued.\n");
  } else {
    std::size_t name_width = 4, handler_width = 7;
    for (const auto& u : updates) {
      name_width = std::max(name_width, u.name.size());
      handler_width = std::max(handler_width, u.handler_name().size());
    }
    fmt::print("\n{:<{}}  {:<{}}  {:<30}  {:>9}  {:>7}  {}\n", "NAME", name_width, "HANDLER", handler_width,
               "PROGRESS", "RATE/S", "ETA", "STATE");
    for (const auto& u : updates) {
      std::string progress = u.total_items ? fmt::format("{}/{} ({:.1f}%)", u.items_done, *u.total_items,
                                                         u.percent().value_or(0))
                                           : (u.batches > 0 ? std::to_string(u.items_done) : "not started");
      fmt::print("{:<{}}  {:<{}}  {:<30}  {:>9}  {:>7}  {}\n", u.name, name_width, u.handler_name(), handler_width,
                 progress, u.rate() ? count_text(*u.rate()) : "-", u.eta() ? eta_text(*u.eta()) : "-",
                 state_text(u));
    }
    fmt::print("\n{} queued.\n", updates.size());
    for (const auto& u : updates) {
      if (!u.state_detail.empty()) fmt::print("Problem: {}\n", u.state_detail);
    }
    for (const auto& u : updates) {
      if (u.state == UpdateState::runnable && !is_builtin_handler(u.handler_name())) {
        fmt::print("Note: {}.\n", cannot_run_text(u));
      }
    }
  }
  if (!completed.empty()) {
    fmt::print("\nRecently completed:\n");
    for (const auto& c : completed) {
      fmt::print("  {}  {} items in {} batch{}, {} in batches, completed {}\n", c.name, c.items, c.batches,
                 c.batches == 1 ? "" : "es", human_duration(std::chrono::microseconds(c.run_time_us)),
                 c.completed_at.substr(0, 19));
    }
  }
}

// ------------------------------------------------------------------ run

struct RunCommand {
  CommonOptions common;
  std::optional<double> budget_s;
  std::int64_t target_ms = 100;
  std::int64_t min_batch = 1;
  std::int64_t max_batch = 1'000'000;
  std::int64_t pause_ms = 0;
  bool trace = false;
};

std::atomic<BackgroundRunner*> g_signalled_runner{nullptr};

extern "C" void stop_on_signal(int) {
  if (BackgroundRunner* r = g_signalled_runner.load()) r->request_stop();
}

// SIGINT/SIGTERM ask the runner to stop between batches; a second one kills
// (SA_RESETHAND restores the default).
class StopOnSignal {
 public:
  explicit StopOnSignal(BackgroundRunner& runner) {
    g_signalled_runner = &runner;
    struct sigaction sa {};
    sa.sa_handler = stop_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopOnSignal() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_signalled_runner = nullptr;
  }
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Progress output: a bar redrawn in place on a terminal, otherwise a log
// line per update at most once a second (every batch with --trace), always
// one when an update completes.
class ProgressView {
 public:
  ProgressView(std::FILE* out, bool tty, bool trace) : out_(out), tty_(tty), trace_(trace) {}

  void batch(const BatchReport& b) {
    Pace p = pace_of(b.items_done, b.total_items, b.run_time_us);
    const auto now = Clock::now();
    if (tty_) {
      if (b.done || now - last_draw_ >= std::chrono::milliseconds(100)) {
        draw(b, p);
        last_draw_ = now;
      }
      if (b.done) {
        clear_line();
        fmt::print(out_, "{}\n", completed_text(b));
      }
    } else {
      auto& last = last_line_[b.update];
      if (trace_ || b.done || last == Clock::time_point{} || now - last >= std::chrono::seconds(1)) {
        if (b.done) {
          fmt::print(out_, "{}\n", completed_text(b));
        } else {
          fmt::print(out_, "{}: {}; batch of {} took {}\n", b.update, progress_text(b.items_done, b.total_items, p),
                     b.items, human_duration(b.duration));
        }
        last = now;
      }
    }
    std::fflush(out_);
  }

  void note(const std::string& line) {
    clear_line();
    fmt::print(out_, "{}\n", line);
    std::fflush(out_);
  }

  void finish() { clear_line(); }

 private:
  void draw(const BatchReport& b, const Pace& p) {
    constexpr int width = 30;
    double fraction = p.percent ? *p.percent / 100.0 : 0.0;
    int filled = static_cast<int>(std::lround(fraction * width));
    std::string bar = p.percent ? std::string(filled, '#') + std::string(width - filled, '-') : std::string(width, '?');
    fmt::print(out_, "\r\x1b[2K{} [{}] {} | batch {}", b.update, bar, progress_text(b.items_done, b.total_items, p),
               b.batch_size);
    drawn_ = true;
  }
  void clear_line() {
    if (tty_ && drawn_) fmt::print(out_, "\r\x1b[2K");
    drawn_ = false;
  }

  std::FILE* out_;
  bool tty_;
  bool trace_;
  bool drawn_ = false;
  Clock::time_point last_draw_{};
  std::map<std::string, Clock::time_point> last_line_;
};

void run_run(RunCommand& cmd) {
  apply_config(cmd.common);
  auto connection = open_database(cmd.common);
  const bool json = cmd.common.json;
  // With --json, stdout holds only the final document; progress goes to stderr.
  std::FILE* out = json ? stderr : stdout;
  ProgressView view(out, ::isatty(::fileno(out)) == 1, cmd.trace);

  nlohmann::json trace = nlohmann::json::array();
  RunnerOptions options;
  options.tables = background_tables(cmd.common);
  options.target_duration = std::chrono::milliseconds(cmd.target_ms);
  options.min_batch_size = cmd.min_batch;
  options.max_batch_size = cmd.max_batch;
  options.pause_between_batches = std::chrono::milliseconds(cmd.pause_ms);
  options.on_batch = [&](const BatchReport& b) {
    view.batch(b);
    if (json) {
      trace.push_back({{"update", b.update},
                       {"batch_size", b.batch_size},
                       {"items", b.items},
                       {"duration_us", b.duration.count()},
                       {"items_done", b.items_done},
                       {"done", b.done}});
    }
  };
  options.on_missing_handler = [&](const QueuedUpdate& u) { view.note(cannot_run_text(u)); };
  BackgroundRunner runner(*connection, options);

  RunLimits limits;
  if (cmd.budget_s) limits.budget = std::chrono::milliseconds(std::llround(*cmd.budget_s * 1000));
  const auto start = Clock::now();
  if (!json) {
    fmt::print("Running background updates on {} (batches of about {} ms{})\n", connection->redacted_url(),
               cmd.target_ms, cmd.budget_s ? fmt::format(", for at most {} s", *cmd.budget_s) : "");
    std::fflush(stdout);
  }
  RunSummary summary;
  {
    StopOnSignal signals(runner);
    summary = runner.run(limits);
  }
  view.finish();
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  std::size_t remaining = runner.queue().list().size();
  summary.throw_if_blocked();

  if (json) {
    print_json({{"database", connection->redacted_url()},
                {"batches", summary.batches},
                {"items", summary.items},
                {"completed", summary.completed},
                {"missing_handler", summary.missing_handler},
                {"blocked", summary.blocked},
                {"stopped", summary.stopped},
                {"budget_exhausted", summary.budget_exhausted},
                {"remaining", remaining},
                {"elapsed_us", elapsed.count()},
                {"trace", trace}});
    return;
  }
  fmt::print("{} batch{}, {} items, {} update{} completed in {}.\n", summary.batches,
             summary.batches == 1 ? "" : "es", summary.items, summary.completed.size(),
             summary.completed.size() == 1 ? "" : "s", human_duration(elapsed));
  if (remaining == 0) {
    fmt::print("The queue is empty.\n");
  } else if (summary.stopped) {
    fmt::print("Stopped on request between batches; {} update{} remain. Progress is saved: run `strata bg run` "
               "again to continue.\n",
               remaining, remaining == 1 ? "" : "s");
  } else if (summary.budget_exhausted) {
    fmt::print("The time budget is used up; {} update{} remain. Progress is saved: run `strata bg run` again to "
               "continue.\n",
               remaining, remaining == 1 ? "" : "s");
  }
}

}  // namespace

void setup_bg(CLI::App& app) {
  CLI::App* bg = app.add_subcommand("bg", "Background updates: long data migrations run in batches");
  bg->require_subcommand(1);
  bg->footer(
      "A migration queues an update with an INSERT into strata_background_updates (see\n"
      "docs/background-updates.md). `strata bg run` runs the built-in handlers (strata.sql_batches,\n"
      "strata.create_index, strata.validate_constraint); updates whose handler lives in the\n"
      "application are run by the application through the library.");

  auto status = std::make_shared<StatusCommand>();
  CLI::App* st = bg->add_subcommand("status", "Show queued background updates: progress, rate, time left, state");
  add_common_options(*st, status->common);
  add_background_options(*st, status->common);
  st->add_option("--completed", status->completed, "How many recently completed updates to list")
      ->capture_default_str();
  st->footer(
      "Examples:\n"
      "  strata bg status -d sqlite:app.db\n"
      "  strata bg status -d postgresql://app@localhost/app --json");
  st->callback([status] { run_status(*status); });

  auto run = std::make_shared<RunCommand>();
  CLI::App* r = bg->add_subcommand("run", "Run queued background updates in batches, to completion or for a time budget");
  add_common_options(*r, run->common);
  add_background_options(*r, run->common);
  r->add_option("--budget", run->budget_s, "Start no batch after this many seconds")->check(CLI::PositiveNumber);
  r->add_option("--target-ms", run->target_ms, "Aim for batches of this many milliseconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  r->add_option("--min-batch", run->min_batch, "Smallest batch size")->capture_default_str()->check(CLI::PositiveNumber);
  r->add_option("--max-batch", run->max_batch, "Largest batch size")->capture_default_str()->check(CLI::PositiveNumber);
  r->add_option("--pause-ms", run->pause_ms, "Pause after each batch, leaving the database to the application")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  r->add_flag("--trace", run->trace, "Log every batch (its size and duration), not one line a second");
  r->footer(
      "Each batch commits together with its progress, so a killed run loses nothing and repeats\n"
      "nothing: run it again to continue. SIGINT/SIGTERM stop it between batches.\n"
      "On a terminal progress is a bar; otherwise log lines. Exits 12 (blocked) when updates are\n"
      "left whose handlers live in the application.\n\n"
      "Examples:\n"
      "  strata bg run -d sqlite:app.db\n"
      "  strata bg run -d postgresql://app@localhost/app --budget 300 --target-ms 50");
  r->callback([run] { run_run(*run); });
}

}  // namespace strata::cli
