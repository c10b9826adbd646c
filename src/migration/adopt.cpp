// Migrator::adopt and the readers of other tools' tables (strata/adopt.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "migration/lock.hpp"
#include "strata/source.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/graph.hpp"
#include "strata/migrator.hpp"
#include "strata/transaction.hpp"

namespace strata {

const char* to_string(AdoptFrom from) noexcept {
  switch (from) {
    case AdoptFrom::alembic: return "alembic";
    case AdoptFrom::mautrix: return "mautrix";
    case AdoptFrom::dbmate: return "dbmate";
    case AdoptFrom::golang_migrate: return "golang-migrate";
    case AdoptFrom::flyway: return "flyway";
  }
  return "unknown";
}

std::int32_t flyway_checksum(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  // CRC-32 (ISO-HDLC) over each line's bytes without its line break
  // (\n, \r\n or \r), as Java's BufferedReader.readLine() splits them.
  std::uint32_t crc = 0xFFFFFFFFu;
  auto feed = [&](std::string_view bytes) {
    for (unsigned char b : bytes) {
      crc ^= b;
      for (int k = 0; k < 8; ++k) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
  };
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n' && text[i] != '\r') continue;
    feed(text.substr(start, i - start));
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  feed(text.substr(start));
  return static_cast<std::int32_t>(crc ^ 0xFFFFFFFFu);
}

namespace {

const char* default_table(AdoptFrom from) {
  switch (from) {
    case AdoptFrom::alembic: return "alembic_version";
    case AdoptFrom::mautrix: return "version";
    case AdoptFrom::dbmate:
    case AdoptFrom::golang_migrate: return "schema_migrations";
    case AdoptFrom::flyway: return "flyway_schema_history";
  }
  return "";
}

std::optional<Version> as_version(std::string_view text) {
  Version v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

// The columns of a table, or empty when it does not exist.
std::vector<std::string> columns_of(Connection& c, const std::string& schema, const std::string& table) {
  std::vector<std::string> out;
  const auto rows = c.engine() == Engine::sqlite
                        ? c.query("SELECT name FROM pragma_table_info($1)", {table})
                        : c.query("SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 "
                                  "AND table_name = $2 ORDER BY ordinal_position",
                                  {schema, table});
  for (const auto& r : rows.rows) out.push_back(r.get<std::string>(0));
  return out;
}

bool has(const std::vector<std::string>& columns, std::string_view name) {
  return std::find(columns.begin(), columns.end(), name) != columns.end();
}

// Every version of the source up to `v`.
std::vector<Version> up_to(const MigrationSet& source, Version v) {
  std::vector<Version> out;
  for (const Migration& m : source.all()) {
    if (m.version <= v) out.push_back(m.version);
  }
  return out;
}

}  // namespace

AdoptResult Migrator::adopt(const AdoptOptions& options) {
  const std::string table = options.table.empty() ? default_table(options.from) : options.table;
  const std::string schema = options.schema.empty() ? options_.history.schema : options.schema;
  validate_identifier(table, fmt::format("{} table name", to_string(options.from)));
  if (connection_.engine() == Engine::postgres) validate_schema_name(schema, "schema name");
  const std::string qualified = connection_.engine() == Engine::sqlite
                                    ? Connection::quote_identifier(table)
                                    : Connection::quote_identifier(schema) + "." + Connection::quote_identifier(table);
  const std::string tool = to_string(options.from);

  // Reads the other tool's table: the versions it says are applied.
  auto read_other = [&](AdoptResult& result) {
    const std::vector<std::string> columns = columns_of(connection_, schema, table);
    auto need = [&](std::initializer_list<const char*> names) {
      std::string missing;
      for (const char* n : names) {
        if (!has(columns, n)) missing += std::string(missing.empty() ? "" : ", ") + n;
      }
      if (columns.empty()) {
        throw Error(ErrorKind::config, fmt::format("there is no {} table {} in this database to adopt (give another "
                                                   "with --table)", tool, qualified));
      }
      if (!missing.empty()) {
        std::string found;
        for (const auto& c : columns) found += (found.empty() ? "" : ", ") + c;
        throw Error(ErrorKind::config, fmt::format("{} is not laid out as {}'s table: it lacks {} (columns found: {})",
                                                   qualified, tool, missing, found));
      }
    };
    std::vector<std::string> problems;
    std::set<Version> versions;
    const RevisionGraph graph(source_);
    auto known = [&](Version v, std::string_view what) {
      if (source_.find(v) != nullptr) return true;
      problems.push_back(fmt::format("{} says version {} is applied, but the source has no migration {}", what, v, v));
      return false;
    };
    switch (options.from) {
      case AdoptFrom::alembic: {
        need({"version_num"});
        std::vector<Version> heads;
        for (const auto& r : connection_.query("SELECT version_num FROM " + qualified).rows) {
          const std::string rev = r.get<std::string>(0);
          result.found += (result.found.empty() ? "alembic heads " : ", ") + rev;
          const Migration* match = nullptr;
          for (const Migration& m : source_.all()) {
            if (m.alembic_revision == rev) match = &m;
          }
          if (match == nullptr) {
            problems.push_back(fmt::format("alembic_version names revision {}, which no migration carries (add "
                                           "-- strata: alembic-revision {} to the file that replaces it)",
                                           rev, rev));
          } else {
            heads.push_back(match->version);
          }
        }
        if (result.found.empty()) result.found = "alembic_version is empty (base)";
        for (Version v : graph.ancestors(heads)) versions.insert(v);
        break;
      }
      case AdoptFrom::mautrix: {
        need({"version"});
        const auto rows = connection_.query("SELECT version" + std::string(has(columns, "compat") ? ", compat" : "") +
                                            " FROM " + qualified).rows;
        if (rows.size() != 1) {
          throw Error(ErrorKind::config, fmt::format("mautrix's {} should hold one row, not {}", qualified, rows.size()));
        }
        const Version v = rows[0].get<std::int64_t>(0);
        result.found = fmt::format("mautrix version {}{}", v,
                                   has(columns, "compat") && !rows[0][1].is_null()
                                       ? fmt::format(" (compatible with v{}+)", rows[0].get<std::int64_t>(1))
                                       : std::string());
        if (v > 0 && known(v, "mautrix's version table")) {
          for (Version x : up_to(source_, v)) versions.insert(x);
        }
        break;
      }
      case AdoptFrom::dbmate:
      case AdoptFrom::golang_migrate: {
        need({"version"});
        const bool golang = has(columns, "dirty");
        if (golang) {
          const auto rows = connection_.query("SELECT CAST(version AS TEXT), dirty FROM " + qualified).rows;
          if (rows.size() > 1) {
            throw Error(ErrorKind::config, fmt::format("golang-migrate's {} should hold one row, not {}", qualified,
                                                       rows.size()));
          }
          if (rows.empty()) {
            result.found = "golang-migrate: nothing applied";
            break;
          }
          const auto v = as_version(rows[0].get<std::string>(0));
          if (rows[0].get<bool>(1)) {
            throw Error(ErrorKind::dirty, fmt::format("golang-migrate left version {} dirty (failed part-way): settle "
                                                      "it with golang-migrate's force first; nothing was adopted",
                                                      rows[0].get<std::string>(0)));
          }
          result.found = "golang-migrate version " + rows[0].get<std::string>(0);
          if (v && known(*v, "golang-migrate")) {
            for (Version x : up_to(source_, *v)) versions.insert(x);
          }
        } else {
          for (const auto& r : connection_.query("SELECT CAST(version AS TEXT) FROM " + qualified).rows) {
            const std::string text = r.get<std::string>(0);
            const auto v = as_version(text);
            if (!v) {
              problems.push_back(fmt::format("dbmate's version '{}' is not an integer version", text));
            } else if (known(*v, "dbmate")) {
              versions.insert(*v);
            }
          }
          result.found = fmt::format("dbmate: {} applied version{}", versions.size(), versions.size() == 1 ? "" : "s");
        }
        break;
      }
      case AdoptFrom::flyway: {
        need({"version", "checksum", "success", "type", "script"});
        const auto rows = connection_.query("SELECT version, checksum, success, type, script FROM " + qualified +
                                            " WHERE version IS NOT NULL ORDER BY installed_rank")
                              .rows;
        for (const auto& r : rows) {
          const std::string text = r.get<std::string>(0);
          const std::string type = r.get<std::string>(3);
          const auto v = as_version(text);
          if (!v) {
            problems.push_back(fmt::format("flyway version {} ({}) is not an integer version", text,
                                           r.get<std::string>(4)));
            continue;
          }
          if (!r.get<bool>(2)) {
            throw Error(ErrorKind::dirty, fmt::format("flyway recorded version {} ({}) as failed: repair it with "
                                                      "Flyway first; nothing was adopted",
                                                      text, r.get<std::string>(4)));
          }
          if (!known(*v, "flyway_schema_history")) continue;
          if (type == "BASELINE") {
            for (Version x : up_to(source_, *v)) versions.insert(x);
            continue;
          }
          const Migration& m = *source_.find(*v);
          if (type == "SQL" && !r[1].is_null() && m.kind == MigrationKind::sql) {
            const auto recorded = static_cast<std::int32_t>(r.get<std::int64_t>(1));
            const std::int32_t now = flyway_checksum(up_sql(m));
            if (recorded != now) {
              problems.push_back(fmt::format("{}: Flyway recorded checksum {} for version {} ({}) but the file's is "
                                             "{}: it changed since Flyway applied it",
                                             m.path, recorded, text, r.get<std::string>(4), now));
              continue;
            }
          }
          versions.insert(*v);
        }
        result.found = fmt::format("flyway: {} applied version{}", versions.size(), versions.size() == 1 ? "" : "s");
        break;
      }
    }
    if (!problems.empty()) {
      std::string message = fmt::format("cannot adopt {}'s history from {}; nothing was written:", tool, qualified);
      for (const auto& p : problems) message += "\n  " + p;
      throw Error(ErrorKind::validation, message);
    }
    result.recorded.assign(versions.begin(), versions.end());
  };

  auto refuse_if_history = [&](History& history) {
    if (!history.exists()) return;
    const auto rows = read_history(history);
    if (!rows.empty()) {
      throw Error(ErrorKind::usage,
                  fmt::format("{} already records {} migration{}: adopt starts an empty history (use `strata stamp` "
                              "to adjust one)",
                              history.qualified_name(), rows.size(), rows.size() == 1 ? "" : "s"));
    }
  };

  AdoptResult result;
  if (options.dry_run) {
    History history(connection_, options_.history);
    refuse_if_history(history);
    read_other(result);
    return result;
  }
  MigrationLock lock(connection_, options_.history, options_.lock);
  History history(connection_, options_.history);
  refuse_if_history(history);
  history.ensure();
  Transaction tx(connection_);
  read_other(result);
  for (Version v : result.recorded) {
    const Migration& m = *source_.find(v);
    history.record(m, 0, true, compat_floor_of(m));
  }
  tx.commit();
  return result;
}

}  // namespace strata
