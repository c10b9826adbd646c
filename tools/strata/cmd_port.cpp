// strata port: copy a SQLite database into PostgreSQL (strata/port.hpp).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <algorithm>
#include <map>

#include "common.hpp"
#include "strata/error.hpp"
#include "strata/port.hpp"
#include "strata/source.hpp"

namespace strata::cli {
namespace {

struct PortCommand {
  CommonOptions common;
  std::string from;
  std::string to;
  int jobs = 1;
  bool resume = false;
  bool verify = false;
  int batch_rows = 5000;
};

// Per-table progress on a terminal: one line per table being copied,
// redrawn in place; plain lines (a start and an end per table) otherwise.
class ProgressView {
 public:
  explicit ProgressView(bool json) : tty_(!json && ::isatty(STDERR_FILENO) == 1), quiet_(json) {}

  void update(const PortProgress& p) {
    if (quiet_) return;
    if (!tty_) {
      if (p.finished) {
        std::fprintf(stderr, "copied %s: %lld rows in %s\n", p.table.c_str(), static_cast<long long>(p.rows_done),
                     human_duration(p.elapsed).c_str());
      } else if (p.rows_done == 0) {
        std::fprintf(stderr, "copying %s (%lld rows)\n", p.table.c_str(), static_cast<long long>(p.rows_total));
      }
      return;
    }
    auto it = lines_.find(p.table);
    if (it == lines_.end()) {
      it = lines_.emplace(p.table, order_.size()).first;
      order_.push_back(p.table);
      std::fprintf(stderr, "\n");
    }
    // Move up to this table's line, redraw it, move back down.
    std::size_t up = order_.size() - it->second;
    double seconds = std::chrono::duration<double>(p.elapsed).count();
    double rate = seconds > 0 ? static_cast<double>(p.rows_done) / seconds : 0;
    double fraction = p.rows_total > 0 ? static_cast<double>(p.rows_done) / static_cast<double>(p.rows_total) : 1;
    if (fraction > 1) fraction = 1;
    int filled = static_cast<int>(fraction * 30);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(30 - filled), '.');
    std::fprintf(stderr, "\033[%zuA\r\033[2K%-28.28s [%s] %3d%% %lld/%lld rows %.0f rows/s%s\033[%zuB\r", up,
                 p.table.c_str(), bar.c_str(), static_cast<int>(fraction * 100), static_cast<long long>(p.rows_done),
                 static_cast<long long>(p.rows_total), rate, p.finished ? " done" : "", up);
    std::fflush(stderr);
  }

 private:
  bool tty_;
  bool quiet_;
  std::map<std::string, std::size_t> lines_;
  std::vector<std::string> order_;
};

void run_port(PortCommand& cmd) {
  apply_config(cmd.common);
  if (cmd.from.empty()) throw Error(ErrorKind::usage, "strata port needs --from sqlite:PATH");
  if (cmd.to.empty()) cmd.to = cmd.common.database_url;
  if (cmd.to.empty()) throw Error(ErrorKind::usage, "strata port needs --to postgresql://... (or $DATABASE_URL)");
  DatabaseUrl from = DatabaseUrl::parse(cmd.from);
  DatabaseUrl to = DatabaseUrl::parse(cmd.to);
  if (cmd.jobs < 1) throw Error(ErrorKind::usage, "--jobs must be at least 1");
  MigrationSet migrations;
  std::optional<SynapsePortSource> synapse;
  if (cmd.common.synapse) {
    // A SQLite Synapse database hosts every logical database of the layout.
    SynapsePortSource s;
    s.layout = cmd.common.synapse->layout;
    for (const auto& db : cmd.common.synapse->databases) {
      for (const auto& l : db.logical) {
        if (std::find(s.logical.begin(), s.logical.end(), l) == s.logical.end()) s.logical.push_back(l);
      }
    }
    MigratorOptions m = migrator_options(cmd.common);
    s.options.lock = m.lock;
    s.options.skip_code_deltas = cmd.common.skip_code_deltas;
    s.options.on_warning = m.on_warning;
    synapse = std::move(s);
  } else {
    migrations = load_source(cmd.common, Engine::postgres);
  }

  ProgressView view(cmd.common.json);
  PortOptions options;
  options.jobs = cmd.jobs;
  options.resume = cmd.resume;
  options.verify = cmd.verify;
  options.batch_rows = cmd.batch_rows;
  options.synapse = synapse;
  options.history = {cmd.common.history_table, cmd.common.history_schema};
  options.background = background_tables(cmd.common);
  options.on_progress = [&view](const PortProgress& p) { view.update(p); };
  options.on_warning = [](std::string_view w) { std::fprintf(stderr, "warning: %.*s\n", static_cast<int>(w.size()), w.data()); };
  PortResult result = port(from, to, migrations, options);

  if (cmd.common.json) {
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& t : result.tables) {
      nlohmann::json j{{"table", t.name}, {"rows", t.rows}, {"duration_us", t.duration.count()},
                       {"resumed", t.resumed}};
      if (!t.checksum.empty()) j["checksum"] = t.checksum;
      tables.push_back(j);
    }
    print_json({{"from", from.redacted()},
                {"to", to.redacted()},
                {"version", result.version},
                {"tables", tables},
                {"rows", result.rows},
                {"duration_us", result.duration.count()},
                {"sequences_reset", result.sequences_reset},
                {"verified", cmd.verify}});
    return;
  }
  double seconds = std::chrono::duration<double>(result.duration).count();
  fmt::print("Ported {} rows in {} tables from {} to {} at version {} in {} ({:.0f} rows/s){}.\n", result.rows,
             result.tables.size(), from.redacted(), to.redacted(), result.version, human_duration(result.duration),
             seconds > 0 ? static_cast<double>(result.rows) / seconds : 0.0,
             cmd.verify ? ", row counts and checksums verified" : ", row counts verified");
}

}  // namespace

void setup_port(CLI::App& app) {
  auto cmd = std::make_shared<PortCommand>();
  CLI::App* sub = app.add_subcommand("port", "Copy a SQLite database into PostgreSQL, typed by the schema, resumable");
  add_common_options(*sub, cmd->common);
  add_background_options(*sub, cmd->common);
  sub->add_option("--from", cmd->from, "The SQLite database to read (sqlite:PATH); never written")->required();
  sub->add_option("--to", cmd->to, "The PostgreSQL database to fill (default: $DATABASE_URL / -d)");
  sub->add_option("-j,--jobs", cmd->jobs, "Tables copied at once")->capture_default_str();
  sub->add_flag("--resume", cmd->resume, "Continue an interrupted port from the progress kept on the target");
  sub->add_flag("--verify", cmd->verify, "Also compare a checksum of every table's rows after copying");
  sub->add_option("--batch-rows", cmd->batch_rows, "Rows per COPY message")->capture_default_str();
  sub->add_flag("--skip-code-deltas", cmd->common.skip_code_deltas,
                "Synapse layout: create the target without the code deltas strata has no step for (warned)");
  sub->footer(
      "The target must be empty or migrated to exactly the source's version with no rows; strata migrates\n"
      "it with the same migrations (-s), copies every table in foreign-key order through COPY, converting\n"
      "each value by the target column's type (integers to boolean, text to jsonb/uuid/timestamptz, blobs\n"
      "to bytea), resets sequences and identity columns, copies strata's history and background-update\n"
      "queue as they are, and verifies row counts. Progress is kept on the target: after an interruption,\n"
      "run again with --resume. Exit codes: 17 target not empty or at another version, 18 a value does\n"
      "not convert (table, row key, column and value named), 19 counts or checksums differ.\n\n"
      "Examples:\n"
      "  strata port --from sqlite:app.db --to postgresql://app@localhost/app -s migrations\n"
      "  strata port --from sqlite:app.db --to postgresql://app@localhost/app --jobs 4 --verify --json\n"
      "  strata port --from sqlite:app.db --to postgresql://app@localhost/app --resume");
  sub->callback([cmd] { run_port(*cmd); });
}

}  // namespace strata::cli
