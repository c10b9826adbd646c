#include "strata/url.hpp"

#include <algorithm>
#include <cctype>

#include "strata/error.hpp"

namespace strata {

const char* to_string(Engine engine) noexcept {
  switch (engine) {
    case Engine::sqlite: return "sqlite";
    case Engine::postgres: return "postgres";
  }
  return "unknown";
}

namespace {

constexpr std::string_view kMask = "***";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// Where a URL that starts at `from` ends: at whitespace, a quote or an angle bracket.
std::size_t token_end(std::string_view s, std::size_t from) {
  std::size_t i = from;
  while (i < s.size() && !is_space(s[i]) && s[i] != '"' && s[i] != '\'' && s[i] != '<' && s[i] != '>' && s[i] != '`') ++i;
  return i;
}

// "scheme://user:secret@host" -> "scheme://user:***@host".
std::string redact_userinfo(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  std::size_t search = 0;
  while (true) {
    std::size_t sep = text.find("://", search);
    if (sep == std::string_view::npos) break;
    std::size_t start = sep + 3;
    std::size_t end = token_end(text, start);
    std::size_t authority_end = start;
    while (authority_end < end && text[authority_end] != '/' && text[authority_end] != '?' && text[authority_end] != '#') ++authority_end;
    std::string_view authority = text.substr(start, authority_end - start);
    std::size_t at = std::string_view::npos;
    if (auto a = authority.rfind('@'); a != std::string_view::npos) {
      at = start + a;
    } else if (authority.find(':') != std::string_view::npos) {
      // A password holding a raw '/', '?' or '#' ends the authority early:
      // take the last '@' of the whole URL instead (over-redacting at worst).
      std::string_view token = text.substr(start, end - start);
      if (auto a2 = token.rfind('@'); a2 != std::string_view::npos) at = start + a2;
    }
    if (at != std::string_view::npos) {
      std::string_view userinfo = text.substr(start, at - start);
      if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
        std::size_t secret = start + colon + 1;
        out.append(text.substr(copied, secret - copied));
        out.append(kMask);
        copied = at;
      }
    }
    search = std::max(end, start);
    if (search >= text.size()) break;
  }
  out.append(text.substr(copied));
  return out;
}

// "password=secret", "password = 'a b'", "?password=secret", "sslpassword=..."
std::string redact_pairs(std::string_view text) {
  static constexpr std::string_view kKey = "password";
  std::string out;
  std::size_t copied = 0;
  std::size_t i = 0;
  while (i + kKey.size() <= text.size()) {
    if (!iequals(text.substr(i, kKey.size()), kKey)) {
      ++i;
      continue;
    }
    std::size_t j = i + kKey.size();
    while (j < text.size() && is_space(text[j])) ++j;
    if (j >= text.size() || text[j] != '=') {
      i += kKey.size();
      continue;
    }
    ++j;
    std::size_t key_start = i;
    while (key_start > 0 && is_word(text[key_start - 1])) --key_start;
    bool query = key_start > 0 && (text[key_start - 1] == '?' || text[key_start - 1] == '&' || text[key_start - 1] == ';');
    std::size_t value_start = j;
    std::size_t value_end = j;
    if (query) {
      while (value_end < text.size() && text[value_end] != '&' && text[value_end] != '#' && !is_space(text[value_end]) &&
             text[value_end] != '"' && text[value_end] != '\'')
        ++value_end;
    } else {
      while (value_start < text.size() && is_space(text[value_start]) && text[value_start] != '\n') ++value_start;
      value_end = value_start;
      if (value_end < text.size() && text[value_end] == '\'') {
        ++value_end;
        while (value_end < text.size() && text[value_end] != '\'') {
          if (text[value_end] == '\\' && value_end + 1 < text.size()) ++value_end;
          ++value_end;
        }
        if (value_end < text.size()) ++value_end;  // the closing quote
      } else {
        while (value_end < text.size() && !is_space(text[value_end]) && text[value_end] != '"') ++value_end;
      }
    }
    if (value_end > value_start) {
      out.append(text.substr(copied, value_start - copied));
      out.append(kMask);
      copied = value_end;
    }
    i = std::max(value_end, j);
  }
  out.append(text.substr(copied));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A libpq conninfo string starts with "keyword=" (spaces allowed around '=').
bool looks_like_conninfo(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && (std::isalpha(static_cast<unsigned char>(s[i])) != 0 || s[i] == '_')) ++i;
  if (i == 0) return false;
  while (i < s.size() && is_space(s[i])) ++i;
  return i < s.size() && s[i] == '=';
}

[[noreturn]] void bad_url(std::string_view url, std::string_view why) {
  throw Error(ErrorKind::config, "invalid database URL \"" + redact_passwords(url) + "\": " + std::string(why));
}

}  // namespace

std::string redact_passwords(std::string_view text) { return redact_pairs(redact_userinfo(text)); }

std::string DatabaseUrl::redacted() const { return redact_passwords(text); }

DatabaseUrl DatabaseUrl::parse(std::string_view input) {
  std::string_view url = trim(input);
  if (url.empty()) throw Error(ErrorKind::config, "the database URL is empty");

  std::string_view scheme;
  if (auto colon = url.find(':'); colon != std::string_view::npos && colon > 0) {
    std::string_view candidate = url.substr(0, colon);
    bool valid = std::isalpha(static_cast<unsigned char>(candidate[0])) != 0 &&
                 std::all_of(candidate.begin(), candidate.end(), [](char c) {
                   return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
                 });
    if (valid) scheme = candidate;
  }

  DatabaseUrl result;
  result.text = std::string(url);
  if (iequals(scheme, "sqlite")) {
    std::string_view rest = url.substr(scheme.size() + 1);
    if (rest.substr(0, 2) == "//") rest.remove_prefix(2);
    if (rest.find('?') != std::string_view::npos) {
      bad_url(url, "query strings (\"?...\") are not supported on sqlite URLs");
    }
    if (rest.empty()) bad_url(url, "no database file: use sqlite:path/to/file.db or sqlite::memory:");
    if (rest.back() == '/') bad_url(url, "the path names a directory, not a database file");
    result.engine = Engine::sqlite;
    result.sqlite_path = std::string(rest);
    return result;
  }
  if (iequals(scheme, "postgres") || iequals(scheme, "postgresql")) {
    if (url.substr(scheme.size(), 3) != "://") bad_url(url, "expected " + std::string(scheme) + "://...");
    result.engine = Engine::postgres;
    return result;
  }
  if (scheme.empty() && looks_like_conninfo(url)) {
    result.engine = Engine::postgres;
    return result;
  }
  bad_url(url,
          "unsupported scheme; accepted: sqlite:<path>, sqlite:///<absolute path>, sqlite::memory:, "
          "postgres://..., postgresql://... or a libpq \"key=value ...\" string");
}

}  // namespace strata
