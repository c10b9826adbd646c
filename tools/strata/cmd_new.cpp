// strata new: create the next migration file.
#include <fmt/format.h>
#include <fmt/chrono.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common.hpp"
#include "strata/error.hpp"
#include "strata/source.hpp"

namespace strata::cli {
namespace {
namespace fs = std::filesystem;

struct NewCommand {
  CommonOptions common;
  std::string description;
  bool reversible = false;
  bool timestamp = false;
  bool sequential = false;
};

// Timestamps are 14 digits (YYYYMMDDhhmmss); anything shorter is sequential.
constexpr std::size_t timestamp_digits = 14;

std::string sanitize(const std::string& description) {
  std::string out;
  for (char c : description) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                static_cast<unsigned char>(c) >= 0x80;
    if (word) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

void write_new_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::out | std::ios::trunc);
  if (!out || !(out << text) || !out.flush()) {
    throw Error(ErrorKind::io, "cannot write " + path.string());
  }
}

void run_new(NewCommand& cmd) {
  apply_config(cmd.common);
  std::string description = sanitize(cmd.description);
  if (description.empty()) {
    throw Error(ErrorKind::usage, "the description must contain letters or digits, as in `strata new add_users`");
  }
  fs::path dir = cmd.common.source;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::io, "cannot create " + dir.string() + ": " + ec.message());

  // Infer the numbering from the files already there.
  Version max_version = 0;
  std::size_t width = 4;
  bool any = false, timestamps = false;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string why;
    auto name = parse_file_name(entry.path().filename().string(), &why);
    if (!name) continue;
    any = true;
    max_version = std::max(max_version, name->version);
    width = std::max(width, name->version_text.size());
    timestamps = timestamps || name->version_text.size() >= timestamp_digits;
  }
  bool use_timestamp = cmd.timestamp || (!cmd.sequential && any && timestamps);

  std::string version;
  if (use_timestamp) {
    auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    Version v = std::stoll(fmt::format("{:%Y%m%d%H%M%S}", now));
    if (v <= max_version) v = max_version + 1;  // two in one second, or a clock behind
    version = std::to_string(v);
  } else {
    version = fmt::format("{:0{}}", max_version + 1, width);
  }

  std::string stem = version + "_" + description;
  std::vector<fs::path> created;
  auto header = [&](const char* what) {
    return fmt::format(
        "-- {}: {}\n"
        "-- Directives go on the first lines, e.g. `-- strata: no-transaction`.\n\n",
        what, cmd.description);
  };
  if (cmd.reversible) {
    created = {dir / (stem + ".up.sql"), dir / (stem + ".down.sql")};
  } else {
    created = {dir / (stem + ".sql")};
  }
  for (const auto& p : created) {
    if (fs::exists(p)) throw Error(ErrorKind::io, p.string() + " already exists");
  }
  write_new_file(created[0], header(cmd.reversible ? "Up" : "Migration"));
  if (cmd.reversible) write_new_file(created[1], header("Down (undoes the up file)"));

  if (cmd.common.json) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& p : created) files.push_back(p.string());
    print_json({{"version", version}, {"description", description}, {"files", files}});
    return;
  }
  for (const auto& p : created) fmt::print("Created {}\n", p.string());
}

}  // namespace

void setup_new(CLI::App& app) {
  auto cmd = std::make_shared<NewCommand>();
  CLI::App* sub = app.add_subcommand("new", "Create the next migration file");
  sub->add_option("description", cmd->description, "What the migration does (becomes part of the file name)")
      ->required();
  cmd->common.app = sub;
  sub->add_option("-s,--source", cmd->common.source, "Directory of migration files")->capture_default_str();
  sub->add_option("-c,--config", cmd->common.config, "Config file ([migrations] source = ...)")
      ->capture_default_str();
  sub->add_flag("-r,--reversible", cmd->reversible, "Write an .up.sql/.down.sql pair");
  auto* ts = sub->add_flag("--timestamp", cmd->timestamp, "Number by UTC timestamp (YYYYMMDDhhmmss)");
  sub->add_flag("--sequential", cmd->sequential, "Number sequentially (0001, 0002, ...)")->excludes(ts);
  add_json_option(*sub, cmd->common);
  sub->footer(
      "The numbering follows the files already there: timestamps if they use timestamps,\n"
      "otherwise the next sequential number with the same zero-padding (0001 for a new\n"
      "directory).\n\n"
      "Examples:\n"
      "  strata new add_users                  # migrations/0004_add_users.sql after 0003\n"
      "  strata new \"add email index\" -r       # 0005_add_email_index.up.sql and .down.sql\n"
      "  strata new backfill --timestamp -s db/migrations");
  sub->callback([cmd] { run_new(*cmd); });
}

}  // namespace strata::cli
