// mautrix-go's upgrade directories (go.mau.fi/util/dbutil, upgradetable.go),
// read with its rules so that a bridge's own tree applies unchanged:
//   - every non-hidden "*.sql" file is an upgrade, whatever its name;
//   - line 1 is the header "-- [vA -> ]vB[ (compatible with vC+)]: message"
//     (a file needs a second line, as dbutil splits on '\n');
//   - line 2 may be "-- transaction: on|off|sqlite-fkey-off" (the splitter
//     reads it with the other directives);
//   - "NAME.postgres.sql" and "NAME.sqlite.sql" are one upgrade in two
//     dialects: both must exist, with the same versions, message and
//     transaction flag;
//   - an upgrade runs from A (without "vA ->", from B - 1) to B; two
//     upgrades from one version are an error.
// An upgrade from B - 1 is an ordinary migration of version B; any other is
// a shortcut (Migration::jump_from), taken by Migrator for a database at A.
#include "migration/source_mautrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "strata/error.hpp"
#include "strata/source.hpp"

namespace strata::detail {
namespace fs = std::filesystem;

namespace {

struct Header {
  Version from = 0;
  Version to = 0;
  Version compat = 0;  // the floor recorded: C, or B when not declared
  std::string message;
  std::string transaction = "on";
};

// Reads "v<digits>" at `s`, advancing it. False when absent or too large.
bool eat_version(std::string_view& s, Version* out) {
  if (s.empty() || s.front() != 'v') return false;
  const char* begin = s.data() + 1;
  const char* end = s.data() + s.size();
  const char* p = begin;
  while (p != end && *p >= '0' && *p <= '9') ++p;
  if (p == begin) return false;
  auto [ptr, ec] = std::from_chars(begin, p, *out);
  if (ec != std::errc() || ptr != p) return false;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return true;
}

bool eat(std::string_view& s, std::string_view word) {
  if (!s.starts_with(word)) return false;
  s.remove_prefix(word.size());
  return true;
}

// dbutil's parseFileHeader. Returns an error text, or empty.
std::string parse_header(std::string_view text, Header* h) {
  const std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return "too short: an upgrade file has its header line, then its SQL";
  std::string_view line = text.substr(0, nl);
  const std::string_view expected =
      "line 1 must be the header '-- vN: description' (or '-- vN (compatible with vM+): description', "
      "or '-- vA -> vB: description' for a shortcut)";
  std::string_view s = line;
  if (!eat(s, "-- ")) return std::string(expected);
  Version first = 0;
  if (!eat_version(s, &first)) return std::string(expected);
  h->to = first;
  h->from = first - 1;
  if (eat(s, " -> ")) {
    h->from = first;
    if (!eat_version(s, &h->to)) return std::string(expected);
  }
  h->compat = h->to;
  if (eat(s, " (compatible with ")) {
    Version c = 0;
    if (!eat_version(s, &c) || !eat(s, "+)")) return std::string(expected);
    if (c > 0) h->compat = c;  // dbutil: 0 means "the version itself"
  }
  if (!eat(s, ": ") || s.empty()) return std::string(expected);
  if (s.back() == '\r') s.remove_suffix(1);
  h->message = std::string(s);
  // Line 2: dbutil's "^-- transaction: ([a-z-]*)" (its value is checked by
  // the splitter, which reads it as a directive).
  std::string_view rest = text.substr(nl + 1);
  std::string_view second = rest.substr(0, rest.find('\n'));
  if (eat(second, "-- transaction: ")) {
    std::size_t n = 0;
    while (n < second.size() && ((second[n] >= 'a' && second[n] <= 'z') || second[n] == '-')) ++n;
    h->transaction = std::string(second.substr(0, n));
  }
  if (h->to <= h->from) {
    return fmt::format("the header goes from v{} to v{}: an upgrade must go to a newer version", h->from, h->to);
  }
  if (h->from < 0) return "the header names version 0, which is where a new database starts";
  return {};
}

}  // namespace

bool is_mautrix_file(std::string_view name) {
  return !name.empty() && name.front() != '.' && name.size() > 4 && name.ends_with(".sql");
}

MigrationSet load_mautrix_files(const fs::path& dir, std::vector<std::string> files, std::vector<std::string> problems,
                                Engine engine, const ReadSourceFile& read_file) {
  std::sort(files.begin(), files.end());
  const std::string prefix = display_prefix(dir);
  const std::set<std::string> present(files.begin(), files.end());

  // The file's text, or a problem.
  auto read = [&](const std::string& file, std::string* out) -> bool {
    auto text = read_file(file);
    if (auto problem = text_problem(prefix + file, text)) {
      problems.push_back(std::move(*problem));
      return false;
    }
    *out = std::move(*text);
    return true;
  };
  auto header_of = [&](const std::string& file, const std::string& text, Header* h) -> bool {
    const std::string why = parse_header(text, h);
    if (why.empty()) return true;
    problems.push_back(prefix + file + ":1: " + why);
    return false;
  };

  std::vector<Migration> singles, jumps;
  std::map<Version, std::string> from_file;  // an upgrade's start -> its file, for clashes
  std::set<std::string> split_done;
  for (const std::string& file : files) {
    if (!is_mautrix_file(file)) continue;
    Migration m;
    Header h;
    const bool split = file.ends_with(".sqlite.sql") || file.ends_with(".postgres.sql");
    std::string shown = file;  // how clashes name it
    if (split) {
      const std::string_view base =
          std::string_view(file).substr(0, file.size() - (file.ends_with(".sqlite.sql") ? 11 : 13));
      if (base.empty()) continue;  // ".sqlite.sql": hidden-like, dbutil's regex needs a name
      const std::string name(base);
      if (!split_done.insert(name).second) continue;
      const std::string pg = name + ".postgres.sql", lite = name + ".sqlite.sql";
      shown = name + ".{postgres,sqlite}.sql";
      bool ok = true;
      for (const auto* need : {&pg, &lite}) {
        if (present.count(*need) == 0) {
          problems.push_back(fmt::format("{}{}: a split upgrade needs both dialects, and {} is missing", prefix,
                                         file.ends_with(".sqlite.sql") ? lite : pg, prefix + *need));
          ok = false;
        }
      }
      if (!ok) continue;
      std::string pg_text, lite_text;
      Header pg_h, lite_h;
      if (!read(pg, &pg_text) || !read(lite, &lite_text)) continue;
      if (!header_of(pg, pg_text, &pg_h) || !header_of(lite, lite_text, &lite_h)) continue;
      if (pg_h.from != lite_h.from || pg_h.to != lite_h.to || pg_h.compat != lite_h.compat ||
          pg_h.message != lite_h.message || pg_h.transaction != lite_h.transaction) {
        problems.push_back(fmt::format("{}{} and {}: the two dialects' headers differ (line 1{}), and must match",
                                       prefix, pg, lite, pg_h.transaction != lite_h.transaction ? " or 2" : ""));
        continue;
      }
      h = pg_h;
      m.path = prefix + (engine == Engine::sqlite ? lite : pg);
      m.sql = std::move(engine == Engine::sqlite ? lite_text : pg_text);
    } else {
      if (!read(file, &m.sql) || !header_of(file, m.sql, &h)) continue;
      m.path = prefix + file;
    }
    if (auto [it, fresh] = from_file.emplace(h.from, shown); !fresh) {
      problems.push_back(fmt::format("{}{} and {}{} both upgrade from v{} (one upgrade per starting version)", prefix,
                                     it->second, prefix, shown, h.from));
      continue;
    }
    m.version = h.to;
    m.description = h.message;
    m.compat_floor = h.compat;
    m.checksum = checksum(m.sql);
    if (h.from != h.to - 1) {
      m.jump_from = h.from;
      jumps.push_back(std::move(m));
    } else {
      singles.push_back(std::move(m));
    }
  }

  std::sort(singles.begin(), singles.end(), [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < singles.size(); ++i) singles[i].parents.push_back(singles[i - 1].version);
  if (problems.empty() && singles.empty() && jumps.empty()) {
    problems.push_back("no upgrade files (*.sql, line 1 '-- vN: description', as mautrix-go reads them)");
  }
  if (!problems.empty()) throw_source_problems(dir, problems);
  MigrationSet set(std::move(singles));
  set.set_jumps(std::move(jumps));
  set.set_counted_versions(true);
  return set;
}

}  // namespace strata::detail
