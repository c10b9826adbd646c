#include "strata/synapse.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "migration/lock.hpp"
#include "migration/script_runner.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/sql/splitter.hpp"
#include "strata/transaction.hpp"
#include "util/utf8.hpp"

namespace strata {
namespace fs = std::filesystem;

const char* to_string(DeltaState state) noexcept {
  switch (state) {
    case DeltaState::applied: return "applied";
    case DeltaState::pending: return "pending";
    case DeltaState::covered: return "covered";
    case DeltaState::late: return "late";
    case DeltaState::skipped: return "skipped";
  }
  return "unknown";
}

// One file of a version's listing (or a registered code delta).
struct SynapseMigrator::Entry {
  enum class Kind { sql, code };
  Version version = 0;
  std::string name;
  fs::path path;
  Kind kind = Kind::sql;
  const CodeDelta* step = nullptr;  // code deltas with a registered step
  std::string file() const { return std::to_string(version) + "/" + name; }
};

struct SynapseMigrator::State {
  bool fresh = true;
  Version version = 0;
  bool upgraded = false;
  std::optional<Version> compat;
  std::optional<Version> base;
  std::set<std::string> applied;
};

namespace {

using Clock = std::chrono::steady_clock;

bool ends_with(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

enum class FileClass { sql_here, sql_elsewhere, code, silent, unknown };

FileClass classify(std::string_view name, Engine engine) {
  const bool pg = engine == Engine::postgres;
  if (name.empty() || name.front() == '.' || name == "__pycache__" || ends_with(name, ".pyc")) return FileClass::silent;
  if (ends_with(name, ".sql.sqlite") || ends_with(name, ".sqlite.sql")) {
    return pg ? FileClass::sql_elsewhere : FileClass::sql_here;
  }
  if (ends_with(name, ".sql.postgres") || ends_with(name, ".postgres.sql")) {
    return pg ? FileClass::sql_here : FileClass::sql_elsewhere;
  }
  if (ends_with(name, ".sql")) return FileClass::sql_here;
  if (ends_with(name, ".py")) return FileClass::code;
  return FileClass::unknown;
}

std::vector<Version> version_dirs(const fs::path& dir) {
  std::vector<Version> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!it->is_directory() || name.empty() || name.size() > 18 ||
        name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    out.push_back(std::stoll(name));
  }
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::source, path.string() + ": cannot be read");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = std::move(buffer).str();
  if (auto bad = util::find_invalid_utf8(text)) {
    throw Error(ErrorKind::source, fmt::format("{}:{}:{}: not valid UTF-8", path.string(), bad->line, bad->column));
  }
  return text;
}

// Synapse's state tables as Synapse creates them (common/schema_version.sql),
// for a tree without that file; plus strata's record of the snapshot version.
constexpr const char* state_ddl[] = {
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE,"
    " version INTEGER NOT NULL,"
    " upgraded BOOL NOT NULL,"
    " CHECK (lock = 'X'))",
    "CREATE TABLE IF NOT EXISTS schema_compat_version ("
    " lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE,"
    " compat_version INTEGER NOT NULL,"
    " CHECK (lock = 'X'))",
    "CREATE TABLE IF NOT EXISTS applied_schema_deltas ("
    " version INTEGER NOT NULL,"
    " file TEXT NOT NULL,"
    " UNIQUE (version, file))",
    "CREATE TABLE IF NOT EXISTS applied_module_schemas ("
    " module_name TEXT NOT NULL,"
    " file TEXT NOT NULL,"
    " UNIQUE (module_name, file))",
};
constexpr const char* strata_base_ddl = "CREATE TABLE IF NOT EXISTS strata_schema_base (version INTEGER NOT NULL)";

bool table_exists(Connection& c, const char* table) {
  if (c.engine() == Engine::sqlite) {
    return !c.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", {table}).rows.empty();
  }
  return !c.query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
                  {table})
              .rows.empty();
}

}  // namespace

std::vector<std::string> synapse_logical_databases(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory() && name != "common" && !name.empty() && name.front() != '.' && name != "__pycache__") {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

SynapseMigrator::SynapseMigrator(Connection& connection, SynapseLayout layout, std::vector<std::string> logical,
                                 SynapseOptions options)
    : connection_(connection), layout_(std::move(layout)), logical_(std::move(logical)), options_(std::move(options)) {
  if (!fs::is_directory(layout_.root)) {
    throw Error(ErrorKind::source, "schema root '" + layout_.root.string() + "' is not a directory");
  }
  for (const auto& l : logical_) {
    if (l == "common" || !fs::is_directory(layout_.root / l)) {
      throw Error(ErrorKind::source,
                  fmt::format("logical database '{}' has no directory {}", l, (layout_.root / l).string()));
    }
  }
  if (layout_.compat_version > layout_.schema_version) {
    throw Error(ErrorKind::config, fmt::format("compat_version {} is above schema_version {}",
                                               layout_.compat_version, layout_.schema_version));
  }
}

void SynapseMigrator::warn(std::string_view message) const {
  if (options_.on_warning) options_.on_warning(message);
}

std::vector<SynapseMigrator::Entry> SynapseMigrator::deltas_for(Version v) const {
  std::vector<fs::path> dirs{layout_.root / "common" / "delta" / std::to_string(v)};
  for (const auto& l : logical_) dirs.push_back(layout_.root / l / "delta" / std::to_string(v));

  std::map<std::string, fs::path> seen;  // name -> first path, for duplicates
  std::vector<Entry> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      auto [pos, inserted] = seen.emplace(name, it->path());
      if (!inserted) {
        throw Error(ErrorKind::source, fmt::format("two delta files named {} in version {}: {} and {}", name, v,
                                                   pos->second.string(), it->path().string()));
      }
      switch (classify(name, connection_.engine())) {
        case FileClass::sql_here:
          out.push_back(Entry{v, name, it->path(), Entry::Kind::sql, nullptr});
          break;
        case FileClass::code: {
          auto step = options_.code_deltas.find(std::to_string(v) + "/" + name);
          out.push_back(Entry{v, name, it->path(), Entry::Kind::code,
                              step == options_.code_deltas.end() ? nullptr : &step->second});
          break;
        }
        case FileClass::unknown:
          if (!it->is_directory()) warn(fmt::format("{}: not a delta file (.sql or .py); ignored", it->path().string()));
          break;
        default:
          break;
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

std::optional<Version> SynapseMigrator::snapshot_version() const {
  std::optional<Version> best;
  if (!layout_.use_snapshots) return Version{0};
  std::vector<fs::path> dirs{layout_.root / "common" / "full_schemas"};
  for (const auto& l : logical_) dirs.push_back(layout_.root / l / "full_schemas");
  for (const auto& d : dirs) {
    for (Version v : version_dirs(d)) {
      if (v <= layout_.schema_version && (!best || v > *best)) best = v;
    }
  }
  return best;
}

std::vector<SynapseMigrator::Entry> SynapseMigrator::snapshot_files(Version v) const {
  std::vector<fs::path> dirs{layout_.root / "common" / "full_schemas" / std::to_string(v)};
  for (const auto& l : logical_) dirs.push_back(layout_.root / l / "full_schemas" / std::to_string(v));
  std::vector<Entry> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (classify(name, connection_.engine()) == FileClass::sql_here) {
        out.push_back(Entry{v, name, it->path(), Entry::Kind::sql, nullptr});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    return a.name != b.name ? a.name < b.name : a.path < b.path;
  });
  return out;
}

SynapseMigrator::State SynapseMigrator::read_state() {
  State s;
  if (!table_exists(connection_, "schema_version")) return s;
  auto row = connection_.query("SELECT version, upgraded FROM schema_version");
  if (row.rows.empty()) return s;
  s.fresh = false;
  s.version = row.rows[0].get<std::int64_t>(0);
  s.upgraded = row.rows[0].get<bool>(1);
  if (table_exists(connection_, "schema_compat_version")) {
    auto c = connection_.query("SELECT compat_version FROM schema_compat_version");
    if (!c.rows.empty()) s.compat = c.rows[0].get<std::int64_t>(0);
  }
  if (table_exists(connection_, "applied_schema_deltas")) {
    for (const auto& r : connection_.query("SELECT file FROM applied_schema_deltas").rows) {
      s.applied.insert(r.get<std::string>(0));
    }
  }
  if (table_exists(connection_, "strata_schema_base")) {
    auto b = connection_.query("SELECT version FROM strata_schema_base");
    if (!b.rows.empty()) s.base = b.rows[0].get<std::int64_t>(0);
  }
  if (!s.base) {
    // Adopted from Synapse: deltas are recorded only above the snapshot.
    std::optional<Version> lowest;
    for (const auto& f : s.applied) {
      Version v = std::stoll(f.substr(0, f.find('/')));
      if (!lowest || v < *lowest) lowest = v;
    }
    s.base = lowest ? *lowest - 1 : s.version;
  }
  return s;
}

SynapseStatus SynapseMigrator::status_from(const State& s) const {
  SynapseStatus st;
  st.fresh = s.fresh;
  st.current_version = s.version;
  st.upgraded = s.upgraded;
  st.compat_version = s.compat;
  st.base_version = s.fresh ? std::nullopt : s.base;
  st.snapshot_version = snapshot_version();

  std::set<Version> versions;
  std::vector<fs::path> roots{layout_.root / "common" / "delta"};
  for (const auto& l : logical_) roots.push_back(layout_.root / l / "delta");
  for (const auto& r : roots) {
    for (Version v : version_dirs(r)) versions.insert(v);
  }

  const Version base = s.fresh ? st.snapshot_version.value_or(0) : *s.base;
  for (Version v : versions) {
    for (const auto& e : deltas_for(v)) {
      DeltaStatus d{v, e.file(), e.path.string(), DeltaState::pending};
      if (s.applied.count(d.file) != 0) {
        d.state = DeltaState::applied;
      } else if (v <= base) {
        d.state = DeltaState::covered;
      } else if (e.kind == Entry::Kind::code && e.step == nullptr && options_.skip_code_deltas) {
        d.state = DeltaState::skipped;
      } else if (!s.fresh && (v < s.version || (v == s.version && !s.upgraded))) {
        d.state = DeltaState::late;
        st.warnings.push_back(fmt::format(
            "{} was added to version {}, which this database already passed (it is at {}); it will not run. "
            "Move its change to a new version.",
            d.path.empty() ? d.file : d.path, v, s.version));
      } else if (v > layout_.schema_version) {
        continue;  // beyond what this code runs
      }
      st.deltas.push_back(std::move(d));
    }
  }
  return st;
}

SynapseStatus SynapseMigrator::status() { return status_from(read_state()); }

ValidationReport SynapseMigrator::validate() {
  State s = read_state();
  SynapseStatus st = status_from(s);
  ValidationReport r;
  auto error = [&](ErrorKind kind, std::string message) {
    if (r.errors.empty()) r.kind = kind;
    r.errors.push_back(std::move(message));
  };
  if (s.compat && *s.compat > layout_.schema_version) {
    error(ErrorKind::incompatible,
          fmt::format("the database is too new for this code: its compat version is {}, this code's schema version "
                      "is {}",
                      *s.compat, layout_.schema_version));
  }
  if (s.fresh) {
    error(ErrorKind::validation, "the database has no schema yet; run `strata up` first");
    return r;
  }
  for (const auto& d : st.deltas) {
    if (d.state == DeltaState::late) {
      error(ErrorKind::validation, fmt::format("{} was added to version {}, which the database already passed",
                                               d.path.empty() ? d.file : d.path, d.version));
    }
  }
  std::vector<std::string> pending;
  for (const auto& d : st.deltas) {
    if (d.state == DeltaState::pending) pending.push_back(d.file);
  }
  if (s.version < layout_.schema_version || !pending.empty()) {
    std::string list;
    for (const auto& p : pending) list += "\n  " + p;
    error(ErrorKind::validation,
          fmt::format("the database is behind: it is at schema version {}, this code expects {}{}{}\nRun `strata up` "
                      "(from the process that migrates) first.",
                      s.version, layout_.schema_version, pending.empty() ? "" : "; pending deltas:", list));
  }
  for (const auto& w : st.warnings) r.warnings.push_back(w);
  return r;
}

void SynapseMigrator::run_file(const Entry& e, bool fresh) {
  if (e.kind == Entry::Kind::code) {
    Engine engine = connection_.engine();
    try {
      if (e.step->run_create) e.step->run_create(connection_, engine);
      if (!fresh && e.step->run_upgrade) e.step->run_upgrade(connection_, engine);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& ex) {
      throw Error(ErrorKind::sql, fmt::format("code delta {} threw: {}", e.file(), ex.what()));
    }
    return;
  }
  std::string text = read_text(e.path);
  run_statements(connection_, e.path.string(), parse_or_throw(e.path.string(), text, connection_.engine()));
}

void SynapseMigrator::create_state_tables() {
  // The tree's own file, as Synapse runs it, so a database strata builds has
  // exactly the tables Synapse reads at start-up (applied_module_schemas
  // included); the built-in copy serves trees without it.
  const fs::path file = layout_.root / "common" / "schema_version.sql";
  std::error_code ec;
  if (fs::is_regular_file(file, ec)) {
    const std::string path = file.string();
    const sql::Script script = parse_or_throw(path, read_text(file), connection_.engine());
    run_statements(connection_, path, script);
  } else {
    for (const char* ddl : state_ddl) connection_.execute(ddl);
  }
  connection_.execute(strata_base_ddl);
}

SynapseUpResult SynapseMigrator::up(const std::function<void(const SynapseStep&)>& on_applied) {
  MigrationLock lock(connection_, HistoryOptions{"schema_version", "public"}, options_.lock);
  create_state_tables();
  State s = read_state();  // after the lock: another migrator may have finished

  if (s.compat && *s.compat > layout_.schema_version) {
    throw Error(ErrorKind::incompatible,
                fmt::format("the database is too new for this code: its compat version is {}, but this code's schema "
                            "version is {}; upgrade the code",
                            *s.compat, layout_.schema_version));
  }

  SynapseUpResult result;
  auto report = [&](SynapseStep step) {
    if (on_applied) on_applied(step);
    result.applied.push_back(std::move(step));
  };
  auto raise_compat = [&] {
    if (!s.compat || *s.compat < layout_.compat_version) {
      connection_.execute("DELETE FROM schema_compat_version");
      connection_.execute("INSERT INTO schema_compat_version (compat_version) VALUES ($1)", {layout_.compat_version});
    }
  };

  // Check every version's listing before running anything, so a duplicate
  // name or an unbound code delta stops the run at a clean boundary.
  const bool fresh = s.fresh;
  Version start = 0;
  std::optional<Version> snapshot;
  if (fresh) {
    snapshot = snapshot_version();
    if (!snapshot) {
      throw Error(ErrorKind::source, fmt::format("no full_schemas/<V> at or below schema version {} under {}",
                                                 layout_.schema_version, layout_.root.string()));
    }
    start = *snapshot + 1;
  } else {
    start = s.upgraded ? s.version : s.version + 1;
  }
  std::vector<std::vector<Entry>> plan;
  for (Version v = start; v <= layout_.schema_version; ++v) {
    auto entries = deltas_for(v);
    for (const auto& e : entries) {
      if (e.kind == Entry::Kind::code && e.step == nullptr && s.applied.count(e.file()) == 0 &&
          !options_.skip_code_deltas) {
        throw Error(ErrorKind::source,
                    fmt::format("{} is a code delta with no registered C++ step; register one, or pass "
                                "--skip-code-deltas to skip it (nothing is recorded for it)",
                                e.path.empty() ? e.file() : e.path.string()));
      }
    }
    plan.push_back(std::move(entries));
  }

  if (fresh) {
    auto begin = Clock::now();
    Transaction tx(connection_);
    raise_compat();
    if (layout_.use_snapshots) {
      for (const auto& e : snapshot_files(*snapshot)) run_file(e, true);
    }
    connection_.execute("DELETE FROM schema_version");
    connection_.execute("INSERT INTO schema_version (version, upgraded) VALUES ($1, $2)", {*snapshot, false});
    connection_.execute("DELETE FROM strata_schema_base");
    connection_.execute("INSERT INTO strata_schema_base (version) VALUES ($1)", {*snapshot});
    tx.commit();
    s.fresh = false;
    s.version = *snapshot;
    s.compat = std::max(s.compat.value_or(layout_.compat_version), layout_.compat_version);
    report({layout_.use_snapshots ? "full_schemas/" + std::to_string(*snapshot) : std::string("(no snapshot: replaying every delta)"),
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - begin)});
  } else {
    Transaction tx(connection_);
    raise_compat();
    tx.commit();
  }

  Version v = start;
  for (const auto& entries : plan) {
    {
      Transaction tx(connection_);
      connection_.execute("DELETE FROM schema_version");
      connection_.execute("INSERT INTO schema_version (version, upgraded) VALUES ($1, $2)", {v, true});
      tx.commit();
    }
    for (const auto& e : entries) {
      if (s.applied.count(e.file()) != 0) continue;
      if (e.kind == Entry::Kind::code && e.step == nullptr) {
        warn(fmt::format("skipping code delta {} (no registered step; --skip-code-deltas)",
                         e.path.empty() ? e.file() : e.path.string()));
        continue;
      }
      auto begin = Clock::now();
      try {
        Transaction tx(connection_);
        run_file(e, fresh);
        connection_.execute("INSERT INTO applied_schema_deltas (version, file) VALUES ($1, $2)", {v, e.file()});
        tx.commit();
      } catch (Error& err) {
        err.context(fmt::format("delta {} failed", e.file()));
        throw;
      }
      report({e.file(), std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - begin)});
    }
    ++v;
  }
  return result;
}

}  // namespace strata
