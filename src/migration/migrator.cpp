#include "strata/migrator.hpp"

#include <fmt/format.h>

#include <cctype>

#include <set>

#include <map>

#include <algorithm>
#include <thread>

#include "lint/analyzer.hpp"

#include "migration/compare.hpp"
#include "migration/foreign_key_check.hpp"
#include "migration/lock.hpp"
#include "migration/repeatable.hpp"
#include "migration/script_runner.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/graph.hpp"
#include "strata/source.hpp"
#include "strata/sql/splitter.hpp"
#include "strata/transaction.hpp"

namespace strata {
namespace {

// The library's code hooks (Callbacks) by the name of the callback file they
// run beside: whole-run hooks take the connection, per-migration ones also
// the migration. One of the two members is set.
struct CodeHook {
  std::string_view name;
  std::function<void(Connection&)> Callbacks::*whole_run;
  std::function<void(Connection&, const Migration&)> Callbacks::*each;
};
constexpr CodeHook kCodeHooks[] = {
    {"before_migrate", &Callbacks::before_migrate, nullptr},
    {"after_migrate", &Callbacks::after_migrate, nullptr},
    {"before_each", nullptr, &Callbacks::before_each},
    {"after_each", nullptr, &Callbacks::after_each},
    {"before_undo", &Callbacks::before_undo, nullptr},
    {"after_undo", &Callbacks::after_undo, nullptr},
    {"before_each_undo", nullptr, &Callbacks::before_each_undo},
    {"after_each_undo", nullptr, &Callbacks::after_each_undo},
};

const CodeHook* code_hook(std::string_view name) {
  for (const CodeHook& h : kCodeHooks) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

// Whether the library set a code hook for `name`.
bool has_code_hook(const Callbacks& c, std::string_view name) {
  const CodeHook* h = code_hook(name);
  if (h == nullptr) return false;
  return h->whole_run != nullptr ? static_cast<bool>(c.*(h->whole_run)) : static_cast<bool>(c.*(h->each));
}

using Clock = std::chrono::steady_clock;

// SQLSTATE lock_not_available: lock_timeout expired (or NOWAIT failed).
constexpr const char* kLockNotAvailable = "55P03";

std::int64_t micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

// The compatibility floor a migration sets, from its directives.
std::optional<Version> floor_of(const Migration& m, const sql::Directives& d) {
  if (d.breaking) return m.version;
  if (d.compatible_with) return static_cast<Version>(*d.compatible_with);
  return m.compat_floor;
}

std::string describe(const Migration& m) {
  return m.kind == MigrationKind::sql ? m.path
                                      : fmt::format("code migration {} ({})", m.version, m.description);
}

// Runs a code migration's function, turning foreign exceptions into Error.
void run_code(const MigrationFunction& f, Connection& c, const Migration& m) {
  try {
    f(c, c.engine());
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorKind::sql, fmt::format("code migration {} threw: {}", m.version, e.what()));
  }
}

// "-- strata: foreign-keys off" on SQLite (SQLite's procedure for table
// rebuilds, https://sqlite.org/lang_altertable.html#otheralter): foreign
// keys go off before the migration's transaction (the pragma does nothing
// inside one) and on again when this guard ends, failure or not;
// check_foreign_keys() runs before the commit. Does nothing on PostgreSQL or
// when the directive is absent.
class ForeignKeysOff {
 public:
  ForeignKeysOff(Connection& c, bool wanted) : c_(c), active_(wanted && c.engine() == Engine::sqlite) {
    if (active_) c_.execute("PRAGMA foreign_keys = OFF");
  }
  ~ForeignKeysOff() {
    if (!active_) return;
    try {
      c_.execute("PRAGMA foreign_keys = ON");
    } catch (...) {  // a destructor never throws; the connection is broken anyway
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

  // Throws Error{ErrorKind::sql} naming the violating rows (at most 20) when
  // PRAGMA foreign_key_check finds any; the caller's transaction then rolls
  // back.
  void check() {
    if (!active_) return;
    detail::check_foreign_keys(c_, "after a foreign-keys-off migration", "nothing was committed");
  }

 private:
  Connection& c_;
  bool active_;
};

std::string repair_hint(const Version v) {
  return fmt::format(
      "Undo or finish its effects by hand, then run `strata repair --forget {0}` (if you undid "
      "them) or `strata repair --mark-applied {0}` (if you finished them).",
      v);
}

}  // namespace

void ValidationReport::throw_if_failed() const {
  if (ok()) return;
  std::string message;
  for (const auto& e : errors) {
    if (!message.empty()) message += "\n";
    message += e;
  }
  throw Error(kind, message);
}

Migrator::Migrator(Connection& connection, const MigrationSet& source, MigratorOptions options)
    : connection_(connection), source_(source), options_(std::move(options)) {}

BackgroundTables Migrator::background_tables() const {
  BackgroundTables tables = *options_.background_queue;
  if (tables.schema.empty()) tables.schema = options_.history.schema;
  return tables;
}

std::vector<AppliedMigration> Migrator::read_history(History& history) const {
  std::vector<AppliedMigration> rows = history.read();
  if (options_.history.format == HistoryFormat::mautrix) {
    // One version number stands for every migration up to it: each is
    // applied as its file says (mautrix-go keeps no checksums). A version
    // no file has (a shortcut's target, or one newer than this code) stays
    // as a row of its own, carrying the compatibility floor.
    if (rows.empty()) return rows;
    const AppliedMigration at = rows.front();
    std::vector<AppliedMigration> out;
    for (const Migration& m : source_.all()) {
      if (m.version > at.version) break;
      AppliedMigration a;
      a.version = m.version;
      a.description = m.description;
      a.checksum = m.checksum;
      out.push_back(std::move(a));
    }
    if (!out.empty() && out.back().version == at.version) {
      out.back().compat_floor = at.compat_floor;
    } else {
      AppliedMigration a = at;
      if (const Migration* j = source_.jump_to(at.version)) {
        a.description = j->description;
        a.checksum = j->checksum;
      }
      out.push_back(std::move(a));
    }
    return out;
  }
  if (options_.history.format != HistoryFormat::sqlx) return rows;
  // sqlx records the SHA-384 of the raw file; strata compares its own
  // (BOM and CRLF normalised): a row that matches the raw form of its file
  // is that file, unchanged.
  for (auto& a : rows) {
    const Migration* m = source_.find(a.version);
    if (m != nullptr && a.checksum == sqlx_checksum(*m)) a.checksum = m->checksum;
  }
  return rows;
}

void Migrator::warn(std::string_view message) const {
  if (options_.on_warning) options_.on_warning(message);
}

StatusReport Migrator::status() {
  History history(connection_, options_.history);
  StatusReport report;
  // Read first: read() remembers a table it found, so exists() asks the
  // catalog only when there was none.
  std::vector<AppliedMigration> applied = read_history(history);
  report.history_exists = history.exists();
  report.migrations = compare(source_, applied);
  report.code_latest = source_.latest();
  report.compat_floor = compat_floor(applied);
  if (!source_.repeatables().empty()) {
    const auto recorded = detail::RepeatableTable(connection_, options_.history).read();
    for (const Migration& r : source_.repeatables()) {
      auto it = recorded.find(r.description);
      report.repeatables.push_back(
          {r.description, r.path, it != recorded.end(), it != recorded.end() && it->second != r.checksum});
    }
  }
  return report;
}

std::vector<const Migration*> Migrator::pending_repeatables(const UpOptions& options) {
  std::vector<const Migration*> out;
  if (source_.repeatables().empty() || options.target || !options.targets.empty() || options.limit > 0) return out;
  const auto recorded = detail::RepeatableTable(connection_, options_.history).read();
  for (const Migration& r : source_.repeatables()) {
    auto it = recorded.find(r.description);
    if (it == recorded.end() || it->second != r.checksum) out.push_back(&r);
  }
  return out;
}

void Migrator::run_callback(std::string_view hook, const Migration* m) {
  if (const Migration* file = source_.callback(hook)) {
    try {
      run_statements(connection_, file->path, parse_or_throw(file->path, file->sql, connection_.engine()));
    } catch (Error& e) {
      e.context(fmt::format("callback {} failed{}", file->path,
                            m != nullptr ? fmt::format(" (around migration {} {})", m->version, m->description) : ""));
      throw;
    }
  }
  const Callbacks& c = options_.callbacks;
  try {
    if (const CodeHook* h = code_hook(hook)) {
      if (h->whole_run != nullptr && c.*(h->whole_run)) (c.*(h->whole_run))(connection_);
      if (h->each != nullptr && c.*(h->each) && m != nullptr) (c.*(h->each))(connection_, *m);
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(ErrorKind::sql, fmt::format("the {} callback threw: {}", hook, e.what()));
  }
}

void Migrator::run_callback_in_transaction(std::string_view hook) {
  Transaction tx(connection_);
  run_callback(hook, nullptr);
  tx.commit();
}

ValidationReport Migrator::validate_history(const std::vector<AppliedMigration>& applied, bool history_exists,
                                            bool with_list) const {
  ValidationReport r;
  r.status.history_exists = history_exists;
  r.status.code_latest = source_.latest();
  r.status.compat_floor = compat_floor(applied);
  auto error = [&](ErrorKind kind, std::string message) {
    if (r.errors.empty()) r.kind = kind;
    r.errors.push_back(std::move(message));
  };

  // Incompatibility first: with a database newer than the code, the other
  // findings (missing/ahead migrations) are symptoms of it.
  if (r.status.compat_floor && *r.status.compat_floor > r.status.code_latest) {
    std::string message = fmt::format(
        "the database needs code that knows migration {} or newer (its compatibility floor), but this "
        "code's newest migration is {}; upgrade the code, or pass --allow-unsupported to use it anyway",
        *r.status.compat_floor, r.status.code_latest);
    if (options_.allow_unsupported) {
      r.warnings.push_back("allowed by --allow-unsupported: " + message);
    } else {
      error(ErrorKind::incompatible, message);
    }
  }

  // Each version's finding; returns its state (an allow-listed change
  // counts as applied).
  auto check = [&](const detail::StatusView& st) -> MigrationState {
    switch (st.state) {
      case MigrationState::dirty:
        error(ErrorKind::dirty,
              fmt::format("migration {} ({}) failed part-way and left the database dirty: {}\n{}", st.version,
                          st.description, st.applied->failure, repair_hint(st.version)));
        break;
      case MigrationState::changed: {
        auto allowed = options_.allowed_checksums.find(st.version);
        // An allow-listed checksum, whole or as its first 16 bytes (32 hex
        // digits, the form MAS keeps in its allow-list).
        const std::string& recorded = st.applied->checksum;
        if (allowed != options_.allowed_checksums.end() &&
            std::any_of(allowed->second.begin(), allowed->second.end(), [&](const std::string& sum) {
              return sum == recorded || (sum.size() == 32 && recorded.size() > 32 && recorded.starts_with(sum));
            })) {
          r.warnings.push_back(fmt::format("{} differs from what was applied, accepted by the checksum allow-list",
                                           st.migration->path));
          return MigrationState::applied;
        }
        error(ErrorKind::validation,
              fmt::format("{} was changed after it was applied: the database recorded checksum {} but the "
                          "file now has checksum {}; restore the file, or allow the old checksum",
                          st.migration->path, st.applied->checksum,
                          options_.history.format == HistoryFormat::sqlx ? sqlx_checksum(*st.migration)
                                                                          : st.migration->checksum));
        break;
      }
      case MigrationState::missing:
        if (options_.ignore_missing || options_.allowed_missing.count(st.version) != 0) {
          r.warnings.push_back(fmt::format("migration {} ({}) is applied but missing from the source (allowed)",
                                           st.version, st.description));
          break;
        }
        error(ErrorKind::validation,
              fmt::format("migration {} ({}) is applied but missing from the source; restore its file, or "
                          "pass --ignore-missing",
                          st.version, st.description));
        break;
      default:
        break;
    }
    return st.state;
  };
  if (with_list) r.status.migrations.reserve(source_.all().size() + applied.size());
  detail::for_each_status(source_, applied, [&](const detail::StatusView& v) {
    const MigrationState state = check(v);
    if (!with_list) return;
    r.status.migrations.push_back(detail::to_status(v));
    r.status.migrations.back().state = state;
  });
  return r;
}

ValidationReport Migrator::validate() {
  History history(connection_, options_.history);
  std::vector<AppliedMigration> applied = read_history(history);  // first: see status()
  auto report = validate_history(applied, history.exists());
  for (const auto& w : report.warnings) warn(w);
  return report;
}

std::vector<const Migration*> Migrator::plan_for(const std::vector<AppliedMigration>& applied,
                                                 const UpOptions& options) const {
  std::vector<const Migration*> out;
  if (options.target) {
    out = plan_up(source_, applied, *options.target);
  } else if (!options.targets.empty()) {
    out = plan_up(source_, applied, options.targets);
  } else {
    out = plan_up(source_, applied);
    // +N takes the next N in plan order, whichever branch they are on.
    if (!out.empty() && options.limit <= 0) {
      const RevisionGraph graph(source_);
      if (graph.heads().size() > 1) {
        Error e(ErrorKind::multiple_heads,
                fmt::format("the migrations have {} heads, {}: branches that were never merged, so there is "
                            "no single version to upgrade to; nothing was applied",
                            graph.heads().size(), describe_versions(source_, graph.heads())));
        e.hint("join them with `strata merge` (a migration whose parents are the heads), or apply every "
               "branch with `strata up --target heads`");
        throw e;
      }
    }
  }
  take_shortcuts(applied, options, out);
  if (options.limit > 0 && out.size() > static_cast<std::size_t>(options.limit)) out.resize(options.limit);
  return out;
}

// mautrix-go's rule: a database at version A with a "-- vA -> vB" file
// takes it instead of the migrations after A up to B (a fresh database,
// at 0, takes the latest schema in one step). Only with mautrix's history,
// which records where a database is as one number.
void Migrator::take_shortcuts(const std::vector<AppliedMigration>& applied, const UpOptions& options,
                              std::vector<const Migration*>& plan) const {
  if (source_.jumps().empty() || options_.history.format != HistoryFormat::mautrix) return;
  Version at = 0;
  for (const auto& a : applied) at = std::max(at, a.version);
  std::optional<Version> goal;  // the furthest version asked for; none = the newest
  if (options.target) goal = *options.target;
  for (Version t : options.targets) goal = std::max(goal.value_or(t), t);
  std::vector<const Migration*> out;
  while (const Migration* j = source_.jump_from(at)) {
    if (goal && *goal < j->version) {
      throw Error(ErrorKind::usage,
                  fmt::format("a database at version {} takes {} (v{} -> v{}) whole, so it cannot stop at {}; "
                              "target {} or later",
                              at, j->path, at, j->version, *goal, j->version));
    }
    out.push_back(j);
    at = j->version;
  }
  if (out.empty()) return;
  for (const Migration* m : plan) {
    if (m->version > at) out.push_back(m);
  }
  plan = std::move(out);
}

std::vector<const Migration*> Migrator::plan(const UpOptions& options) {
  if (options.assume_applied) {
    std::vector<AppliedMigration> assumed;
    for (Version v : RevisionGraph(source_).ancestors(*options.assume_applied)) {
      AppliedMigration a;
      a.version = v;
      assumed.push_back(std::move(a));
    }
    return plan_for(assumed, options);
  }
  History history(connection_, options_.history);
  bool exists = history.exists();
  auto applied = exists ? read_history(history) : std::vector<AppliedMigration>{};
  validate_history(applied, exists, /*with_list=*/false).throw_if_failed();
  return plan_for(applied, options);
}

// Whether a migration runs in a transaction and the compatibility floor it
// sets come from its directives, so a SQL file is split once, here, and the
// same split serves the decision and the run.
struct Migrator::Prepared {
  std::optional<sql::Script> script;  // SQL migrations
  bool transactional = true;
  bool foreign_keys_off = false;  // "-- strata: foreign-keys off" (acted on on SQLite only)
  std::optional<Version> floor;
};

namespace {

// BEGIN, COMMIT and the like in a file strata runs in a transaction would
// end strata's own transaction early (PostgreSQL) or fail (SQLite): refuse
// the file before anything runs.
void refuse_transaction_control(const Migration& m, const sql::Script& script) {
  // The statement's first two words, upper-cased (statements start at their
  // first token); only these are looked at, never a copy of the whole text.
  auto word_at = [](const std::string& text, std::size_t& at) {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    std::string word;
    for (; at < text.size() && std::isalpha(static_cast<unsigned char>(text[at])); ++at) {
      word += static_cast<char>(std::toupper(static_cast<unsigned char>(text[at])));
    }
    return word;
  };
  for (const auto& st : script.statements) {
    std::size_t at = 0;
    const std::string word = word_at(st.text, at);
    if (word != "BEGIN" && word != "COMMIT" && word != "END" && word != "START" && word != "ROLLBACK") continue;
    std::string next = word_at(st.text, at);
    // ROLLBACK [TRANSACTION | WORK] TO [SAVEPOINT] name stays inside the transaction.
    if (word == "ROLLBACK" && (next == "TRANSACTION" || next == "WORK")) next = word_at(st.text, at);
    if (word == "ROLLBACK" && next == "TO") continue;
    if (word == "START" && next != "TRANSACTION") continue;
    Error e(ErrorKind::source, (word == "START" ? std::string("START TRANSACTION") : word) +
                                   " in a migration that strata runs in a transaction of its own");
    e.at(SourcePosition{m.path, st.line, st.column, 0});
    e.hint("remove it (strata wraps each migration in a transaction), or mark the file "
           "-- strata: no-transaction to run its statements as written");
    throw e;
  }
}

// Whether a failed statement is one that cannot run inside a transaction
// block (VACUUM, CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE on old
// servers, ...).
bool needs_no_transaction(const Error& e) {
  return e.engine_code() == "25001" || e.engine_message().find("within a transaction") != std::string::npos ||
         e.engine_message().find("inside a transaction block") != std::string::npos;
}

}  // namespace

Migrator::Prepared Migrator::prepare(const Migration& m) const {
  Prepared p{std::nullopt, m.code_transactional,
             m.code_foreign_keys_off && connection_.engine() == Engine::sqlite, m.compat_floor};
  if (m.kind == MigrationKind::sql) {
    const std::string& text = up_sql(m);
    if (auto nul = text.find('\0'); nul != std::string::npos) {
      // A NUL would end the statement early at the engine: a broken file.
      const std::string_view before(text.data(), nul);
      const int line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
      const auto nl = before.rfind('\n');
      const int column = static_cast<int>(nl == std::string_view::npos ? nul + 1 : nul - nl);
      Error e(ErrorKind::source, "a NUL byte in a migration file (is it binary, or UTF-16?)");
      e.at(SourcePosition{m.path, line, column, 0});
      throw e;
    }
    p.script = parse_or_throw(m.path, text, connection_.engine());
    p.transactional = !p.script->directives.no_transaction;
    if (p.transactional) refuse_transaction_control(m, *p.script);
    p.foreign_keys_off = p.script->directives.foreign_keys_off && connection_.engine() == Engine::sqlite;
    p.floor = floor_of(m, p.script->directives);
  }
  return p;
}

std::optional<Version> Migrator::compat_floor_of(const Migration& m) const { return prepare(m).floor; }

std::string Migrator::script(const UpOptions& options) {
  History history(connection_, options_.history);
  const Engine engine = connection_.engine();
  std::string out;
  // Offline (A:B): the bookkeeping tables are created only by a script that starts from base.
  const bool from_base = !options.assume_applied || options.assume_applied->empty();
  if (options.assume_applied ? from_base : !history.exists()) out += history.ensure_sql() + ";\n";
  if (options_.background_queue && from_base) {
    BackgroundQueue queue(connection_, background_tables());
    if (options.assume_applied || !queue.exists()) out += queue.ensure_sql() + ";\n";
  }
  const std::string begin = engine == Engine::sqlite ? "BEGIN IMMEDIATE;\n" : "BEGIN;\n";
  bool group_open = false;  // options.group: a BEGIN is out, its COMMIT is not
  // The callback files, expanded where up() runs them; the library's hooks
  // are code, so only named.
  auto callback_sql = [&](std::string_view hook) {
    std::string text;
    if (const Migration* c = source_.callback(hook)) {
      text += fmt::format("-- callback {}: {}\n", hook, c->path);
      for (const auto& st : parse_or_throw(c->path, c->sql, engine).statements) text += st.text + ";\n";
    }
    if (has_code_hook(options_.callbacks, hook)) {
      text += fmt::format("-- (the library's {} callback runs here: code, not shown)\n", hook);
    }
    return text;
  };
  const std::vector<const Migration*> steps = plan(options);
  const std::vector<const Migration*> repeatables =
      options.assume_applied ? std::vector<const Migration*>{} : pending_repeatables(options);
  const bool work = !steps.empty() || !repeatables.empty();
  auto callback_block = [&](std::string_view hook) {
    const std::string body = callback_sql(hook);
    if (!body.empty()) out += "\n" + begin + body + "COMMIT;\n";
  };
  if (work) callback_block("before_migrate");
  for (const Migration* m : steps) {
    const Prepared p = prepare(*m);
    const bool tx = p.transactional;
    if (group_open && (!tx || p.foreign_keys_off)) {
      out += "COMMIT;\n";
      group_open = false;
    }
    out += fmt::format("\n-- {} {}: {}\n", m->version, m->description, describe(*m));
    if (p.foreign_keys_off) out += "PRAGMA foreign_keys = OFF;\n";
    if (options.group && tx && !p.foreign_keys_off && !group_open) {
      out += "-- --group: this and the following transactional migrations commit together\n" + begin;
      group_open = true;
    }
    if (!p.script) {
      out += "-- (a C++ code migration: its statements are not known in advance)\n";
      out += history.record_sql(*m, p.floor) + ";\n";
      continue;
    }
    if (!tx) {
      out += "-- no-transaction: runs statement by statement; history marks it started first\n";
    } else if (!group_open) {
      out += begin;
    }
    out += callback_sql("before_each");
    for (const auto& st : p.script->statements) out += st.text + ";\n";
    out += callback_sql("after_each");
    if (p.foreign_keys_off) out += "PRAGMA foreign_key_check;  -- must return no rows\n";
    out += history.record_sql(*m, p.floor) + ";\n";
    if (tx && !group_open) out += "COMMIT;\n";
    if (p.foreign_keys_off) out += "PRAGMA foreign_keys = ON;\n";
  }
  if (group_open) out += "COMMIT;\n";
  if (!repeatables.empty()) {
    detail::RepeatableTable table(connection_, options_.history);
    if (!table.exists()) out += table.ensure_sql() + ";\n";
    for (const Migration* r : repeatables) {
      out += fmt::format("\n-- repeatable {}: {}\n", r->description, r->path) + begin;
      out += callback_sql("before_each");
      for (const auto& st : parse_or_throw(r->path, up_sql(*r), engine).statements) out += st.text + ";\n";
      out += callback_sql("after_each");
      out += table.record_sql(r->description, r->checksum) + ";\nCOMMIT;\n";
    }
  }
  if (work) callback_block("after_migrate");
  return out;
}

UpResult Migrator::up(const UpOptions& options) {
  // The common case at start-up is a database already up to date: answer
  // it from one read, without the lock and its round trips. Anything else
  // (work to do, or a problem that a migrator holding the lock may be
  // fixing right now, such as a no-transaction migration in progress)
  // takes the lock and reads again.
  std::set<Version> done;  // applied, as read before the lock
  {
    History probe(connection_, options_.history);
    std::vector<AppliedMigration> applied = read_history(probe);  // first: see status()
    if (probe.exists()) {
      auto report = validate_history(applied, true, /*with_list=*/false);
      if (report.ok() && plan_for(applied, options).empty() && pending_repeatables(options).empty()) {
        for (const auto& w : report.warnings) warn(w);
        return {};
      }
      for (const auto& a : applied) done.insert(a.version);
    }
  }
  // Every migration that may run is split and checked first, so a broken
  // file (a bad directive, an unterminated quote, a NUL byte, a BEGIN in a
  // transactional file) stops the run before anything is applied, not
  // after the migrations before it.
  std::map<const Migration*, Prepared> prepared;
  {
    std::vector<AppliedMigration> before;
    for (Version v : done) {
      AppliedMigration a;
      a.version = v;
      before.push_back(std::move(a));
    }
    std::vector<const Migration*> checked = plan_for(before, options);
    for (const Migration& r : source_.repeatables()) checked.push_back(&r);
    for (const Migration* m : checked) {
      try {
        prepared.emplace(m, prepare(*m));
      } catch (Error& e) {
        e.context(fmt::format("migration {} ({}) cannot run, so nothing was applied", m->version, describe(*m)));
        throw;
      }
    }
  }
  MigrationLock lock(connection_, options_.history, options_.lock);
  History history(connection_, options_.history);
  history.ensure();
  // Read after taking the lock: another migrator may just have finished.
  std::vector<AppliedMigration> applied = read_history(history);
  auto report = validate_history(applied, true, /*with_list=*/false);
  for (const auto& w : report.warnings) warn(w);
  report.throw_if_failed();
  const std::vector<const Migration*> plan = plan_for(applied, options);
  if (options.before_apply && !plan.empty()) options.before_apply(plan);
  if (options_.background_queue) BackgroundQueue(connection_, background_tables()).ensure();
  const std::vector<const Migration*> repeatables = pending_repeatables(options);
  const bool work = !plan.empty() || !repeatables.empty();
  if (work) run_callback_in_transaction("before_migrate");

  UpResult result;
  // With options.group: the open group's transaction and the migrations
  // applied in it, reported once it commits.
  std::optional<Transaction> group;
  std::vector<AppliedStep> grouped;
  auto commit_group = [&] {
    if (!group) return;
    group->commit();
    group.reset();
    for (const auto& step : grouped) {
      result.applied.push_back(step);
      if (options.on_applied) options.on_applied(step);
    }
    grouped.clear();
  };
  // A failure names the migration and, inside a group, the migrations rolled
  // back with it (~Transaction does the rolling back).
  auto failed = [&](Error& e, const Migration& m) {
    e.context(fmt::format("migration {} ({}) failed", m.version, describe(m)));
    if (grouped.empty()) return;
    std::string others;
    for (const auto& s : grouped) others += fmt::format("{}{} {}", others.empty() ? "" : ", ", s.version, s.description);
    e.context(fmt::format("--group: the {} migration{} applied before it in the same transaction ({}) {} rolled back",
                          grouped.size(), grouped.size() == 1 ? "" : "s", others,
                          grouped.size() == 1 ? "was" : "were"));
  };
  for (const Migration* m : plan) {
    AppliedStep step{m->version, m->description, {}};
    const auto start = Clock::now();
    std::optional<Prepared> p;
    try {
      if (auto it = prepared.find(m); it != prepared.end()) p = std::move(it->second);
      else p = prepare(*m);
    } catch (Error& e) {
      failed(e, *m);
      throw;
    }
    const bool joins_group = options.group && p->transactional && !p->foreign_keys_off;
    if (joins_group) {
      if (!group) {
        group.emplace(connection_);
        if (ddl_guard()) set_lock_timeout();
      }
    } else {
      commit_group();
    }
    try {
      try {
        apply(*m, *p, history, joins_group);
      } catch (const Error& e) {
        // A group cannot be retried piecemeal: a lock timeout ends it at once.
        if (!joins_group || !ddl_guard() || e.engine_code() != kLockNotAvailable) throw;
        group.reset();  // roll back first, so pg_locks can be read
        throw give_up(e, 0);
      }
    } catch (Error& e) {
      if (p->transactional && needs_no_transaction(e)) {
        e.hint("this statement cannot run inside a transaction: move it to a file of its own marked "
               "-- strata: no-transaction");
      }
      failed(e, *m);
      throw;
    }
    step.duration = std::chrono::microseconds(micros_since(start));
    if (joins_group) {
      grouped.push_back(step);
      continue;
    }
    result.applied.push_back(step);
    if (options.on_applied) options.on_applied(step);
  }
  commit_group();

  // Repeatable migrations whose text changed, after every versioned one,
  // each in its own transaction with its row.
  if (!repeatables.empty()) {
    detail::RepeatableTable table(connection_, options_.history);
    table.ensure();
    for (const Migration* r : repeatables) {
      const auto start = Clock::now();
      try {
        const Prepared& p = prepared.at(r);
        Transaction tx(connection_);
        run_callback("before_each", r);
        run_statements(connection_, r->path, *p.script);
        run_callback("after_each", r);
        table.record(r->description, r->checksum, micros_since(start));
        tx.commit();
      } catch (Error& e) {
        e.context(fmt::format("repeatable migration {} failed", r->path));
        throw;
      }
      AppliedStep step{0, r->description, std::chrono::microseconds(micros_since(start))};
      step.repeatable = true;
      result.applied.push_back(step);
      result.repeatables_run.push_back(r->description);
      if (options.on_applied) options.on_applied(step);
    }
  }
  if (work) run_callback_in_transaction("after_migrate");
  return result;
}

void Migrator::apply(const Migration& m, const Prepared& p, History& history, bool in_open_transaction) {
  const auto start = Clock::now();
  auto body = [&] {
    run_callback("before_each", &m);
    if (p.script) {
      run_statements(connection_, m.path, *p.script);
    } else {
      run_code(m.up, connection_, m);
    }
    run_callback("after_each", &m);
  };
  ForeignKeysOff fk_off(connection_, p.foreign_keys_off && !in_open_transaction);
  if (in_open_transaction) {
    body();
    history.record(m, micros_since(start), true, p.floor);
  } else if (p.transactional) {
    for (int attempt = 0;; ++attempt) {
      try {
        const auto attempt_start = Clock::now();
        Transaction tx(connection_);
        if (ddl_guard()) set_lock_timeout();
        body();
        fk_off.check();
        history.record(m, micros_since(attempt_start), true, p.floor);
        tx.commit();
        return;
      } catch (const Error& e) {
        // ~Transaction has rolled the attempt back: nothing of it remains.
        if (!ddl_guard() || e.engine_code() != kLockNotAvailable) throw;
        if (attempt >= options_.ddl_retries) throw give_up(e, attempt);
        const auto wait = std::min<std::chrono::milliseconds>(options_.ddl_retry_backoff * (1LL << std::min(attempt, 16)),
                                                              std::chrono::seconds(10));
        warn(fmt::format("migration {} ({}) timed out waiting for a lock (lock_timeout {} ms); {}; rolled back, "
                         "retry {} of {} in {} ms",
                         m.version, describe(m), options_.ddl_lock_timeout.count(), lock_holders(e.sql()),
                         attempt + 1, options_.ddl_retries, wait.count()));
        std::this_thread::sleep_for(wait);
      }
    }
  } else {
    // Outside a transaction: the history says "started" first, so a
    // failure or crash part-way leaves a visible dirty record.
    history.record(m, 0, false, p.floor, "started; did not finish");
    try {
      body();
      fk_off.check();
    } catch (const Error& e) {
      const auto& at = e.position();
      std::string where = at.line > 0 ? fmt::format("statement {} at {}:{}:{}: ", at.statement, at.file, at.line, at.column)
                                      : std::string();
      history.mark_dirty(m.version, where + (e.engine_message().empty() ? e.what() : e.engine_message()));
      throw;
    }
    history.finish(m.version, micros_since(start));
  }
}

bool Migrator::ddl_guard() const {
  return connection_.engine() == Engine::postgres && options_.ddl_lock_timeout.count() > 0;
}

void Migrator::set_lock_timeout() {
  connection_.execute(fmt::format("SET LOCAL lock_timeout = {}", options_.ddl_lock_timeout.count()));
}

std::string Migrator::lock_holders(std::string_view failed_sql) {
  // The lock wait is over by now: pg_blocking_pids() has nothing to say. What
  // still shows is who holds locks on the tables the statement names (and,
  // failing that, on any table of this database).
  std::vector<std::string> tables = lint::detail::postgres_relations(failed_sql);
  const std::string base =
      "SELECT DISTINCT l.pid, coalesce(a.state, ''), coalesce(a.application_name, '') FROM pg_locks l "
      "LEFT JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.granted AND l.pid <> pg_backend_pid() "
      "AND l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";
  std::vector<Row> rows;
  try {
    if (!tables.empty()) {
      std::string in;
      std::vector<Value> params;
      for (const auto& t : tables) {
        params.emplace_back(t);
        in += fmt::format("{}to_regclass(${}::text)::oid", in.empty() ? "" : ", ", params.size());
      }
      rows = connection_.fetch(base + " AND l.relation IN (" + in + ") ORDER BY 1", params);
    }
    if (rows.empty()) rows = connection_.fetch(base + " ORDER BY 1");
  } catch (const Error& e) {
    return std::string("could not read pg_locks to name the lock holder: ") + e.engine_message();
  }
  if (rows.empty()) return "the lock was released before strata could see which pid held it";
  std::string out;
  for (const Row& r : rows) {
    std::string state = r[1].as<std::string>();
    std::string application = r[2].as<std::string>();
    out += fmt::format("{}pid {}{}", out.empty() ? "" : ", ", r[0].as<std::int64_t>(),
                       state.empty() && application.empty()
                           ? std::string()
                           : fmt::format(" ({}{}{})", state, state.empty() || application.empty() ? "" : ", ",
                                         application.empty() ? "" : "application " + application));
  }
  return "the lock was held by " + out;
}

Error Migrator::give_up(const Error& e, int retries) {
  Error out(ErrorKind::ddl_lock_timeout,
            fmt::format("the DDL lock guard gave up after {} retr{}: a lock wait timed out each time (lock_timeout "
                        "{} ms, SQLSTATE 55P03); {}; nothing of this migration was applied",
                        retries, retries == 1 ? "y" : "ies", options_.ddl_lock_timeout.count(), lock_holders(e.sql())),
            e.engine_code(), e.sql());
  out.at(e.position());
  return out;
}

DownResult Migrator::down(const DownOptions& options) {
  if (options_.history.format == HistoryFormat::mautrix) {
    // Before anything runs: mautrix-go's table cannot record a revert.
    throw Error(ErrorKind::usage,
                "mautrix-go's version table cannot record a revert (mautrix upgrades only go forward): restore "
                "a backup, or adopt the history into strata's own table (strata adopt mautrix)");
  }
  MigrationLock lock(connection_, options_.history, options_.lock);
  History history(connection_, options_.history);
  std::vector<AppliedMigration> applied = read_history(history);
  auto report = validate_history(applied, true, /*with_list=*/false);
  for (const auto& w : report.warnings) warn(w);
  report.throw_if_failed();

  // Dependents first, newest first among those free to go.
  std::map<Version, const AppliedMigration*> by_version;
  for (const auto& a : applied) by_version.emplace(a.version, &a);
  const std::vector<Version> order = revert_order(source_, applied);
  std::vector<const AppliedMigration*> range;
  if (options.base || options.target || !options.targets.empty()) {
    std::vector<Version> targets = options.targets;
    if (options.target) targets.push_back(*options.target);
    for (Version t : targets) {
      if (source_.find(t) == nullptr && by_version.count(t) == 0) {
        throw Error(ErrorKind::usage, fmt::format("target version {} is not in the migration source{}", t,
                                                  t == 0 ? " (to revert everything, use the target base)" : ""));
      }
    }
    const std::set<Version> keep = options.base ? std::set<Version>{} : RevisionGraph(source_).ancestors(targets);
    // A row the source does not know (an allowed missing migration) has no
    // place in the graph: it goes when it is newer than every target.
    const Version newest_target = targets.empty() ? 0 : *std::max_element(targets.begin(), targets.end());
    for (Version v : order) {
      const bool known = source_.find(v) != nullptr;
      if (keep.count(v) == 0 && (known || options.base || v > newest_target)) range.push_back(by_version.at(v));
    }
  } else {
    if (options.steps < 0) throw Error(ErrorKind::usage, "--steps must not be negative");
    for (std::size_t i = 0; i < order.size() && static_cast<int>(range.size()) < options.steps; ++i) {
      range.push_back(by_version.at(order[i]));
    }
  }

  std::vector<std::string> problems;
  for (const auto* a : range) {
    const Migration* m = source_.find(a->version);
    if (m == nullptr) {
      problems.push_back(fmt::format("migration {} ({}) is not in the source", a->version, a->description));
    } else if (!m->reversible()) {
      problems.push_back(fmt::format("{} has no down migration ({}_{}.down.sql)", describe(*m), a->version,
                                     m->description));
    }
  }
  if (!problems.empty()) {
    std::string message = "cannot revert: nothing was changed because";
    for (const auto& p : problems) message += "\n  " + p;
    throw Error(ErrorKind::usage, message);
  }

  if (!range.empty()) run_callback_in_transaction("before_undo");
  DownResult result;
  for (const auto* a : range) {
    const Migration& m = *source_.find(a->version);
    AppliedStep step{m.version, m.description, {}};
    revert(m, history, step);
    result.reverted.push_back(step);
    if (options.on_reverted) options.on_reverted(step);
  }
  if (!range.empty()) run_callback_in_transaction("after_undo");
  return result;
}

void Migrator::revert(const Migration& m, History& history, AppliedStep& step) {
  const auto start = Clock::now();
  try {
    bool transactional = m.code_transactional;
    std::optional<sql::Script> script;
    if (m.kind == MigrationKind::sql) {
      script = parse_or_throw(m.down_path, down_sql(m), connection_.engine());
      transactional = !script->directives.no_transaction;
    }
    ForeignKeysOff fk_off(connection_, script ? script->directives.foreign_keys_off : m.code_foreign_keys_off);
    auto body = [&] {
      run_callback("before_each_undo", &m);
      if (script) {
        run_statements(connection_, m.down_path, *script);
      } else {
        run_code(m.down, connection_, m);
      }
      run_callback("after_each_undo", &m);
    };
    if (transactional) {
      Transaction tx(connection_);
      body();
      fk_off.check();
      history.remove(m.version);
      tx.commit();
    } else {
      history.mark_dirty(m.version, "reverting with its down script; did not finish");
      body();
      fk_off.check();
      history.remove(m.version);
    }
  } catch (Error& e) {
    e.context(fmt::format("reverting migration {} ({}) failed", m.version,
                          m.kind == MigrationKind::sql ? m.down_path : describe(m)));
    throw;
  }
  step.duration = std::chrono::microseconds(micros_since(start));
}

StampResult Migrator::stamp(const StampOptions& options) {
  const RevisionGraph graph(source_);
  for (Version t : options.targets) {
    if (source_.find(t) == nullptr) {
      throw Error(ErrorKind::usage, fmt::format("target version {} is not in the migration source", t));
    }
  }
  const std::set<Version> want = options.base ? std::set<Version>{} : graph.ancestors(options.targets);
  auto compute = [&](const std::vector<AppliedMigration>& applied) {
    StampResult r;
    std::set<Version> have;
    for (const auto& a : applied) {
      have.insert(a.version);
      const bool known = source_.find(a.version) != nullptr;
      if (!a.success && !options.purge) {
        Error e(ErrorKind::dirty, fmt::format("migration {} ({}) is recorded as dirty (failed part-way); nothing "
                                              "was stamped", a.version, a.description));
        e.hint(fmt::format("settle it first with `strata repair`, or stamp with --purge to drop its row"));
        throw e;
      }
      if ((known && want.count(a.version) == 0) || (options.purge && (!known || !a.success))) {
        r.removed.push_back(a.version);
      }
    }
    for (Version v : want) {
      const bool redo = std::find(r.removed.begin(), r.removed.end(), v) != r.removed.end();
      if (have.count(v) == 0 || redo) r.added.push_back(v);
    }
    return r;
  };
  if (options.dry_run) {
    History history(connection_, options_.history);
    return compute(history.exists() ? read_history(history) : std::vector<AppliedMigration>{});
  }
  MigrationLock lock(connection_, options_.history, options_.lock);
  History history(connection_, options_.history);
  history.ensure();
  Transaction tx(connection_);
  StampResult r = compute(read_history(history));
  for (Version v : r.removed) history.remove(v);
  for (Version v : r.added) {
    const Migration& m = *source_.find(v);
    history.record(m, 0, true, prepare(m).floor);
  }
  tx.commit();
  return r;
}

void Migrator::repair_forget(Version version) {
  MigrationLock lock(connection_, options_.history, options_.lock);
  History history(connection_, options_.history);
  for (const auto& a : read_history(history)) {
    if (a.version != version) continue;
    if (a.success) {
      throw Error(ErrorKind::usage, fmt::format("migration {} is applied, not dirty: nothing to repair "
                                                "(use `strata down` to revert it)", version));
    }
    history.remove(version);
    return;
  }
  throw Error(ErrorKind::usage, fmt::format("migration {} is not recorded in the history", version));
}

void Migrator::repair_mark_applied(Version version) {
  MigrationLock lock(connection_, options_.history, options_.lock);
  History history(connection_, options_.history);
  for (const auto& a : read_history(history)) {
    if (a.version != version) continue;
    if (a.success) throw Error(ErrorKind::usage, fmt::format("migration {} is already applied", version));
    history.finish(version, a.execution_time_us);
    return;
  }
  throw Error(ErrorKind::usage, fmt::format("migration {} is not recorded in the history", version));
}

}  // namespace strata
