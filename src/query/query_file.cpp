// Query files: sqlc's "-- name: NAME :KIND" convention over strata's splitter.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "strata/error.hpp"
#include "strata/query.hpp"

namespace strata {
namespace {

bool is_identifier(std::string_view s) {
  if (s.empty() || (std::isdigit(static_cast<unsigned char>(s[0])) != 0)) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct NameLine {
  int line = 0;
  int column = 0;
  std::string name;
  std::optional<QueryKind> kind;
  std::string error;
};

// The "-- name:" lines of text[begin, end), a stretch holding only blanks and
// comments. `first_line` is the line number at `begin`.
std::vector<NameLine> name_lines(std::string_view text, std::size_t begin, std::size_t end, int first_line) {
  std::vector<NameLine> out;
  int line = first_line;
  std::size_t pos = begin;
  while (pos < end) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos || eol > end) eol = end;
    std::string_view raw = text.substr(pos, eol - pos);
    std::string_view s = trim(raw);
    if (s.starts_with("--")) {
      std::string_view body = trim(s.substr(2));
      if (body.size() >= 5 && body.substr(0, 4) == "name" && trim(body.substr(4)).starts_with(":")) {
        NameLine n;
        n.line = line;
        n.column = static_cast<int>(raw.find("--")) + 1;
        std::string_view rest = trim(trim(body.substr(4)).substr(1));
        std::size_t space = rest.find_first_of(" \t");
        std::string_view name = rest.substr(0, space);
        std::string_view kind = space == std::string_view::npos ? std::string_view() : trim(rest.substr(space));
        n.name = std::string(name);
        if (!is_identifier(name)) {
          n.error = "query name \"" + std::string(name) + "\" is not an identifier (letters, digits, '_')";
        } else if (!kind.starts_with(":") || !(n.kind = parse_query_kind(kind.substr(1)))) {
          n.error = "\"-- name: " + std::string(name) + "\" needs a kind: :one, :many, :exec or :execrows" +
                    (kind.empty() ? "" : " (not \"" + std::string(kind) + "\")");
        }
        out.push_back(std::move(n));
      }
    }
    ++line;
    pos = eol + 1;
  }
  return out;
}

}  // namespace

const char* to_string(QueryKind kind) noexcept {
  switch (kind) {
    case QueryKind::one: return "one";
    case QueryKind::many: return "many";
    case QueryKind::exec: return "exec";
    case QueryKind::execrows: return "execrows";
  }
  return "many";
}

std::optional<QueryKind> parse_query_kind(std::string_view text) {
  if (text == "one") return QueryKind::one;
  if (text == "many") return QueryKind::many;
  if (text == "exec") return QueryKind::exec;
  if (text == "execrows") return QueryKind::execrows;
  return std::nullopt;
}

bool QueryParse::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const sql::Diagnostic& d) { return d.severity == sql::Diagnostic::Severity::error; });
}

QueryParse parse_queries(std::string_view text, std::string_view file, Engine dialect) {
  QueryParse out;
  sql::Script script = sql::parse_script(text, dialect);
  out.diagnostics = script.diagnostics;
  auto error = [&](int line, int column, std::string message) {
    out.diagnostics.push_back({sql::Diagnostic::Severity::error, line, column, std::move(message)});
  };
  // Line number at each offset, counted as the splitter does (LF ends a line).
  auto line_at = [&](std::size_t offset) {
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
  };
  std::size_t previous_end = 0;
  for (const auto& statement : script.statements) {
    std::size_t begin = previous_end;
    // The name line sits between the previous statement's last token and
    // this one's first (blanks and comments only).
    auto names = name_lines(text, begin, statement.offset, line_at(begin));
    previous_end = statement.offset + statement.text.size();
    if (names.empty()) {
      error(statement.line, statement.column, "this statement has no \"-- name: NAME :KIND\" line before it");
      continue;
    }
    if (names.size() > 1) {
      error(names[1].line, names[1].column,
            "a second \"-- name:\" line for one statement (\"" + names[0].name + "\" is named on line " +
                std::to_string(names[0].line) + ")");
      continue;
    }
    if (!names[0].error.empty()) {
      error(names[0].line, names[0].column, names[0].error);
      continue;
    }
    Query q;
    q.name = names[0].name;
    q.kind = *names[0].kind;
    q.sql = statement.text;
    q.file = std::string(file);
    q.line = statement.line;
    q.column = statement.column;
    out.queries.push_back(std::move(q));
  }
  // A name line after the last statement names nothing.
  for (const auto& n : name_lines(text, previous_end, text.size(), line_at(previous_end))) {
    error(n.line, n.column, "\"-- name: " + n.name + "\" is followed by no statement");
  }
  std::sort(out.diagnostics.begin(), out.diagnostics.end(),
            [](const sql::Diagnostic& a, const sql::Diagnostic& b) { return a.line < b.line; });
  return out;
}

std::vector<Query> load_queries(const std::filesystem::path& dir, Engine engine) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() == ".sql" && !p.filename().string().starts_with(".") && it->is_regular_file()) files.push_back(p);
  }
  if (ec) throw Error(ErrorKind::source, "cannot read the query directory " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Query> out;
  std::vector<std::string> problems;
  std::map<std::string, const Query*> seen;
  for (const auto& path : files) {
    std::string display = (dir / path.filename()).lexically_normal().generic_string();
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) {
      problems.push_back(display + ": cannot be read");
      continue;
    }
    std::string text = buffer.str();
    QueryParse parsed = parse_queries(text, display, engine);
    for (const auto& d : parsed.diagnostics) {
      if (d.severity == sql::Diagnostic::Severity::error) problems.push_back(sql::render(d, display, text));
    }
    for (auto& q : parsed.queries) out.push_back(std::move(q));
  }
  for (const auto& q : out) {
    auto [it, inserted] = seen.emplace(q.name, &q);
    if (!inserted) {
      problems.push_back(q.file + ":" + std::to_string(q.line) + ":" + std::to_string(q.column) + ": query " + q.name +
                         " is also defined at " + it->second->file + ":" + std::to_string(it->second->line));
    }
  }
  if (!problems.empty()) {
    std::string message = "the query files have problems:";
    for (const auto& p : problems) message += "\n" + p;
    throw Error(ErrorKind::source, message);
  }
  return out;
}

}  // namespace strata
