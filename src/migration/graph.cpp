#include "strata/graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <queue>

#include "strata/error.hpp"

namespace strata {

RevisionGraph::RevisionGraph(const MigrationSet& set) : set_(set) {
  for (const Migration& m : set.all()) {
    for (Version p : m.parents) {
      if (set.find(p) == nullptr) continue;
      children_[p].push_back(m.version);
      dependents_[p].push_back(m.version);
    }
    for (Version p : m.depends_on) {
      if (set.find(p) != nullptr) dependents_[p].push_back(m.version);
    }
  }
  for (const Migration& m : set.all()) {
    if (children_.count(m.version) == 0) heads_.push_back(m.version);
  }
}

std::vector<Version> RevisionGraph::bases() const {
  std::vector<Version> out;
  for (const Migration& m : set_.all()) {
    if (m.parents.empty()) out.push_back(m.version);
  }
  return out;
}

const std::vector<Version>& RevisionGraph::children(Version v) const {
  static const std::vector<Version> none;
  auto it = children_.find(v);
  return it == children_.end() ? none : it->second;
}

bool RevisionGraph::is_merge_point(Version v) const {
  const Migration* m = set_.find(v);
  return m != nullptr && m->parents.size() > 1;
}

bool RevisionGraph::is_head(Version v) const { return std::binary_search(heads_.begin(), heads_.end(), v); }

std::set<Version> RevisionGraph::ancestors(const std::vector<Version>& vs) const {
  std::set<Version> out;
  std::vector<Version> stack(vs.begin(), vs.end());
  while (!stack.empty()) {
    const Version v = stack.back();
    stack.pop_back();
    if (!out.insert(v).second) continue;
    const Migration* m = set_.find(v);
    if (m == nullptr) continue;
    stack.insert(stack.end(), m->parents.begin(), m->parents.end());
    stack.insert(stack.end(), m->depends_on.begin(), m->depends_on.end());
  }
  return out;
}

std::set<Version> RevisionGraph::descendants(Version v) const {
  std::set<Version> out;
  std::vector<Version> stack{v};
  while (!stack.empty()) {
    const Version x = stack.back();
    stack.pop_back();
    if (!out.insert(x).second) continue;
    if (auto it = dependents_.find(x); it != dependents_.end()) stack.insert(stack.end(), it->second.begin(), it->second.end());
  }
  return out;
}

std::vector<Version> RevisionGraph::topological() const {
  std::map<Version, int> waiting;
  std::priority_queue<Version, std::vector<Version>, std::greater<>> ready;
  for (const Migration& m : set_.all()) {
    int n = 0;
    for (Version p : m.parents) n += set_.find(p) != nullptr;
    for (Version p : m.depends_on) n += set_.find(p) != nullptr;
    waiting[m.version] = n;
    if (n == 0) ready.push(m.version);
  }
  std::vector<Version> out;
  out.reserve(set_.all().size());
  while (!ready.empty()) {
    const Version v = ready.top();
    ready.pop();
    out.push_back(v);
    if (auto it = dependents_.find(v); it != dependents_.end()) {
      for (Version c : it->second) {
        if (--waiting[c] == 0) ready.push(c);
      }
    }
  }
  if (out.size() != set_.all().size()) {
    throw Error(ErrorKind::source, "the migration graph has a cycle (parents or depends-on lead back to a migration)");
  }
  return out;
}

std::string RevisionGraph::label_of(Version v) const {
  for (const Migration* m = set_.find(v); m != nullptr; m = set_.find(m->parents.front())) {
    if (!m->branch.empty()) return m->branch;
    if (m->parents.size() != 1) break;  // a root, or a merge: the branches end here
  }
  return {};
}

std::vector<Version> RevisionGraph::heads_of_label(std::string_view label) const {
  std::set<Version> reach;
  for (const Migration& m : set_.all()) {
    if (m.branch != label) continue;
    for (Version d : descendants(m.version)) reach.insert(d);
  }
  std::vector<Version> out;
  for (Version v : heads_) {
    if (reach.count(v) != 0) out.push_back(v);
  }
  return out;
}

std::string describe_versions(const MigrationSet& set, const std::vector<Version>& versions) {
  std::string out;
  for (std::size_t i = 0; i < versions.size(); ++i) {
    if (i > 0) out += i + 1 == versions.size() ? " and " : ", ";
    const Migration* m = set.find(versions[i]);
    out += m != nullptr ? fmt::format("{} ({})", m->version, m->description) : std::to_string(versions[i]);
  }
  return out;
}

namespace {

std::optional<long long> parse_int(std::string_view s) {
  long long v = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ResolvedTarget resolve_target(const RevisionGraph& graph, std::string_view text,
                              const std::vector<AppliedMigration>* applied) {
  const MigrationSet& set = graph.set();
  ResolvedTarget t;
  t.text = std::string(text);
  if (text == "base") {
    t.base = true;
    return t;
  }
  if (text == "heads") {
    t.versions = graph.heads();
    return t;
  }
  if (text == "head") {
    if (graph.heads().size() > 1) {
      throw Error(ErrorKind::multiple_heads,
                  fmt::format("'head' is ambiguous: the migrations have {} heads, {}; name one, use heads, or "
                              "join them with `strata merge`",
                              graph.heads().size(), describe_versions(set, graph.heads())));
    }
    t.versions = graph.heads();
    return t;
  }
  if (text == "current") {
    if (applied == nullptr) throw Error(ErrorKind::usage, "target 'current' needs a database");
    // The applied heads: applied migrations none of whose children is applied.
    std::set<Version> done;
    for (const auto& a : *applied) {
      if (a.success && set.find(a.version) != nullptr) done.insert(a.version);
    }
    for (Version v : done) {
      const auto& c = graph.children(v);
      if (std::none_of(c.begin(), c.end(), [&](Version x) { return done.count(x) != 0; })) t.versions.push_back(v);
    }
    if (t.versions.empty()) t.base = true;
    return t;
  }
  if ((text.front() == '+' || text.front() == '-') && all_digits(text.substr(1))) {
    const auto n = parse_int(text.substr(1));
    if (!n || *n > 1000000) throw Error(ErrorKind::usage, fmt::format("relative target {} is out of range", text));
    t.relative = static_cast<int>(text.front() == '-' ? -*n : *n);
    return t;
  }
  if (auto at = text.find('@'); at != std::string_view::npos) {
    const std::string_view label = text.substr(0, at);
    const std::string_view what = text.substr(at + 1);
    if (what != "head") {
      throw Error(ErrorKind::usage, fmt::format("target {}: only LABEL@head is understood after '@'", text));
    }
    const std::vector<Version> heads = graph.heads_of_label(label);
    if (heads.empty()) {
      throw Error(ErrorKind::usage, fmt::format("target {}: no migration carries the branch label '{}' "
                                                "(-- strata: branch {})", text, label, label));
    }
    if (heads.size() > 1) {
      throw Error(ErrorKind::multiple_heads, fmt::format("target {}: branch '{}' has {} heads, {}", text, label,
                                                         heads.size(), describe_versions(set, heads)));
    }
    t.versions = heads;
    return t;
  }
  if (all_digits(text)) {
    if (const auto exact = parse_int(text); exact && set.find(*exact) != nullptr) {
      t.versions.push_back(*exact);
      return t;
    }
    std::vector<Version> matches;
    for (const Migration& m : set.all()) {
      if (std::to_string(m.version).rfind(text, 0) == 0) matches.push_back(m.version);
    }
    if (matches.size() == 1) {
      t.versions = matches;
      return t;
    }
    if (matches.size() > 1) {
      std::vector<Version> shown(matches.begin(), matches.begin() + std::min<std::size_t>(matches.size(), 10));
      throw Error(ErrorKind::usage, fmt::format("target {} is ambiguous: it starts {} versions, {}{}", text,
                                                matches.size(), describe_versions(set, shown),
                                                matches.size() > shown.size() ? ", ..." : ""));
    }
    throw Error(ErrorKind::usage,
                fmt::format("target version {} is not in the migration source{}", text,
                            text.find_first_not_of('0') == std::string_view::npos
                                ? " (version 0 is an ordinary version: to revert everything, use the target base)"
                                : ""));
  }
  // An Alembic revision id (or a unique prefix of one).
  std::vector<Version> matches;
  for (const Migration& m : set.all()) {
    if (!m.alembic_revision.empty() && m.alembic_revision.rfind(text, 0) == 0) matches.push_back(m.version);
  }
  if (matches.size() == 1) {
    t.versions = matches;
    return t;
  }
  if (matches.size() > 1) {
    throw Error(ErrorKind::usage, fmt::format("target {} is ambiguous: it starts the Alembic revisions of {}", text,
                                              describe_versions(set, matches)));
  }
  throw Error(ErrorKind::usage,
              fmt::format("unknown target '{}' (expected head, heads, base, current, LABEL@head, +N, -N, or a "
                          "version or unique prefix of one)",
                          text));
}

}  // namespace strata
