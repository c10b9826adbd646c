// strata dump: writes a deterministic snapshot of a database's schema as SQL
// (strata/schema/dump.hpp), to stdout or to a file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "common.hpp"
#include "strata/error.hpp"
#include "strata/schema/dump.hpp"

namespace strata::cli {
namespace {

struct DumpCommand {
  CommonOptions common;
  std::string output;  // empty: stdout
  std::string schema = "public";
  bool include_strata_tables = false;
};

Error io_error(const std::string& what, const std::string& path) {
  return Error(ErrorKind::io, fmt::format("cannot {} {}: {}", what, path, std::strerror(errno)));
}

// Writes `text` to a temporary file beside `path` and renames it over `path`,
// so nobody ever reads half a snapshot. Mode 0644 before the umask: a
// snapshot is meant to be committed and read, never world-writable.
void write_snapshot(const std::string& path, std::string_view text) {
  const std::string temporary = fmt::format("{}.tmp-{}", path, ::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error("create", temporary);
  auto fail = [&](const char* what) {
    Error e = io_error(what, temporary);
    ::close(fd);
    ::unlink(temporary.c_str());
    return e;
  };
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail("write");
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd) != 0) throw fail("flush");
  if (::close(fd) != 0) {
    Error e = io_error("close", temporary);
    ::unlink(temporary.c_str());
    throw e;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    Error e = io_error("replace", path);
    ::unlink(temporary.c_str());
    throw e;
  }
}

void run_dump(DumpCommand& cmd) {
  apply_config(cmd.common);
  ConnectOptions read_only;  // a dump never writes (not even SQLite's switch to WAL)
  read_only.read_only = true;
  auto connection = connect(database_url(cmd.common), read_only);
  schema::DumpOptions options;
  options.schema = cmd.schema;
  options.include_strata_tables = cmd.include_strata_tables;
  // A history table renamed with --history-table is still strata's own.
  if (!cmd.include_strata_tables) options.exclude_tables.push_back(cmd.common.history_table);
  std::string sql = schema::dump_schema(*connection, options);
  const char* engine = to_string(connection->engine());

  if (!cmd.output.empty()) write_snapshot(cmd.output, sql);
  if (cmd.common.json) {
    nlohmann::json j{{"engine", engine}, {"database", connection->redacted_url()}, {"sql", sql}};
    if (!cmd.output.empty()) j["output"] = cmd.output;
    print_json(j);
  } else if (!cmd.output.empty()) {
    fmt::print("Wrote the {} schema of {} to {}\n", engine, connection->redacted_url(), cmd.output);
  } else {
    std::fwrite(sql.data(), 1, sql.size(), stdout);
  }
}

}  // namespace

void setup_dump(CLI::App& app) {
  auto cmd = std::make_shared<DumpCommand>();
  CLI::App* sub = app.add_subcommand(
      "dump", "Write a deterministic snapshot of the database's schema as SQL (a full schema for fresh databases)");
  add_common_options(*sub, cmd->common);
  sub->add_option("-o,--output", cmd->output, "Write the snapshot to this file (replaced atomically) instead of stdout");
  sub->add_option("--schema", cmd->schema, "PostgreSQL: the schema to dump")->capture_default_str();
  sub->add_flag("--include-strata-tables", cmd->include_strata_tables,
                "Also dump strata's own tables (the history table and every table named strata_*)");
  sub->footer(
      "The snapshot lists tables, columns, constraints, indexes, views, triggers, sequences and (PostgreSQL)\n"
      "types and functions, in an order that depends only on the schema, with nothing volatile in it\n"
      "(no owners, privileges, OIDs, timestamps, sequence positions or SET lines). It runs unchanged as a\n"
      "migration file: a database built from it dumps to the same text. PostgreSQL names of the dumped\n"
      "schema are unqualified, so it restores into the first schema on search_path. strata's own tables\n"
      "are left out unless --include-strata-tables is given. --json prints {\"engine\", \"database\",\n"
      "\"sql\"} (and \"output\" with -o).\n\n"
      "Examples:\n"
      "  strata dump -d sqlite:app.db\n"
      "  strata dump -d postgresql://app@localhost/app -o schema/full_schemas/13/full.sql.postgres\n"
      "  strata dump -d postgresql://app@localhost/app --schema reporting --json");
  sub->callback([cmd] { run_dump(*cmd); });
}

}  // namespace strata::cli
