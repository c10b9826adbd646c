#include "strata/source.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

#include "strata/error.hpp"
#include "strata/graph.hpp"
#include "strata/sql/splitter.hpp"
#include "migration/source_cache.hpp"
#include "migration/source_mautrix.hpp"
#include "util/utf8.hpp"

namespace strata {
namespace fs = std::filesystem;

namespace detail {

// The prefix that display_path() puts before a file name: the directory,
// normalised once ("./migrations/" -> "migrations/", "." -> "").
std::string display_prefix(const fs::path& dir) {
  std::string prefix = dir.lexically_normal().string();
  if (prefix == ".") return {};
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return prefix;
}

void throw_source_problems(const fs::path& dir, const std::vector<std::string>& problems) {
  std::string message = "the migration source '" + dir.string() + "' has " + std::to_string(problems.size()) +
                        (problems.size() == 1 ? " problem:" : " problems:");
  for (const auto& p : problems) message += "\n  " + p;
  throw Error(ErrorKind::source, message);
}

std::optional<std::string> text_problem(const std::string& path, const std::optional<std::string>& text) {
  if (!text) return path + ": cannot be read";
  if (auto bad = util::find_invalid_utf8(*text)) {
    return path + ":" + std::to_string(bad->line) + ":" + std::to_string(bad->column) +
           ": not valid UTF-8 (byte offset " + std::to_string(bad->offset) + ")";
  }
  return std::nullopt;
}

}  // namespace detail

namespace {

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (!s.ends_with(suffix)) return false;
  s.remove_suffix(suffix.size());
  return true;
}

// Strips ".sql" and an engine infix: Synapse's spelling (.sql.sqlite)
// first, then ours (.sqlite.sql), then plain. False: not a .sql-like name.
bool strip_sql_suffix(std::string_view& base, std::optional<Engine>& engine) {
  if (strip_suffix(base, ".sql.sqlite")) {
    engine = Engine::sqlite;
  } else if (strip_suffix(base, ".sql.postgres")) {
    engine = Engine::postgres;
  } else if (strip_suffix(base, ".sql")) {
    if (strip_suffix(base, ".sqlite")) engine = Engine::sqlite;
    else if (strip_suffix(base, ".postgres")) engine = Engine::postgres;
  } else {
    return false;
  }
  return true;
}

bool is_description_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

std::optional<FileName> parse_file_name(std::string_view name, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<FileName> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  if (error != nullptr) error->clear();
  if (name.empty() || name.front() == '.') return std::nullopt;

  FileName out;
  std::string_view base = name;
  if (!strip_sql_suffix(base, out.engine)) return std::nullopt;  // not a migration file
  if (strip_suffix(base, ".up")) {
    out.explicit_direction = true;
  } else if (strip_suffix(base, ".down")) {
    out.explicit_direction = true;
    out.direction = Direction::down;
  }

  std::size_t digits = 0;
  while (digits < base.size() && base[digits] >= '0' && base[digits] <= '9') ++digits;
  if (digits == 0) {
    return fail("the name must start with a version number, as in 0001_create_users.sql");
  }
  if (digits > 18) return fail("the version has more than 18 digits");
  if (digits == base.size() || base[digits] != '_') {
    return fail("the version must be followed by '_' and a description, as in " +
                std::string(base.substr(0, digits)) + "_create_users.sql");
  }
  out.version_text = std::string(base.substr(0, digits));
  out.version = std::stoll(out.version_text);
  std::string_view description = base.substr(digits + 1);
  if (description.empty()) return fail("the description after the version is empty");
  for (char c : description) {
    if (c == '.') {
      return fail("unexpected '" + std::string(description.substr(description.find('.'))) +
                  "' in the name: after the description only .up/.down and "
                  ".sqlite/.postgres may precede .sql");
    }
    if (!is_description_char(c)) {
      return fail(std::string("the description may hold letters, digits, '_' and '-', not '") + c +
                  "'");
    }
  }
  out.description = std::string(description);
  return out;
}

namespace {

// Repeatable migrations and callback files: names outside the versioned scheme.
struct SpecialFile {
  std::string key;  // "R:<name>" for a repeatable, "C:<hook>" for a callback
  std::string name;
  std::optional<Engine> engine;
  std::string error;
};

constexpr std::string_view kHooks[] = {"before_migrate", "before_each",      "after_each",      "after_migrate",
                                       "before_undo",    "before_each_undo", "after_each_undo", "after_undo"};

std::optional<SpecialFile> special_file(std::string_view name) {
  if (name.empty() || name.front() == '.') return std::nullopt;
  SpecialFile out;
  std::string_view base = name;
  if (!strip_sql_suffix(base, out.engine)) return std::nullopt;
  for (std::string_view hook : kHooks) {
    if (base == hook) {
      out.key = "C:" + std::string(hook);
      out.name = std::string(hook);
      return out;
    }
  }
  if (!base.starts_with("R_")) return std::nullopt;
  base.remove_prefix(base.starts_with("R__") ? 3 : 2);
  out.name = std::string(base);
  out.key = "R:" + out.name;
  if (base.empty()) out.error = "a repeatable migration needs a name after R_, as in R_views.sql";
  for (char c : base) {
    if (!is_description_char(c)) {
      out.error = std::string("a repeatable migration's name may hold letters, digits, '_' and '-', not '") + c + "'";
      break;
    }
  }
  return out;
}

struct Candidate {
  FileName name;
  const std::string* name_in_dir;  // the file's name within the directory (owned by the caller's list)
  const std::string& file() const { return *name_in_dir; }
};

// The files that can supply one version on the engine being loaded (into
// the loader's list of candidates, in file-name order).
struct VersionSlot {
  std::vector<const Candidate*> up_generic, up_engine, down_generic, down_engine;
  std::vector<const Candidate*> other_engine;  // only checked for description clashes
  void clear() {
    for (auto* list : {&up_generic, &up_engine, &down_generic, &down_engine, &other_engine}) list->clear();
  }
};

using detail::display_prefix;

// The path a file is shown as: "migrations/0001_a.sql". Equal to
// (dir / file).lexically_normal() for a plain file name, without building a
// std::filesystem::path per file (that dominated the no-op run's profile).
std::string display_path(const std::string& prefix, const std::string& file) { return prefix + file; }

// The rules shared by directories and embedded files. `dir` names the source
// in messages and prefixes every path; `files` are the names it holds (any
// order); `problems` may already hold some (unreadable entries). Only the
// files chosen for `engine` are read, through `read_file` (nullopt = cannot
// be read), so an unreadable file of the other engine is no error.
MigrationSet load_files(const fs::path& dir, std::vector<std::string> files, std::vector<std::string> problems,
                        Engine engine, const SourceOptions& options,
                        const std::function<std::optional<std::string>(const std::string&)>& read_file,
                        bool read_down = true, detail::SourceCache* cache = nullptr) {
  if (options.layout == SourceLayout::mautrix) {
    return detail::load_mautrix_files(dir, std::move(files), std::move(problems), engine, read_file);
  }
  std::sort(files.begin(), files.end());
  // Every versioned file, then (stably) by version: one flat list, where a
  // map of per-version slots cost ~3 allocations per migration.
  std::vector<Candidate> candidates;
  candidates.reserve(files.size());
  const std::string prefix = display_prefix(dir);

  // Repeatables and callbacks, by key; an engine variant wins over the generic file.
  std::map<std::string, std::vector<std::pair<SpecialFile, std::string>>> specials;
  for (const auto& file : files) {
    if (auto special = special_file(file)) {
      if (!special->error.empty()) {
        problems.push_back(display_path(prefix, file) + ": " + special->error);
      } else if (!special->engine || *special->engine == engine) {
        specials[special->key].emplace_back(std::move(*special), file);
      }
      continue;
    }
    std::string why;
    auto parsed = parse_file_name(file, &why);
    if (!parsed) {
      if (!why.empty()) problems.push_back(display_path(prefix, file) + ": " + why);
      continue;
    }
    candidates.push_back(Candidate{std::move(*parsed), &file});
  }
  auto by_version = [](const Candidate& a, const Candidate& b) { return a.name.version < b.name.version; };
  if (!std::is_sorted(candidates.begin(), candidates.end(), by_version)) {
    std::stable_sort(candidates.begin(), candidates.end(), by_version);
  }

  // Reads one file into `out`; a problem goes to `found`.
  auto read = [&](const Candidate& c, std::string& out, std::vector<std::string>& found) -> bool {
    auto text = read_file(c.file());
    if (auto problem = detail::text_problem(display_path(prefix, c.file()), text)) {
      found.push_back(std::move(*problem));
      return false;
    }
    out = std::move(*text);
    return true;
  };

  // Two files fill the same role for this engine: name them both.
  auto one_of = [&](const std::vector<const Candidate*>& list) -> const Candidate* {
    if (list.empty()) return nullptr;
    for (std::size_t i = 1; i < list.size(); ++i) {
      problems.push_back("version " + list[0]->name.version_text + " is claimed twice: " +
                         display_path(prefix, list[0]->file()) + " and " +
                         display_path(prefix, list[i]->file()));
    }
    return list[0];
  };

  // First, which files make each version's migration (names only) ...
  // The migrations live in `ms` from the start (one vector of them: a
  // second one to move them into cost a fault per page in a no-op run);
  // planned[i] says where ms[i] comes from.
  struct Planned {
    const Candidate* up = nullptr;
    const Candidate* down = nullptr;
    std::string_view header;  // from the cache, when the text is deferred
  };
  std::vector<Planned> planned;
  std::vector<Migration> ms;
  std::size_t versions = 0;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    versions += i == 0 || candidates[i].name.version != candidates[i - 1].name.version;
  }
  planned.reserve(versions);
  ms.reserve(versions);
  VersionSlot slot;  // one version's files at a time; its lists keep their capacity
  for (std::size_t next = 0; next < candidates.size();) {
    const Version version = candidates[next].name.version;
    slot.clear();
    for (; next < candidates.size() && candidates[next].name.version == version; ++next) {
      const Candidate& c = candidates[next];
      if (c.name.engine && *c.name.engine != engine) {
        slot.other_engine.push_back(&c);
      } else if (c.name.direction == Direction::down) {
        (c.name.engine ? slot.down_engine : slot.down_generic).push_back(&c);
      } else {
        (c.name.engine ? slot.up_engine : slot.up_generic).push_back(&c);
      }
    }
    // An engine variant wins over the generic file on its own engine.
    const Candidate* up = one_of(slot.up_engine.empty() ? slot.up_generic : slot.up_engine);
    const Candidate* down = one_of(slot.down_engine.empty() ? slot.down_generic : slot.down_engine);

    // Every file of one version must carry one description, whichever engine.
    const Candidate* first = nullptr;
    for (auto* list : {&slot.up_engine, &slot.up_generic, &slot.down_engine, &slot.down_generic,
                       &slot.other_engine}) {
      for (const Candidate* c : *list) {
        if (first == nullptr) {
          first = c;
        } else if (c->name.description != first->name.description) {
          problems.push_back("version " + c->name.version_text + " is claimed twice: " +
                             display_path(prefix, first->file()) + " and " +
                             display_path(prefix, c->file()));
        }
      }
    }

    if (up == nullptr) {
      if (down != nullptr) {
        problems.push_back(display_path(prefix, down->file()) + ": a down migration without its up file (" +
                           down->name.version_text + "_" + down->name.description + ".up.sql)");
      }
      continue;  // only the other engine's files: nothing for this engine
    }
    if (down != nullptr && !up->name.explicit_direction) {
      problems.push_back(display_path(prefix, up->file()) + ": has a down file (" +
                         display_path(prefix, down->file()) + "), so it must be named " +
                         up->name.version_text + "_" + up->name.description + ".up.sql");
    }

    Migration& m = ms.emplace_back();
    m.version = version;
    m.description = up->name.description;
    m.path = display_path(prefix, up->file());
    if (down != nullptr) m.down_path = display_path(prefix, down->file());
    planned.push_back(Planned{up, down, {}});
  }

  // ... then their contents and checksums: most of a no-op `up`, and mostly
  // the kernel's work. One thread: a second one cost more to start (its
  // malloc arena alone made ~850 mprotect calls) than it saved in a
  // one-shot process. Down files of a directory are read only when a
  // revert needs them (down_sql()).
  struct Loaded {
    bool ok = false;
    std::vector<std::string> problems;
  };
  std::vector<Loaded> loaded(planned.size());
  for (std::size_t i = 0; i < planned.size(); ++i) {
    Planned& p = planned[i];
    Migration& m = ms[i];
    Loaded& l = loaded[i];
    if (cache != nullptr && (p.down == nullptr || !read_down)) {
      if (const auto* hit = cache->find(p.up->file())) {
        m.checksum = hit->checksum;
        p.header = hit->header;  // the cache outlives this load
        m.sql_deferred = true;
        l.ok = true;
        continue;
      }
    }
    l.ok = read(*p.up, m.sql, l.problems) &&
           (p.down == nullptr || !read_down || read(*p.down, m.down_sql, l.problems));
    if (l.ok) m.checksum = checksum(m.sql);
    if (l.ok && cache != nullptr) cache->store(p.up->file(), m.checksum, m.sql.substr(0, sql::header_length(m.sql)));
  }

  // Repeatable migrations and callbacks.
  std::vector<Migration> repeatables;
  std::map<std::string, Migration, std::less<>> callbacks;
  for (auto& [key, list] : specials) {
    const auto* chosen = &list.front();
    std::size_t engine_specific = 0;
    for (const auto& entry : list) {
      if (entry.first.engine) {
        chosen = &entry;
        ++engine_specific;
      }
    }
    if (engine_specific > 1 || (engine_specific == 0 && list.size() > 1)) {
      problems.push_back(display_path(prefix, list[0].second) + " and " + display_path(prefix, list[1].second) +
                         " are the same " + (key[0] == 'R' ? "repeatable migration" : "callback"));
      continue;
    }
    Migration m;
    m.description = chosen->first.name;
    m.path = display_path(prefix, chosen->second);
    FileName fake;
    fake.description = m.description;
    std::vector<std::string> found;
    if (!read(Candidate{fake, &chosen->second}, m.sql, found)) {
      problems.insert(problems.end(), found.begin(), found.end());
      continue;
    }
    m.checksum = checksum(m.sql);
    if (key[0] == 'R') repeatables.push_back(std::move(m));
    else callbacks.emplace(chosen->first.name, std::move(m));
  }

  // ... and last, in version order, the chain of parents and the problems.
  // Kept migrations are compacted to the front of `ms`.
  std::size_t kept = 0;
  Version previous = 0;
  bool has_previous = false;
  for (std::size_t i = 0; i < planned.size(); ++i) {
    problems.insert(problems.end(), loaded[i].problems.begin(), loaded[i].problems.end());
    if (!loaded[i].ok) continue;
    Migration& m = ms[i];
    // Its place in the graph, from the directives that open the file.
    std::vector<sql::Diagnostic> diagnostics;
    const sql::Directives d =
        sql::read_header_directives(m.sql_deferred ? planned[i].header : std::string_view(m.sql), &diagnostics);
    for (const auto& diagnostic : diagnostics) {
      if (diagnostic.severity == sql::Diagnostic::Severity::error) {
        problems.push_back(fmt::format("{}:{}:{}: {}", m.path, diagnostic.line, diagnostic.column, diagnostic.message));
      }
    }
    if (d.repeatable) {  // "-- strata: repeatable": not a version of the graph
      if (!m.down_path.empty()) problems.push_back(m.path + ": a repeatable migration has no down file");
      m.version = 0;
      up_sql(m);  // repeatables are compared and run by their text
      repeatables.push_back(std::move(m));
      continue;
    }
    if (d.parents) {
      m.parents.assign(d.parents->begin(), d.parents->end());
    } else if (options.explicit_graph) {
      problems.push_back(m.path + ": names no parents, and graph = \"explicit\" wants every file to (add "
                                  "-- strata: parents V, or -- strata: parents base for a root)");
    } else if (has_previous) {
      m.parents.push_back(previous);
    }
    m.depends_on.assign(d.depends_on.begin(), d.depends_on.end());
    m.branch = d.branch;
    m.alembic_revision = d.alembic_revision;
    previous = m.version;
    has_previous = true;
    if (kept != i) ms[kept] = std::move(m);
    ++kept;
  }
  ms.resize(kept);
  MigrationSet set(std::move(ms));  // one migration per version, in version order
  // Every prerequisite named must exist, and the graph must have no cycle.
  {
    for (const auto& m : set.all()) {
      for (const auto* list : {&m.parents, &m.depends_on}) {
        for (Version p : *list) {
          if (set.find(p) == nullptr) {
            problems.push_back(fmt::format("{}: names {} {}, which the source does not have", m.path,
                                           list == &m.parents ? "parent" : "dependency", p));
          } else if (p == m.version) {
            problems.push_back(fmt::format("{}: names itself as a {}", m.path,
                                           list == &m.parents ? "parent" : "dependency"));
          }
        }
      }
    }
  }

  // Edges to older versions cannot close a cycle: only a file naming a newer
  // prerequisite needs the check.
  const bool forward_edge = std::any_of(set.all().begin(), set.all().end(), [](const Migration& m) {
    return std::any_of(m.parents.begin(), m.parents.end(), [&](Version p) { return p > m.version; }) ||
           std::any_of(m.depends_on.begin(), m.depends_on.end(), [&](Version p) { return p > m.version; });
  });
  if (problems.empty() && forward_edge) {
    try {
      RevisionGraph(set).topological();
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
  }
  if (problems.empty() && set.empty() && repeatables.empty()) {
    problems.push_back("no migration files for " + std::string(to_string(engine)) +
                       " (expected names like 0001_create_users.sql)");
  }
  if (!problems.empty()) detail::throw_source_problems(dir, problems);
  if (cache != nullptr) cache->save();
  set.set_repeatables(std::move(repeatables));
  set.set_callbacks(std::move(callbacks));
  return set;
}

// The file's bytes, or nullopt when it cannot be opened or read. One open,
// fstat and read into a string of the right size: cheaper than two iostreams
// per file, which the no-op run does a thousand times.
// `dir_fd` is the directory's descriptor: opening by name relative to it
// spares the kernel walking the whole path again for every file.
std::optional<std::string> read_whole_file(int dir_fd, const std::string& name) {
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) == 0) {
    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    bool ok = true;
    // Reads until the size fstat gave: one read() for a file that does not
    // change meanwhile (a file growing while it is read is read as it was).
    while (ok && (done < text.size() || text.empty())) {
      if (text.empty()) text.resize(4096);  // size 0: maybe a pseudo-file
      ssize_t n = ::read(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) ok = false;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
      if (st.st_size == 0 && done == text.size()) text.resize(text.size() * 2);
    }
    if (ok) {
      text.resize(done);
      out = std::move(text);
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

MigrationSet load_directory(const fs::path& dir, Engine engine, const SourceOptions& options) {
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (ec || !fs::exists(status)) {
    throw Error(ErrorKind::source, "migration directory '" + dir.string() +
                                       "' does not exist (give another with --source)");
  }
  if (!fs::is_directory(status)) {
    throw Error(ErrorKind::source, "'" + dir.string() + "' is not a directory");
  }

  // One descriptor for the directory: listed with readdir (d_type spares a
  // stat per entry) and every file opened relative to it.
  auto cannot_read = [&](int error) {
    return Error(ErrorKind::source,
                 "cannot read migration directory '" + dir.string() + "': " + std::generic_category().message(error));
  };
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
    int get() const { return fd; }
  } dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir_fd.get() < 0) throw cannot_read(errno);
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(::dup(dir_fd.get())), ::closedir);
  if (!listing) throw cannot_read(errno);

  // Whether a name is one of the layout's migration files.
  auto names_migration = [&](const std::string& file) {
    std::string why;
    return options.layout == SourceLayout::mautrix ? detail::is_mautrix_file(file)
                                                   : parse_file_name(file, &why).has_value();
  };
  std::vector<std::string> problems;
  std::vector<std::string> files;
  std::optional<fs::path> root;  // the directory, resolved: at the first symlink
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(listing.get());
    if (entry == nullptr) {
      if (errno != 0) throw cannot_read(errno);
      break;
    }
    std::string file = entry->d_name;
    if (file == "." || file == "..") continue;
    bool regular = entry->d_type == DT_REG;
    bool directory = entry->d_type == DT_DIR;
    if (entry->d_type == DT_LNK || entry->d_type == DT_UNKNOWN) {
      struct stat st {};  // follows a symlink, as reading the file will
      if (::fstatat(dir_fd.get(), entry->d_name, &st, 0) == 0) {
        regular = S_ISREG(st.st_mode);
        directory = S_ISDIR(st.st_mode);
      }
      // A symlink is followed only when it stays inside the migration
      // directory: one leading elsewhere (/etc/passwd, another project's
      // file) would run text nobody reviewed as part of this set.
      struct stat lst {};
      if (regular && ::fstatat(dir_fd.get(), entry->d_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode) &&
          names_migration(file)) {
        if (!root) {
          std::error_code root_ec;
          root = fs::canonical(dir, root_ec);
        }
        std::error_code ec;
        const fs::path target = fs::canonical(dir / file, ec);
        const auto rel = target.lexically_relative(*root);
        if (ec || root->empty() || rel.empty() || *rel.begin() == "..") {
          problems.push_back(display_path(display_prefix(dir), file) + ": a symlink to " + target.string() +
                             ", outside the migration directory (strata follows symlinks only within it: copy "
                             "the file in instead)");
          continue;
        }
      }
    }
    if (!regular) {
      // Subdirectories are not migrations, but something named like one that
      // cannot be read as a file (a dangling symlink, say) is an error.
      if (!directory && names_migration(file)) {
        problems.push_back(display_path(display_prefix(dir), file) + ": cannot be read (not a regular file)");
      }
      continue;
    }
    files.push_back(std::move(file));
  }
  std::optional<detail::SourceCache> cache;
  if (!options.cache_dir.empty() && options.layout == SourceLayout::strata) {
    cache.emplace(options.cache_dir, dir, dir_fd.get(), engine);
  }
  return load_files(
      dir, std::move(files), std::move(problems), engine, options,
      [&](const std::string& file) { return read_whole_file(dir_fd.get(), file); }, /*read_down=*/false,
      cache ? &*cache : nullptr);
}

namespace {

// A file read after loading (a down script, a deferred up script), by the
// path it is shown as; Error{source} as the loader would report it.
std::string read_later(const std::string& path) {
  auto text = read_whole_file(AT_FDCWD, path);
  if (auto problem = detail::text_problem(path, text)) throw Error(ErrorKind::source, *problem);
  return std::move(*text);
}

}  // namespace

std::string down_sql(const Migration& m) {
  if (!m.down_sql.empty() || m.down_path.empty()) return m.down_sql;
  return read_later(m.down_path);
}

const std::string& up_sql(const Migration& m) {
  if (!m.sql_deferred) return m.sql;
  std::string text = read_later(m.path);
  if (checksum(text) != m.checksum) {
    throw Error(ErrorKind::source, m.path + ": changed while strata was running (its checksum is no longer the "
                                            "one it was loaded with); run strata again");
  }
  m.sql = std::move(text);
  m.sql_deferred = false;
  return m.sql;
}

MigrationSet load_embedded(const EmbeddedMigrations& embedded, Engine engine, const SourceOptions& options) {
  std::vector<std::string> files;
  std::map<std::string, std::string_view, std::less<>> contents;
  for (const auto& f : embedded.files) {
    files.emplace_back(f.name);
    contents.emplace(std::string(f.name), f.contents);
  }
  return load_files(fs::path(std::string(embedded.directory)), std::move(files), {}, engine, options,
                    [&](const std::string& file) -> std::optional<std::string> {
                      return std::string(contents.at(file));
                    });
}

}  // namespace strata
