// The revision graph: strata heads, branches, current, history, stamp, merge
// (docs/graph.md). heads, branches and history read only the migration
// files; current and stamp read (stamp writes) the database's history.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "common.hpp"
#include "strata/error.hpp"
#include "strata/graph.hpp"
#include "strata/history.hpp"

namespace strata::cli {
namespace {
namespace fs = std::filesystem;

std::string join(const std::vector<Version>& vs, std::string_view sep = ", ") {
  std::string out;
  for (Version v : vs) out += (out.empty() ? "" : std::string(sep)) + std::to_string(v);
  return out;
}

nlohmann::json node_json(const RevisionGraph& g, const Migration& m) {
  return {{"version", m.version},
          {"description", m.description},
          {"file", m.path},
          {"parents", m.parents},
          {"depends_on", m.depends_on},
          {"branch", g.label_of(m.version)},
          {"head", g.is_head(m.version)},
          {"branch_point", g.is_branch_point(m.version)},
          {"merge_point", g.is_merge_point(m.version)}};
}

// "(head) (branchpoint) (mergepoint) (label: x)"
std::string marks(const RevisionGraph& g, const Migration& m) {
  std::string out;
  if (g.is_head(m.version)) out += " (head)";
  if (g.is_branch_point(m.version)) out += " (branchpoint)";
  if (g.is_merge_point(m.version)) out += " (mergepoint)";
  if (const std::string label = g.label_of(m.version); !label.empty()) out += " (" + label + ")";
  return out;
}

// ------------------------------------------------------------------ heads

struct SourceCommand {
  CommonOptions common;
  std::string range;  // history -r
  bool verbose = false;
};

void run_heads(SourceCommand& cmd) {
  apply_config(cmd.common);
  const MigrationSet source = load_source(cmd.common, source_engine(cmd.common));
  const RevisionGraph g(source);
  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (Version v : g.heads()) list.push_back(node_json(g, *source.find(v)));
    print_json({{"source", cmd.common.source}, {"heads", list}});
    return;
  }
  for (Version v : g.heads()) {
    const Migration& m = *source.find(v);
    fmt::print("{}{}, {}\n", m.version, marks(g, m), m.description);
  }
}

void run_branches(SourceCommand& cmd) {
  apply_config(cmd.common);
  const MigrationSet source = load_source(cmd.common, source_engine(cmd.common));
  const RevisionGraph g(source);
  std::set<std::string> labels;
  for (const Migration& m : source.all()) {
    if (!m.branch.empty()) labels.insert(m.branch);
  }
  if (cmd.common.json) {
    nlohmann::json points = nlohmann::json::array();
    for (const Migration& m : source.all()) {
      if (!g.is_branch_point(m.version)) continue;
      nlohmann::json j = node_json(g, m);
      j["children"] = g.children(m.version);
      points.push_back(j);
    }
    nlohmann::json by_label = nlohmann::json::array();
    for (const auto& l : labels) by_label.push_back({{"label", l}, {"heads", g.heads_of_label(l)}});
    print_json({{"source", cmd.common.source}, {"branch_points", points}, {"labels", by_label}});
    return;
  }
  bool any = false;
  for (const Migration& m : source.all()) {
    if (!g.is_branch_point(m.version)) continue;
    any = true;
    fmt::print("{}{}, {}\n", m.version, marks(g, m), m.description);
    for (Version c : g.children(m.version)) {
      const Migration& child = *source.find(c);
      fmt::print("  -> {}{}, {}\n", c, marks(g, child), child.description);
    }
  }
  for (const auto& l : labels) fmt::print("label {}: head {}\n", l, join(g.heads_of_label(l)));
  if (!any && labels.empty()) fmt::print("No branches: every migration has at most one child.\n");
}

// ---------------------------------------------------------------- history

// The versions a history range covers: descendants of A (and A), ancestors
// of B (and B). "A:" and ":B" leave a side open; base on the left is open.
std::vector<Version> history_range(const RevisionGraph& g, const std::string& range,
                                   const std::vector<AppliedMigration>* applied) {
  const MigrationSet& set = g.set();
  std::set<Version> in;
  for (const Migration& m : set.all()) in.insert(m.version);
  if (range.empty()) return {in.begin(), in.end()};
  const auto colon = range.find(':');
  const std::string from = colon == std::string::npos ? range : range.substr(0, colon);
  const std::string to = colon == std::string::npos ? std::string() : range.substr(colon + 1);
  auto resolve = [&](const std::string& text) {
    ResolvedTarget t = resolve_target(g, text, applied);
    if (t.relative) throw Error(ErrorKind::usage, "history -r takes versions, head(s), base or current, not " + text);
    return t;
  };
  if (!from.empty()) {
    ResolvedTarget a = resolve(from);
    if (!a.base) {
      std::set<Version> below;
      for (Version v : a.versions) {
        for (Version d : g.descendants(v)) below.insert(d);
      }
      std::set<Version> keep;
      std::set_intersection(in.begin(), in.end(), below.begin(), below.end(), std::inserter(keep, keep.begin()));
      in = keep;
    }
  }
  if (!to.empty()) {
    ResolvedTarget b = resolve(to);
    const std::set<Version> above = b.base ? std::set<Version>{} : g.ancestors(b.versions);
    std::set<Version> keep;
    std::set_intersection(in.begin(), in.end(), above.begin(), above.end(), std::inserter(keep, keep.begin()));
    in = keep;
  }
  return {in.begin(), in.end()};
}

void run_history(SourceCommand& cmd) {
  apply_config(cmd.common);
  std::unique_ptr<Connection> connection;
  std::vector<AppliedMigration> applied;
  const bool needs_db = cmd.range.find("current") != std::string::npos;
  if (needs_db) {
    connection = open_database(cmd.common);
    History h(*connection, migrator_options(cmd.common).history);
    if (h.exists()) applied = h.read();
  }
  const MigrationSet source =
      load_source(cmd.common, connection ? connection->engine() : source_engine(cmd.common));
  const RevisionGraph g(source);
  const std::vector<Version> range = history_range(g, cmd.range, needs_db ? &applied : nullptr);
  const std::set<Version> wanted(range.begin(), range.end());
  // Newest first: the reverse of a topological order.
  std::vector<Version> order = g.topological();
  std::reverse(order.begin(), order.end());
  nlohmann::json list = nlohmann::json::array();
  for (Version v : order) {
    if (wanted.count(v) == 0) continue;
    const Migration& m = *source.find(v);
    if (cmd.common.json) {
      list.push_back(node_json(g, m));
      continue;
    }
    const std::string parents = m.parents.empty() ? "<base>" : join(m.parents);
    if (!cmd.verbose) {
      fmt::print("{} -> {}{}, {}\n", parents, m.version, marks(g, m), m.description);
      continue;
    }
    fmt::print("Version: {}{}\nParents: {}\n", m.version, marks(g, m), parents);
    if (!m.depends_on.empty()) fmt::print("Depends on: {}\n", join(m.depends_on));
    if (g.is_branch_point(m.version)) fmt::print("Branches into: {}\n", join(g.children(m.version)));
    if (!m.alembic_revision.empty()) fmt::print("Alembic revision: {}\n", m.alembic_revision);
    fmt::print("Path: {}{}\n\n    {}\n\n", m.path, m.down_path.empty() ? "" : " (down: " + m.down_path + ")",
               m.description);
  }
  if (cmd.common.json) print_json({{"source", cmd.common.source}, {"range", cmd.range}, {"migrations", list}});
}

// ---------------------------------------------------------------- current

struct CurrentCommand {
  CommonOptions common;
};

void run_current(CurrentCommand& cmd) {
  apply_config(cmd.common);
  auto connection = open_database(cmd.common);
  const MigrationSet source = load_source(cmd.common, connection->engine());
  const RevisionGraph g(source);
  History history(*connection, migrator_options(cmd.common).history);
  const std::vector<AppliedMigration> applied = history.exists() ? history.read() : std::vector<AppliedMigration>{};
  std::set<Version> done;
  for (const auto& a : applied) {
    if (a.success) done.insert(a.version);
  }
  // The applied heads: applied migrations none of whose children is applied.
  std::vector<Version> current, unknown, dirty;
  for (const auto& a : applied) {
    if (!a.success) {
      dirty.push_back(a.version);
    } else if (source.find(a.version) == nullptr) {
      unknown.push_back(a.version);
    } else if (std::none_of(g.children(a.version).begin(), g.children(a.version).end(),
                            [&](Version c) { return done.count(c) != 0; })) {
      current.push_back(a.version);
    }
  }
  if (cmd.common.json) {
    nlohmann::json list = nlohmann::json::array();
    for (Version v : current) list.push_back(node_json(g, *source.find(v)));
    print_json({{"database", connection->redacted_url()},
                {"current", list},
                {"unknown", unknown},
                {"dirty", dirty},
                {"at_heads", !current.empty() && std::all_of(g.heads().begin(), g.heads().end(), [&](Version h) {
                   return done.count(h) != 0;
                 })}});
    return;
  }
  if (current.empty() && unknown.empty() && dirty.empty()) fmt::print("base (nothing applied)\n");
  for (Version v : current) {
    const Migration& m = *source.find(v);
    fmt::print("{}{}, {}\n", m.version, marks(g, m), m.description);
  }
  for (Version v : unknown) fmt::print("{} (applied, not in the source)\n", v);
  for (Version v : dirty) fmt::print("{} (dirty: failed part-way; see strata repair)\n", v);
}

// ------------------------------------------------------------------ stamp

struct StampCommand {
  CommonOptions common;
  std::string target;
  bool purge = false;
  bool dry_run = false;
};

void run_stamp(StampCommand& cmd) {
  apply_config(cmd.common);
  auto connection = open_database(cmd.common);
  const MigrationSet source = load_source(cmd.common, connection->engine());
  const RevisionGraph g(source);
  Migrator migrator(*connection, source, migrator_options(cmd.common));
  StampOptions options;
  options.purge = cmd.purge;
  options.dry_run = cmd.dry_run;
  History history(*connection, migrator_options(cmd.common).history);
  const std::vector<AppliedMigration> applied = history.exists() ? history.read() : std::vector<AppliedMigration>{};
  ResolvedTarget t = resolve_target(g, cmd.target, &applied);
  if (t.relative) {
    // +N: the next N pending migrations on top of what is applied; -N: the
    // last N applied removed.
    std::vector<Version> keep;
    for (const auto& a : applied) {
      if (a.success && source.find(a.version) != nullptr) keep.push_back(a.version);
    }
    if (*t.relative > 0) {
      UpOptions up;
      up.targets = g.heads();
      std::vector<const Migration*> plan = plan_up(source, applied, g.heads());
      for (int i = 0; i < *t.relative && i < static_cast<int>(plan.size()); ++i) keep.push_back(plan[i]->version);
    } else {
      std::vector<Version> order = revert_order(source, applied);
      std::set<Version> drop(order.begin(), order.begin() + std::min<std::size_t>(order.size(), -*t.relative));
      std::erase_if(keep, [&](Version v) { return drop.count(v) != 0; });
    }
    t.versions = keep;
    t.base = keep.empty();
  }
  options.base = t.base;
  options.targets = t.versions;
  const StampResult r = migrator.stamp(options);
  if (cmd.common.json) {
    print_json({{"database", connection->redacted_url()},
                {"target", cmd.target},
                {"added", r.added},
                {"removed", r.removed},
                {"dry_run", cmd.dry_run}});
    return;
  }
  const char* verb = cmd.dry_run ? "Would" : "";
  if (r.added.empty() && r.removed.empty()) {
    fmt::print("The history already says {}; nothing {}.\n", cmd.target, cmd.dry_run ? "would change" : "changed");
    return;
  }
  if (!r.added.empty()) {
    fmt::print("{}{} as applied (without running them): {}\n", verb, cmd.dry_run ? " record" : "Recorded",
               describe_versions(source, r.added));
  }
  if (!r.removed.empty()) {
    fmt::print("{}{} from the history (without reverting them): {}\n", verb, cmd.dry_run ? " remove" : "Removed",
               join(r.removed));
  }
}

// ------------------------------------------------------------------ merge

struct MergeCommand {
  CommonOptions common;
  std::vector<std::string> heads;
  std::string message;
};

void run_merge(MergeCommand& cmd) {
  apply_config(cmd.common);
  const MigrationSet source = load_source(cmd.common, source_engine(cmd.common));
  const RevisionGraph g(source);
  std::vector<Version> parents;
  if (cmd.heads.empty()) {
    parents = g.heads();
  } else {
    for (const auto& h : cmd.heads) {
      ResolvedTarget t = resolve_target(g, h);
      if (t.relative || t.base) throw Error(ErrorKind::usage, "merge takes versions or heads, not " + h);
      parents.insert(parents.end(), t.versions.begin(), t.versions.end());
    }
  }
  std::sort(parents.begin(), parents.end());
  parents.erase(std::unique(parents.begin(), parents.end()), parents.end());
  if (parents.size() < 2) {
    throw Error(ErrorKind::usage, fmt::format("nothing to merge: {} (a merge joins two heads or more)",
                                              parents.empty() ? "no migrations" : "one head, " + join(parents)));
  }
  std::string description;
  for (char c : cmd.message) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (word) description += c;
    else if (!description.empty() && description.back() != '_') description += '_';
  }
  while (!description.empty() && description.back() == '_') description.pop_back();
  if (description.empty()) throw Error(ErrorKind::usage, "-m needs a description with letters or digits");
  const std::string version = next_version_text(cmd.common.source, false, false);
  // A pair, so `down` can pass back through the merge: reverting an empty
  // merge runs nothing and removes its row.
  const fs::path up = fs::path(cmd.common.source) / (version + "_" + description + ".up.sql");
  const fs::path down = fs::path(cmd.common.source) / (version + "_" + description + ".down.sql");
  for (const auto& p : {up, down}) {
    if (fs::exists(p)) throw Error(ErrorKind::io, p.string() + " already exists");
  }
  std::string text = parents_directive(parents);
  text += fmt::format("-- Merge: {}\n-- Joins the branches ending at {}. Add statements here only if the branches\n"
                      "-- need reconciling; an empty merge runs nothing and records its version.\n",
                      cmd.message, describe_versions(source, parents));
  const std::string down_text = fmt::format("-- Down: {} (an empty merge has nothing to undo)\n", cmd.message);
  for (const auto& [p, t] : {std::pair{up, text}, std::pair{down, down_text}}) {
    std::ofstream out(p, std::ios::binary);
    if (!out || !(out << t) || !out.flush()) throw Error(ErrorKind::io, "cannot write " + p.string());
  }
  const fs::path& path = up;
  if (cmd.common.json) {
    print_json({{"version", version}, {"file", path.string()}, {"parents", parents}});
    return;
  }
  fmt::print("Created {} (parents {})\n", path.string(), join(parents));
}

}  // namespace

void setup_graph(CLI::App& app) {
  {
    auto cmd = std::make_shared<SourceCommand>();
    CLI::App* sub = app.add_subcommand("heads", "List the heads of the revision graph (migrations nothing follows)");
    add_common_options(*sub, cmd->common);
    sub->footer("Reads the migration files only. Several heads mean unmerged branches: `up` refuses them\n"
                "until `strata merge` joins them (or `up --target heads` applies every branch).");
    sub->callback([cmd] { run_heads(*cmd); });
  }
  {
    auto cmd = std::make_shared<SourceCommand>();
    CLI::App* sub = app.add_subcommand("branches", "List branch points and branch labels");
    add_common_options(*sub, cmd->common);
    sub->callback([cmd] { run_branches(*cmd); });
  }
  {
    auto cmd = std::make_shared<SourceCommand>();
    CLI::App* sub = app.add_subcommand("history", "List the migrations as a graph, newest first");
    add_common_options(*sub, cmd->common);
    sub->add_option("-r,--rev-range", cmd->range,
                    "A:B, the migrations from A (inclusive) to B (inclusive); either side may be left out, and "
                    "each is a version, a unique prefix, head, heads, base, LABEL@head or current");
    sub->add_flag("-v,--verbose", cmd->verbose, "Show parents, dependencies, labels and files in full");
    sub->footer("Examples:\n"
                "  strata history\n"
                "  strata history -r 0003:head --verbose\n"
                "  strata history -r current:heads -d sqlite:app.db   # what `up --target heads` would add");
    sub->callback([cmd] { run_history(*cmd); });
  }
  {
    auto cmd = std::make_shared<CurrentCommand>();
    CLI::App* sub = app.add_subcommand("current", "Show the database's current version(s): its applied heads");
    add_common_options(*sub, cmd->common);
    sub->callback([cmd] { run_current(*cmd); });
  }
  {
    auto cmd = std::make_shared<StampCommand>();
    CLI::App* sub = app.add_subcommand(
        "stamp", "Record the database as being at TARGET without running anything (adds and removes history rows)");
    add_common_options(*sub, cmd->common);
    add_safety_options(*sub, cmd->common);
    sub->add_option("target", cmd->target, "head, heads, base, LABEL@head, +N, -N, or a version (or unique prefix)")
        ->required();
    sub->add_flag("--purge", cmd->purge,
                  "Also drop rows the source does not know and dirty rows, so the history is exactly TARGET");
    sub->add_flag("--dry-run", cmd->dry_run, "Show what would be recorded and removed; write nothing");
    sub->footer("Under the migration lock, in one transaction. For a database whose schema was made another\n"
                "way (restored from a dump, built by another tool) or a migration applied by hand.\n\n"
                "Examples:\n"
                "  strata stamp head -d sqlite:app.db          # everything counts as applied\n"
                "  strata stamp 0003 -d sqlite:app.db --dry-run\n"
                "  strata stamp base --purge -d sqlite:app.db   # forget every row");
    sub->callback([cmd] { run_stamp(*cmd); });
  }
  {
    auto cmd = std::make_shared<MergeCommand>();
    CLI::App* sub = app.add_subcommand("merge", "Write a migration that joins heads (-- strata: parents H1 H2)");
    cmd->common.app = sub;
    sub->add_option("heads", cmd->heads, "The heads to join (default: every head)");
    sub->add_option("-m,--message", cmd->message, "What the merge is (becomes part of the file name)")->required();
    sub->add_option("-s,--source", cmd->common.source, "Directory of migration files")->capture_default_str();
    sub->add_option("-c,--config", cmd->common.config, "Config file ([migrations] source = ...)")
        ->capture_default_str();
    add_json_option(*sub, cmd->common);
    sub->callback([cmd] { run_merge(*cmd); });
  }
}

}  // namespace strata::cli
