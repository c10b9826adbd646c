// schema/sqlite_text.cpp: see sqlite_text.hpp.
#include "schema/sqlite_text.hpp"

#include "sql/lexer.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string sqlite_identifier(std::string_view token) {
  if (token.empty()) return {};
  const char open = token.front();
  if (open == '[') return std::string(token.substr(1, token.size() >= 2 && token.back() == ']' ? token.size() - 2 : token.size() - 1));
  if (open != '"' && open != '`' && open != '\'') return std::string(token);
  std::string out;
  // An unterminated quote (tokenize() runs it to the end) keeps what it has.
  const std::size_t end = token.size() >= 2 && token.back() == open ? token.size() - 1 : token.size();
  for (std::size_t i = 1; i < end; ++i) {
    out += token[i];
    if (token[i] == open && i + 1 < end && token[i + 1] == open) ++i;
  }
  return out;
}

std::set<std::string> sqlite_words(std::string_view sql) {
  std::set<std::string> out;
  for (const sql::detail::Token& t : sql::detail::tokenize(sql, Engine::sqlite)) {
    const std::string_view text = sql.substr(t.span.begin, t.span.end - t.span.begin);
    if (t.kind == sql::detail::TokenKind::quoted) {
      out.insert(ascii_lower(sqlite_identifier(text)));
    } else if (t.kind == sql::detail::TokenKind::word && !(text[0] >= '0' && text[0] <= '9')) {
      out.insert(ascii_lower(text));
    }
  }
  return out;
}

std::optional<std::set<std::string>> sqlite_shadow_tables(Connection& connection) {
  std::set<std::string> shadow;
  try {
    for (const Row& r :
         connection.query("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'").rows) {
      shadow.insert(ascii_lower(r.get<std::string>(0)));
    }
  } catch (const Error&) {
    return std::nullopt;
  }
  return shadow;
}

}  // namespace strata::schema::detail
