// sql/splitter.cpp: parse_script and render (see strata/sql/splitter.hpp).
//
// parse_script works in four steps over the text (a leading BOM removed):
//   1. "-- only:" lines: a memchr pass finds candidate lines; only when there
//      are some is a filtered copy made, with the dropped lines emptied (their
//      line breaks kept, so line and column numbers do not change) and a table
//      of removed byte counts to map offsets back to the input.
//   2. lex(): statement boundaries (sql/lexer.cpp).
//   3. Directives, from the "--" comments before the first statement.
//   4. Statements: text copied out, $%AUTO_INCREMENT_PRIMARY_KEY%$ replaced,
//      positions computed with one forward pass that counts line breaks.
#include "strata/sql/splitter.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "sql/lexer.hpp"

namespace strata::sql {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Synapse's placeholder and what Synapse substitutes for it
// (synapse/storage/engines/sqlite.py and postgres.py, executescript()).
constexpr std::string_view kPlaceholder = "$%AUTO_INCREMENT_PRIMARY_KEY%$";
constexpr std::string_view kSqliteAutoIncrement = "INTEGER PRIMARY KEY AUTOINCREMENT";
constexpr std::string_view kPostgresAutoIncrement = "BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY";

constexpr std::size_t npos = std::string_view::npos;

bool is_space_or_tab(char c) { return c == ' ' || c == '\t'; }

std::string engine_name(Engine e) { return e == Engine::postgres ? "postgres" : "sqlite"; }

// 1-based line and column (in bytes) of offsets into one text. Cheapest when
// queried in increasing order (each line break is counted once); an earlier
// offset restarts the count from the top.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) : text_(text) {}

  std::pair<int, int> at(std::size_t offset) {
    offset = std::min(offset, text_.size());
    if (offset < pos_) {
      pos_ = 0;
      line_ = 1;
      line_start_ = 0;
    }
    while (pos_ < offset) {
      const void* p = std::memchr(text_.data() + pos_, '\n', offset - pos_);
      if (!p) break;
      const std::size_t nl = static_cast<std::size_t>(static_cast<const char*>(p) - text_.data());
      ++line_;
      line_start_ = pos_ = nl + 1;
    }
    pos_ = offset;
    return {line_, static_cast<int>(offset - line_start_) + 1};
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
};

// A cursor over the text of a "--" comment (after the "--"), for directives.
// Matching is case-insensitive, and in a phrase '-' stands for a run of one
// or more of '-', '_', ' ' and '\t', so "no-transaction" also matches
// "No_Transaction" and "no transaction".
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {
    while (!s_.empty() && (s_.back() == '\r' || is_space_or_tab(s_.back()))) s_.remove_suffix(1);
  }

  void skip_blanks() {
    while (i_ < s_.size() && is_space_or_tab(s_[i_])) ++i_;
  }
  bool at_end() {
    skip_blanks();
    return i_ == s_.size();
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  // Matches `phrase` and requires that a word does not continue after it.
  bool eat_phrase(std::string_view phrase) {
    std::size_t j = i_;
    for (char p : phrase) {
      if (p == '-') {
        const std::size_t from = j;
        while (j < s_.size() && (s_[j] == '-' || s_[j] == '_' || is_space_or_tab(s_[j]))) ++j;
        if (j == from) return false;
      } else {
        if (j >= s_.size() || lower(s_[j]) != p) return false;
        ++j;
      }
    }
    if (j < s_.size() && is_word(s_[j])) return false;
    i_ = j;
    return true;
  }
  // A word of letters and digits (may be empty).
  std::string_view word() {
    const std::size_t from = i_;
    while (i_ < s_.size() && is_word(s_[i_])) ++i_;
    return s_.substr(from, i_ - from);
  }
  // A non-negative decimal number that fits in a long long.
  std::optional<long long> number() {
    const std::size_t from = i_;
    long long v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const int d = s_[i_] - '0';
      if (v > (std::numeric_limits<long long>::max() - d) / 10) {
        i_ = from;
        return std::nullopt;
      }
      v = v * 10 + d;
      ++i_;
    }
    if (i_ == from || (i_ < s_.size() && is_word(s_[i_]))) {
      i_ = from;
      return std::nullopt;
    }
    return v;
  }
  // A run of characters other than blanks and ',' (may be empty).
  std::string_view token() {
    const std::size_t from = i_;
    while (i_ < s_.size() && !is_space_or_tab(s_[i_]) && s_[i_] != ',') ++i_;
    return s_.substr(from, i_ - from);
  }
  std::string_view rest() const { return s_.substr(i_); }
  std::size_t pos() const { return i_; }
  void reset(std::size_t pos) { i_ = pos; }

  static char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; }
  static bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

bool equals_ci(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Reader::lower(a[i]) != lower_b[i]) return false;
  }
  return true;
}

std::optional<Engine> engine_named(std::string_view w) {
  if (equals_ci(w, "postgres") || equals_ci(w, "postgresql")) return Engine::postgres;
  if (equals_ci(w, "sqlite") || equals_ci(w, "sqlite3")) return Engine::sqlite;
  return std::nullopt;
}

// ------------------------------------------------------------- "-- only:" lines

// One line that is a "-- only:" or "-- end only" directive (after optional
// leading blanks), or a malformed "-- only:".
struct OnlyLine {
  enum class Kind { only, end, malformed };
  enum class Form { next_line, next_lines, until_end };
  Kind kind = Kind::malformed;
  Form form = Form::next_line;
  Engine engine = Engine::sqlite;
  long long count = 1;        // next_lines: how many lines after this one
  bool uncomment = false;     // "(lines commented)": kept lines lose their leading "--"
  std::string error;          // malformed: what is wrong
  std::size_t line_begin = 0; // the line, in the text after the BOM
  std::size_t line_end = 0;   // offset of its '\n' (or the end of the text)
  std::size_t dash = 0;       // offset of its "--"
};

// Parses the text after "--". Returns nullopt for an ordinary comment.
std::optional<OnlyLine> parse_only_line(std::string_view body) {
  OnlyLine d;
  // mautrix-go's "(line commented)" / "(lines commented)" suffix: the lines
  // kept for this dialect are written as comments, and lose their "--".
  {
    std::string_view t = body;
    while (!t.empty() && (t.back() == '\r' || is_space_or_tab(t.back()))) t.remove_suffix(1);
    if (!t.empty() && t.back() == ')') {
      const std::size_t open = t.rfind('(');
      if (open != std::string_view::npos) {
        Reader suffix(t.substr(open + 1, t.size() - open - 2));
        suffix.skip_blanks();
        if ((suffix.eat_phrase("lines") || suffix.eat_phrase("line")) && (suffix.skip_blanks(), suffix.eat_phrase("commented")) &&
            suffix.at_end()) {
          d.uncomment = true;
          body = t.substr(0, open);
        }
      }
    }
  }
  Reader r(body);
  r.skip_blanks();
  if (r.eat_phrase("end-only")) {
    // "-- end only <engine>"; anything else is an ordinary comment.
    r.skip_blanks();
    const auto engine = engine_named(r.word());
    if (!engine || !r.at_end()) return std::nullopt;
    d.kind = OnlyLine::Kind::end;
    d.engine = *engine;
    return d;
  }
  if (!r.eat_phrase("only")) return std::nullopt;
  r.skip_blanks();
  if (!r.eat(':')) return std::nullopt;
  r.skip_blanks();
  const std::string_view name = r.word();
  const auto engine = engine_named(name);
  if (!engine) {
    d.error = "unknown engine '" + std::string(name.empty() ? r.rest() : name) +
              "' in '-- only:' (expected postgres or sqlite)";
    return d;
  }
  d.engine = *engine;
  if (r.at_end()) {
    d.kind = OnlyLine::Kind::only;
    return d;
  }
  const std::size_t mark = r.pos();
  if (r.eat_phrase("for-next")) {
    r.skip_blanks();
    const auto n = r.number();
    r.skip_blanks();
    if (n && (r.eat_phrase("lines") || r.eat_phrase("line")) && r.at_end()) {
      d.kind = OnlyLine::Kind::only;
      d.form = OnlyLine::Form::next_lines;
      d.count = *n;
      return d;
    }
    d.error = "malformed '-- only:' directive (expected '-- only: " + engine_name(*engine) +
              " for next N lines')";
    return d;
  }
  r.reset(mark);
  if (r.eat_phrase("until")) {
    r.skip_blanks();
    if (r.eat('"') && (r.skip_blanks(), r.eat_phrase("end-only")) && (r.skip_blanks(), r.eat('"')) &&
        r.at_end()) {
      d.kind = OnlyLine::Kind::only;
      d.form = OnlyLine::Form::until_end;
      return d;
    }
    d.error = "malformed '-- only:' directive (expected '-- only: " + engine_name(*engine) +
              " until \"end only\"')";
    return d;
  }
  d.error = "unexpected text after '-- only: " + engine_name(*engine) + "': '" +
            std::string(r.rest()) + "'";
  return d;
}

// mautrix-go's header line "-- v1: message", "-- v0 -> v2: message" or
// "-- v5 (compatible with v3+): message" (text after "--"). Returns whether it
// is one, and the compatibility version if it has one.
bool parse_mautrix_header(std::string_view body, std::optional<long long>* compat) {
  Reader r(body);
  r.skip_blanks();
  auto version = [&r] {
    if (!(r.eat('v') || r.eat('V'))) return false;
    return r.number().has_value();
  };
  if (!version()) return false;
  r.skip_blanks();
  if (r.eat('-')) {
    if (!r.eat('>')) return false;
    r.skip_blanks();
    if (!version()) return false;
    r.skip_blanks();
  }
  if (r.eat('(')) {
    r.skip_blanks();
    if (!r.eat_phrase("compatible-with")) return false;
    r.skip_blanks();
    if (!(r.eat('v') || r.eat('V'))) return false;
    const auto n = r.number();
    if (!n) return false;
    r.skip_blanks();
    r.eat('+');
    r.skip_blanks();
    if (!r.eat(')')) return false;
    *compat = *n;
    r.skip_blanks();
  }
  return r.eat(':');
}

// The line starting at `begin`: its end (the '\n' or the end of the text).
std::size_t line_end(std::string_view s, std::size_t begin) {
  const std::size_t e = s.find('\n', begin);
  return e == npos ? s.size() : e;
}

// Whether the "--" at `dash` is the first non-blank thing on its line.
bool starts_line(std::string_view s, std::size_t dash) {
  std::size_t q = dash;
  while (q > 0 && is_space_or_tab(s[q - 1])) --q;
  return q == 0 || s[q - 1] == '\n';
}

// Finds every "-- only:" / "-- end only" line.
std::vector<OnlyLine> find_only_lines(std::string_view s) {
  std::vector<OnlyLine> found;
  std::size_t p = 0;
  while (p + 1 < s.size()) {
    const void* hit = std::memchr(s.data() + p, '-', s.size() - p - 1);
    if (!hit) break;
    const std::size_t dash = static_cast<std::size_t>(static_cast<const char*>(hit) - s.data());
    if (s[dash + 1] != '-') {
      p = dash + 1;
      continue;
    }
    const std::size_t end = line_end(s, dash);
    if (starts_line(s, dash)) {
      if (auto d = parse_only_line(s.substr(dash + 2, end - dash - 2))) {
        d->line_end = end;
        d->dash = dash;
        std::size_t b = dash;
        while (b > 0 && s[b - 1] != '\n') --b;
        d->line_begin = b;
        found.push_back(std::move(*d));
      }
    }
    p = end;  // a line holds at most one directive
  }
  return found;
}

// The text after "-- only:" processing, and how to map its offsets back.
struct Filtered {
  bool changed = false;
  std::string text;
  // (offset in text, bytes removed before it), increasing: an offset o maps to
  // o + removed of the last entry whose offset is <= o.
  std::vector<std::pair<std::size_t, std::size_t>> shifts;

  std::size_t original_offset(std::size_t o) const {
    auto it = std::upper_bound(shifts.begin(), shifts.end(), o,
                               [](std::size_t v, const auto& e) { return v < e.first; });
    return it == shifts.begin() ? o : o + std::prev(it)->second;
  }
};

struct Emitter {
  std::vector<Diagnostic>* out;
  LineIndex* index;
  void add(Diagnostic::Severity severity, std::size_t offset, std::string message) {
    const auto [line, column] = index->at(offset);
    out->push_back(Diagnostic{severity, line, column, std::move(message)});
  }
};

// Applies "-- only:" lines for `dialect` (semantics in splitter.hpp).
Filtered filter_only_lines(std::string_view s, Engine dialect, std::vector<Diagnostic>* diagnostics) {
  Filtered f;
  std::vector<OnlyLine> lines = find_only_lines(s);
  if (lines.empty()) return f;

  LineIndex index(s);
  Emitter diag{diagnostics, &index};
  using Kind = OnlyLine::Kind;
  using Form = OnlyLine::Form;
  std::vector<std::pair<std::size_t, std::size_t>> blanks;  // [begin, end) spans of whole lines
  // Drops `count` whole lines from the line starting at `begin`; returns the
  // end of the last one.
  auto blank_lines = [&](std::size_t begin, std::size_t count) {
    std::size_t e = line_end(s, begin);
    for (std::size_t k = 1; k < count && e < s.size(); ++k) e = line_end(s, e + 1);
    blanks.emplace_back(begin, e);
    return e;
  };

  // mautrix: a plain "-- only:" right after the header line (and after a
  // "-- transaction:" line, if any) limits the whole file.
  std::optional<std::size_t> whole_file;
  {
    std::optional<long long> compat;
    const std::size_t first_end = line_end(s, 0);
    if (s.size() >= 2 && s[0] == '-' && s[1] == '-' &&
        parse_mautrix_header(s.substr(2, first_end - 2), &compat) && first_end < s.size()) {
      std::size_t next = first_end + 1;
      const std::size_t next_end = line_end(s, next);
      Reader r(s.substr(next, next_end - next));
      if (r.eat('-') && r.eat('-') && (r.skip_blanks(), r.eat_phrase("transaction")) && next_end < s.size()) {
        next = next_end + 1;
      }
      for (const OnlyLine& d : lines) {
        if (d.line_begin == next && d.kind == Kind::only && d.form == Form::next_line) whole_file = next;
      }
    }
  }

  // "(lines commented)": removes the "--" that opens each line the directive
  // keeps (mautrix-go's rule: in an "until" block every such line must have
  // one; "for next N lines" strips it where present). Directives inside are
  // not read. Returns where reading directives resumes.
  auto uncomment_lines = [&](std::size_t k, const OnlyLine& d) -> std::size_t {
    std::size_t stop = s.size();
    if (d.form == Form::until_end) {
      std::size_t j = k + 1;
      while (j < lines.size() && lines[j].kind != Kind::end) ++j;
      if (j == lines.size()) return d.line_end;  // reported as unclosed below
      stop = lines[j].line_begin;
    }
    long long left = d.form == Form::until_end ? std::numeric_limits<long long>::max()
                     : d.form == Form::next_lines ? d.count
                                                  : 1;
    std::size_t p = d.line_end;
    while (p < s.size() && left > 0) {
      const std::size_t b = p + 1;
      if (b >= stop) break;
      if (s.compare(b, 2, "--") == 0) {
        blanks.emplace_back(b, b + 2);
      } else if (d.form == Form::until_end) {
        diag.add(Diagnostic::Severity::error, b,
                 "this line is in a '(lines commented)' block, so it must start with '--'");
      }
      p = line_end(s, b);
      --left;
    }
    return d.form == Form::until_end ? stop : p;
  };

  std::size_t skip_to = 0;  // lines that begin before this offset are already dropped
  const OnlyLine* open = nullptr;  // an "until" block for this dialect
  for (std::size_t k = 0; k < lines.size(); ++k) {
    const OnlyLine& d = lines[k];
    if (d.line_begin < skip_to) continue;
    if (whole_file && d.line_begin == *whole_file) {
      if (d.engine != dialect) {
        blanks.emplace_back(d.line_begin, s.size());
        break;
      }
      blanks.emplace_back(d.line_begin, d.line_end);
      continue;
    }
    switch (d.kind) {
      case Kind::malformed:
        diag.add(Diagnostic::Severity::error, d.dash, d.error);
        break;
      case Kind::end:
        if (!open) {
          diag.add(Diagnostic::Severity::warning, d.dash,
                   "'-- end only " + engine_name(d.engine) +
                       "' has no matching '-- only: " + engine_name(d.engine) + " until \"end only\"'");
          break;
        }
        if (open->engine != d.engine) {
          diag.add(Diagnostic::Severity::error, d.dash,
                   "'-- end only " + engine_name(d.engine) + "' closes a '-- only: " +
                       engine_name(open->engine) + " until \"end only\"' block");
        }
        blanks.emplace_back(d.line_begin, d.line_end);
        skip_to = d.line_end;
        open = nullptr;
        break;
      case Kind::only:
        if (d.form == Form::until_end && open) {
          diag.add(Diagnostic::Severity::error, d.dash,
                   "'-- only: ... until \"end only\"' blocks cannot nest (the open one starts on line " +
                       std::to_string(index.at(open->dash).first) + ")");
        }
        if (d.engine == dialect) {  // keep what follows; drop the directive itself
          blanks.emplace_back(d.line_begin, d.line_end);
          skip_to = d.line_end;
          if (d.form == Form::until_end && !open) open = &d;
          if (d.uncomment) skip_to = uncomment_lines(k, d);
          break;
        }
        if (d.form == Form::next_line) {
          skip_to = blank_lines(d.line_begin, 2);
        } else if (d.form == Form::next_lines) {
          const long long n = std::min<long long>(d.count, static_cast<long long>(s.size()));
          skip_to = blank_lines(d.line_begin, static_cast<std::size_t>(n) + 1);
        } else {
          // Drop everything through the first "-- end only" line.
          std::size_t j = k + 1;
          while (j < lines.size() && lines[j].kind != Kind::end) ++j;
          if (j == lines.size()) {
            diag.add(Diagnostic::Severity::error, d.dash,
                     "no '-- end only " + engine_name(d.engine) +
                         "' closes this '-- only: ... until \"end only\"' block");
            blanks.emplace_back(d.line_begin, s.size());
            skip_to = s.size() + 1;
          } else {
            if (lines[j].engine != d.engine) {
              diag.add(Diagnostic::Severity::error, lines[j].dash,
                       "'-- end only " + engine_name(lines[j].engine) +
                           "' closes a '-- only: " + engine_name(d.engine) + " until \"end only\"' block");
            }
            blanks.emplace_back(d.line_begin, lines[j].line_end);
            skip_to = lines[j].line_end;
          }
        }
        break;
    }
  }
  if (open) {
    diag.add(Diagnostic::Severity::error, open->dash,
             "no '-- end only " + engine_name(open->engine) +
                 "' closes this '-- only: ... until \"end only\"' block");
  }
  if (blanks.empty()) return f;

  // Copy the text without the dropped lines' bytes; keep their line breaks.
  f.changed = true;
  f.text.reserve(s.size());
  std::size_t pos = 0;
  std::size_t removed = 0;
  for (auto [b, e] : blanks) {
    f.text.append(s.data() + pos, b - pos);
    std::size_t p = b;
    while (p < e) {
      const std::size_t le = std::min(line_end(s, p), e);
      if (le > p) {
        removed += le - p;
        f.shifts.emplace_back(f.text.size(), removed);
      }
      if (le < e) f.text.push_back('\n');
      p = le + 1;
    }
    pos = e;
  }
  f.text.append(s.data() + pos, s.size() - pos);
  return f;
}

// ------------------------------------------------------------- directives

// "-- strata: possible rename a -> b" and "-- strata: cannot ...": notes
// strata itself writes into generated SQL (strata/schema/diff.hpp), read as
// plain comments wherever they are. REQUIRES: `r` is just after "strata:".
bool is_note(Reader& r) {
  const std::size_t start = r.pos();
  if (r.eat_phrase("possible-rename") || r.eat_phrase("cannot")) return true;
  r.reset(start);
  return false;
}

// Reads one "--" comment from before the first statement (`body` is the text
// after "--"; `first_line` says it is on line 1).
void read_directive(std::string_view body, std::size_t offset, bool first_line, bool starts_its_line,
                    Directives* d, Emitter* diag) {
  using Severity = Diagnostic::Severity;
  Reader r(body);
  r.skip_blanks();
  const std::size_t start = r.pos();
  if (r.eat_phrase("strata") && (r.skip_blanks(), r.eat(':'))) {
    r.skip_blanks();
    if (r.at_end()) {
      diag->add(Severity::error, offset,
                "empty directive '-- strata:' (known: no-transaction, foreign-keys off, breaking, compatible-with N, lint-ignore RULE reason, parents V..., depends-on V..., branch NAME, alembic-revision REV, repeatable)");
      return;
    }
    const std::string shown = "'-- strata: " + std::string(r.rest()) + "'";
    if (is_note(r)) return;
    if (r.eat_phrase("no-transaction")) {
      if (r.at_end()) {
        d->no_transaction = true;
        return;
      }
    } else if (r.eat_phrase("foreign-keys")) {
      r.skip_blanks();
      const std::string_view value = r.word();
      if (equals_ci(value, "off") && r.at_end()) {
        d->foreign_keys_off = true;
        return;
      }
      if (!(equals_ci(value, "on") && r.at_end())) {
        diag->add(Severity::error, offset, "directive " + shown + " expects off: '-- strata: foreign-keys off'");
        return;
      }
      return;  // "on" is the default and changes nothing
    } else if (r.eat_phrase("breaking")) {
      if (r.at_end()) {
        d->breaking = true;
        return;
      }
    } else if (r.eat_phrase("lint-ignore")) {
      // Read by strata lint (strata/lint.hpp), which finds it in the text
      // before or inside each statement; nothing for the migrator.
      return;
    } else if (const bool parents = r.eat_phrase("parents"); parents || r.eat_phrase("depends-on")) {
      // Versions separated by blanks or commas; "parents base" for a root.
      std::vector<long long> versions;
      bool root = false;
      while (!r.at_end()) {
        if (r.eat(',')) continue;
        if (parents && versions.empty() && !root && r.eat_phrase("base")) {
          root = true;
          continue;
        }
        if (!r.eat('v')) r.eat('V');
        const auto n = r.number();
        if (!n || root) {
          diag->add(Severity::error, offset,
                    "directive " + shown + (parents ? " needs version numbers, or base for a root: '-- strata: parents V1 V2'"
                                                    : " needs version numbers: '-- strata: depends-on V1 V2'"));
          return;
        }
        versions.push_back(*n);
      }
      if (versions.empty() && !root) {
        diag->add(Severity::error, offset,
                  "directive " + shown + (parents ? " needs version numbers, or base for a root" : " needs version numbers"));
        return;
      }
      if (parents) {
        if (d->parents) {
          diag->add(Severity::error, offset, "directive " + shown + " repeats an earlier '-- strata: parents'");
          return;
        }
        d->parents = std::move(versions);
      } else {
        d->depends_on.insert(d->depends_on.end(), versions.begin(), versions.end());
      }
      return;
    } else if (const bool branch = r.eat_phrase("branch"); branch || r.eat_phrase("alembic-revision")) {
      r.skip_blanks();
      const std::string value(r.token());
      if (value.empty() || !r.at_end()) {
        diag->add(Severity::error, offset,
                  "directive " + shown + (branch ? " needs one name: '-- strata: branch NAME'"
                                                 : " needs one revision: '-- strata: alembic-revision REV'"));
        return;
      }
      (branch ? d->branch : d->alembic_revision) = value;
      return;
    } else if (r.eat_phrase("repeatable")) {
      if (r.at_end()) {
        d->repeatable = true;
        return;
      }
    } else if (r.eat_phrase("compatible-with")) {
      r.skip_blanks();
      if (!r.eat('v')) r.eat('V');
      const auto n = r.number();
      if (!n || !r.at_end()) {
        diag->add(Severity::error, offset,
                  "directive " + shown + " needs one version number: '-- strata: compatible-with N'");
        return;
      }
      if (d->compatible_with && *d->compatible_with != *n) {
        diag->add(Severity::error, offset,
                  "directive " + shown + " contradicts an earlier compatible-with " +
                      std::to_string(*d->compatible_with));
        return;
      }
      d->compatible_with = *n;
      return;
    }
    diag->add(Severity::error, offset,
              "unknown directive " + shown +
                  " (known: no-transaction, foreign-keys off, breaking, compatible-with N, lint-ignore RULE reason, parents V..., depends-on V..., branch NAME, alembic-revision REV, repeatable)");
    return;
  }
  r.reset(start);
  if (r.eat_phrase("no-transaction") && r.at_end()) {  // sqlx
    d->no_transaction = true;
    return;
  }
  r.reset(start);
  if (r.eat_phrase("transaction") && (r.skip_blanks(), r.eat(':'))) {  // mautrix-go
    r.skip_blanks();
    const std::string value(r.rest());
    const std::size_t value_at = r.pos();
    const std::string_view word = r.word();
    const bool alone = r.at_end();
    if (equals_ci(word, "off") && alone) {
      d->no_transaction = true;
    } else if (equals_ci(word, "on") && alone) {
    } else if (r.reset(value_at); r.eat_phrase("sqlite-fkey-off") && r.at_end()) {
      // mautrix-go: a transaction, with foreign keys off around it on SQLite.
      d->foreign_keys_off = true;
    } else {
      diag->add(Severity::error, offset,
                "invalid value '" + value + "' in '-- transaction:' (expected on, off or sqlite-fkey-off)");
    }
    return;
  }
  r.reset(start);
  if (r.eat_phrase("only") && (r.skip_blanks(), r.eat(':'))) {
    // A "-- only:" that starts its line was applied (or reported) before lexing.
    if (!starts_its_line) diag->add(Severity::warning, offset,
              "'-- only:' has no effect here: it must be the first thing on its line");
    return;
  }
  std::optional<long long> compat;
  if (first_line && parse_mautrix_header(body, &compat) && compat) {
    if (d->compatible_with && *d->compatible_with != *compat) {
      diag->add(Severity::error, offset,
                "'(compatible with v" + std::to_string(*compat) +
                    "+)' contradicts compatible-with " + std::to_string(*d->compatible_with));
      return;
    }
    d->compatible_with = compat;
  }
}

std::string_view replacement_for(Engine dialect) {
  return dialect == Engine::postgres ? kPostgresAutoIncrement : kSqliteAutoIncrement;
}

void replace_placeholder(std::string* text, Engine dialect) {
  std::size_t p = text->find(kPlaceholder);
  if (p == npos) return;
  const std::string_view with = replacement_for(dialect);
  std::string out;
  out.reserve(text->size() + 2 * with.size());
  std::size_t from = 0;
  while (p != npos) {
    out.append(*text, from, p - from);
    out.append(with);
    from = p + kPlaceholder.size();
    p = text->find(kPlaceholder, from);
  }
  out.append(*text, from, npos);
  *text = std::move(out);
}

}  // namespace

bool Script::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::error; });
}

Script parse_script(std::string_view input, Engine dialect) {
  Script script;
  const std::size_t base = input.substr(0, kBom.size()) == kBom ? kBom.size() : 0;
  const std::string_view original = input.substr(base);

  const Filtered filtered = filter_only_lines(original, dialect, &script.diagnostics);
  const std::string_view text = filtered.changed ? std::string_view(filtered.text) : original;

  detail::LexResult lexed = detail::lex(text, dialect);
  LineIndex index(text);
  Emitter diag{&script.diagnostics, &index};

  for (const detail::Span& c : lexed.leading_line_comments) {
    const bool first_line = index.at(c.begin).first == 1;
    read_directive(text.substr(c.begin + 2, c.end - c.begin - 2), c.begin, first_line,
                   starts_line(text, c.begin), &script.directives, &diag);
  }
  // These interleave with the statements: a separate index keeps both passes forward-only.
  LineIndex late_index(text);
  Emitter late_diag{&script.diagnostics, &late_index};
  for (const detail::Span& c : lexed.late_directive_comments) {
    Reader r(text.substr(c.begin + 2, c.end - c.begin - 2));
    r.skip_blanks();
    if (r.eat_phrase("strata")) {
      r.skip_blanks();
      if (r.eat(':')) r.skip_blanks();
      if (is_note(r) || r.eat_phrase("lint-ignore")) continue;  // the differ's notes; strata lint's per-statement suppressions
      late_diag.add(Diagnostic::Severity::warning, c.begin,
               "directive ignored: '-- strata:' directives must come before the first statement");
    } else if (!starts_line(text, c.begin)) {
      late_diag.add(Diagnostic::Severity::warning, c.begin,
               "'-- only:' has no effect here: it must be the first thing on its line");
    }
  }

  script.statements.reserve(lexed.statements.size());
  LineIndex statement_index(original);
  for (const detail::Span& span : lexed.statements) {
    Statement st;
    st.text.assign(text.data() + span.begin, span.end - span.begin);
    replace_placeholder(&st.text, dialect);
    // Positions in the file as written ("(lines commented)" removes bytes
    // inside lines, so the filtered text's columns can differ).
    const std::size_t at = filtered.changed ? filtered.original_offset(span.begin) : span.begin;
    const auto [line, column] = statement_index.at(at);
    st.line = line;
    st.column = column;
    st.offset = base + at;
    script.statements.push_back(std::move(st));
  }
  if (lexed.unterminated) {
    diag.add(Diagnostic::Severity::error, lexed.unterminated->offset, std::move(lexed.unterminated->message));
  }

  std::stable_sort(script.diagnostics.begin(), script.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return a.line != b.line ? a.line < b.line : a.column < b.column;
                   });
  return script;
}

Directives read_header_directives(std::string_view input, std::vector<Diagnostic>* diagnostics) {
  Directives d;
  const std::string_view text = input.substr(0, kBom.size()) == kBom ? input.substr(kBom.size()) : input;
  LineIndex index(text);
  Emitter diag{diagnostics, &index};
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = line_end(text, at);
    std::size_t p = at;
    while (p < end && (is_space_or_tab(text[p]) || text[p] == '\r')) ++p;
    if (p + 1 < end && text[p] == '-' && text[p + 1] == '-') {
      read_directive(text.substr(p + 2, end - p - 2), p, at == 0, true, &d, &diag);
    } else if (p != end) {
      break;  // the first statement (or a block comment): the header is over
    }
    at = end < text.size() ? end + 1 : end;
  }
  return d;
}

std::size_t header_length(std::string_view input) {
  const std::size_t bom = input.substr(0, kBom.size()) == kBom ? kBom.size() : 0;
  const std::string_view text = input.substr(bom);
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = line_end(text, at);
    std::size_t p = at;
    while (p < end && (is_space_or_tab(text[p]) || text[p] == '\r')) ++p;
    if (!(p + 1 < end && text[p] == '-' && text[p + 1] == '-') && p != end) break;
    at = end < text.size() ? end + 1 : end;
  }
  return bom + at;
}

std::string render(const Diagnostic& d, std::string_view file, std::string_view text) {
  std::string out;
  out.append(file);
  if (d.line > 0) {
    if (!out.empty()) out += ':';
    out += std::to_string(d.line);
    if (d.column > 0) {
      out += ':';
      out += std::to_string(d.column);
    }
  }
  if (!out.empty()) out += ": ";
  out += d.severity == Diagnostic::Severity::error ? "error: " : "warning: ";
  out += d.message;
  if (d.line <= 0) return out;

  // The source line (line 1 starts after a BOM, as columns do).
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::size_t begin = 0;
  for (int line = 1; line < d.line; ++line) {
    const std::size_t nl = text.find('\n', begin);
    if (nl == npos) return out;
    begin = nl + 1;
  }
  std::string_view source = text.substr(begin, line_end(text, begin) - begin);
  if (!source.empty() && source.back() == '\r') source.remove_suffix(1);
  out += '\n';
  out.append(source);
  out += '\n';
  // The caret: a tab under each tab so it lines up whatever the tab width,
  // one space per UTF-8 character (continuation bytes take no column).
  const std::size_t col = std::min(static_cast<std::size_t>(d.column > 0 ? d.column - 1 : 0), source.size());
  for (std::size_t i = 0; i < col; ++i) {
    const auto c = static_cast<unsigned char>(source[i]);
    if (c == '\t') out += '\t';
    else if ((c & 0xC0) != 0x80) out += ' ';
  }
  out += '^';
  return out;
}

}  // namespace strata::sql
