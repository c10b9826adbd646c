#include "strata/migrator.hpp"

#include <fmt/format.h>

#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/sql/splitter.hpp"
#include "strata/transaction.hpp"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

// The file position of byte `offset` inside statement `s` (the engine's error
// offset), or of the statement's start when the engine gave none.
SourcePosition position_of(const Migration& m, const sql::Statement& s, int index, int offset) {
  SourcePosition p{m.path, s.line, s.column, index};
  if (offset <= 0 || static_cast<std::size_t>(offset) > s.text.size()) return p;
  for (int i = 0; i < offset; ++i) {
    if (s.text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if (s.text[i] != '\r') {
      ++p.column;
    }
  }
  return p;
}

sql::Script parse_or_throw(const Migration& m, Engine engine) {
  sql::Script script = sql::parse_script(m.sql, engine);
  if (!script.ok()) {
    std::string message = "cannot split " + m.path + ":";
    for (const auto& d : script.diagnostics) {
      if (d.severity == sql::Diagnostic::Severity::error) message += "\n" + sql::render(d, m.path, m.sql);
    }
    Error e(ErrorKind::source, message);
    const auto& first = script.diagnostics.front();
    e.at(SourcePosition{m.path, first.line, first.column, 0});
    throw e;
  }
  return script;
}

// Runs every statement; on failure rethrows the engine's error with the
// statement's file position.
void run_statements(Connection& c, const Migration& m, const sql::Script& script) {
  int index = 0;
  for (const auto& s : script.statements) {
    ++index;
    try {
      c.execute(s.text);
    } catch (Error& e) {
      e.at(position_of(m, s, index, e.sql_offset()));
      throw;
    }
  }
}

std::string describe(const Migration& m) {
  return m.kind == MigrationKind::sql ? m.path
                                      : fmt::format("code migration {} ({})", m.version, m.description);
}

}  // namespace

Migrator::Migrator(Connection& connection, const MigrationSet& source, MigratorOptions options)
    : connection_(connection), source_(source), options_(std::move(options)) {}

StatusReport Migrator::status() {
  History history(connection_, options_.history);
  StatusReport report;
  report.history_exists = history.exists();
  std::vector<AppliedMigration> applied;
  if (report.history_exists) applied = history.read();
  report.migrations = compare(source_, applied);
  return report;
}

UpResult Migrator::up(const UpOptions& options) {
  History history(connection_, options_.history);
  history.ensure();
  std::vector<AppliedMigration> applied = history.read();

  for (const auto& st : compare(source_, applied)) {
    if (st.state == MigrationState::dirty) {
      throw Error(ErrorKind::dirty,
                  fmt::format("migration {} ({}) failed part-way and left the database dirty: {}\n"
                              "Undo or finish its effects by hand, then run `strata repair --forget {}` "
                              "or `strata repair --mark-applied {}`.",
                              st.version, st.description, st.applied->failure, st.version, st.version));
    }
    if (st.state == MigrationState::changed) {
      throw Error(ErrorKind::validation,
                  fmt::format("{} was changed after it was applied: the database recorded checksum {} "
                              "but the file now has {}",
                              st.migration->path, st.applied->checksum, st.migration->checksum));
    }
    if (st.state == MigrationState::missing) {
      throw Error(ErrorKind::validation,
                  fmt::format("migration {} ({}) is applied but missing from the source",
                              st.version, st.description));
    }
  }

  UpResult result;
  for (const Migration* m : plan_up(source_, applied, options.target)) {
    AppliedStep step{m->version, m->description, {}};
    apply(*m, history, step);
    result.applied.push_back(step);
    if (options.on_applied) options.on_applied(step);
  }
  return result;
}

void Migrator::apply(const Migration& m, History& history, AppliedStep& step) {
  const Engine engine = connection_.engine();
  const auto start = Clock::now();
  try {
    if (m.kind == MigrationKind::code) {
      if (m.code_transactional) {
        Transaction tx(connection_);
        m.up(connection_, engine);
        history.record(m, micros_since(start), true);
        tx.commit();
      } else {
        history.record(m, 0, false);
        try {
          m.up(connection_, engine);
        } catch (const std::exception& e) {
          history.mark_failed(m.version, e.what());
          throw;
        }
        history.finish(m.version, micros_since(start));
      }
    } else {
      sql::Script script = parse_or_throw(m, engine);
      if (!script.directives.no_transaction) {
        Transaction tx(connection_);
        run_statements(connection_, m, script);
        history.record(m, micros_since(start), true);
        tx.commit();
      } else {
        // Outside a transaction: the history says "started" first, so a
        // failure or crash part-way leaves a visible dirty record.
        history.record(m, 0, false);
        try {
          run_statements(connection_, m, script);
        } catch (const Error& e) {
          const auto& p = e.position();
          history.mark_failed(m.version, fmt::format("statement {} at {}:{}:{}: {}", p.statement,
                                                     p.file, p.line, p.column, e.engine_message()));
          throw;
        }
        history.finish(m.version, micros_since(start));
      }
    }
  } catch (Error& e) {
    e.context(fmt::format("migration {} ({}) failed", m.version, describe(m)));
    throw;
  }
  step.duration = std::chrono::microseconds(micros_since(start));
}

}  // namespace strata
