// The token rules of query/analysis.hpp.
#include "query/analysis.hpp"

#include <algorithm>
#include <cctype>

namespace strata::query::detail {
namespace {

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Words that end a table reference rather than alias it.
bool is_clause_word(const std::string& w) {
  static const std::set<std::string> words = {
      "where",  "join",   "left",   "right",     "full",      "inner",  "cross", "on",     "using",
      "set",    "values", "natural", "group",    "order",     "limit",  "offset", "returning", "union",
      "except", "intersect", "having", "window", "default",   "select", "outer", "as",     "lateral",
      "fetch",  "for",    "do",     "conflict", "with",      "from",   "into",  "and",    "or"};
  return words.count(w) != 0;
}

bool is_name(const Token& t) { return t.kind == Token::Kind::word || t.kind == Token::Kind::quoted; }

struct TableRef {
  std::size_t index = 0;  // token index of the table name
  int depth = 0;
  std::string name;
  std::string alias;
};

class Analyzer {
 public:
  explicit Analyzer(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Analysis run() {
    find_tables();
    find_outer_joins();
    find_items();
    find_parameters();
    return std::move(out_);
  }

 private:
  bool word(std::size_t i, std::string_view w) const {
    return i < t_.size() && t_[i].kind == Token::Kind::word && t_[i].text == w;
  }
  bool punct(std::size_t i, std::string_view p) const {
    return i < t_.size() && t_[i].kind == Token::Kind::punct && t_[i].text == p;
  }
  // The index of the ')' closing the '(' at i (t_.size() if none).
  std::size_t closing(std::size_t i) const {
    for (std::size_t j = i + 1; j < t_.size(); ++j) {
      if (punct(j, ")") && t_[j].depth == t_[i].depth) return j;
    }
    return t_.size();
  }

  // A table reference at i: name[.name] [[AS] alias]. Returns the index after
  // it. A '(' after the name makes it a function call, except after INTO
  // (INSERT INTO t (columns)).
  std::size_t table_ref(std::size_t i, bool columns_follow = false) {
    if (i >= t_.size() || !is_name(t_[i])) return i;
    if (t_[i].kind == Token::Kind::word && is_clause_word(t_[i].text)) return i;
    TableRef ref;
    ref.index = i;
    ref.depth = t_[i].depth;
    ref.name = t_[i].text;
    std::size_t j = i + 1;
    while (punct(j, ".") && j + 1 < t_.size() && is_name(t_[j + 1])) {
      ref.name = t_[j + 1].text;
      j += 2;
    }
    if (punct(j, "(") && !columns_follow) return j;  // a function in FROM: not a table
    if (word(j, "as") && j + 1 < t_.size() && is_name(t_[j + 1])) {
      ref.alias = t_[j + 1].text;
      j += 2;
    } else if (!columns_follow && j < t_.size() && is_name(t_[j]) && !(t_[j].kind == Token::Kind::word && is_clause_word(t_[j].text))) {
      ref.alias = t_[j].text;
      ++j;
    }
    refs_.push_back(ref);
    out_.tables.emplace_back(ref.alias.empty() ? ref.name : ref.alias, ref.name);
    if (!ref.alias.empty()) out_.tables.emplace_back(ref.name, ref.name);
    return j;
  }

  void find_tables() {
    // Depths at which a FROM list is open (a ',' there starts another table).
    std::vector<int> from_depths;
    for (std::size_t i = 0; i < t_.size(); ++i) {
      const Token& tok = t_[i];
      if (tok.kind == Token::Kind::word) {
        if (tok.text == "from" || tok.text == "join" || tok.text == "update" || tok.text == "into") {
          if (tok.text == "from") from_depths.push_back(tok.depth);
          table_ref(i + 1, tok.text == "into");
        } else if (is_clause_word(tok.text) && tok.text != "as" && tok.text != "join" && tok.text != "left" &&
                   tok.text != "right" && tok.text != "full" && tok.text != "inner" && tok.text != "cross" &&
                   tok.text != "outer" && tok.text != "natural" && tok.text != "lateral") {
          std::erase(from_depths, tok.depth);
        }
      } else if (tok.kind == Token::Kind::punct && tok.text == "," &&
                 std::find(from_depths.begin(), from_depths.end(), tok.depth) != from_depths.end()) {
        table_ref(i + 1);
      } else if (tok.kind == Token::Kind::punct && tok.text == ")") {
        std::erase_if(from_depths, [&](int d) { return d > tok.depth; });
      }
    }
  }

  void find_outer_joins() {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (!(word(i, "left") || word(i, "right") || word(i, "full"))) continue;
      std::size_t j = i + 1;
      if (word(j, "outer")) ++j;
      if (!word(j, "join")) continue;
      const std::string side = t_[i].text;
      const int depth = t_[i].depth;
      if (side == "left" || side == "full") {
        std::size_t begin = j + 1;
        std::size_t end = punct(begin, "(") ? closing(begin) : begin + 1;
        for (const auto& r : refs_) {
          if (r.index >= begin && r.index < end) out_.nullable_tables.insert(r.name);
        }
      }
      if (side == "right" || side == "full") {
        std::size_t from = 0;
        for (std::size_t k = i; k-- > 0;) {
          if (word(k, "from") && t_[k].depth == depth) {
            from = k;
            break;
          }
        }
        for (const auto& r : refs_) {
          if (r.index > from && r.index < i) out_.nullable_tables.insert(r.name);
        }
      }
    }
  }

  void find_items() {
    std::size_t begin = t_.size();
    std::size_t end = t_.size();
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].depth != 0) continue;
      if (word(i, "select")) {
        begin = i + 1;
        if (word(begin, "distinct") || word(begin, "all")) ++begin;
        for (std::size_t k = begin; k < t_.size(); ++k) {
          if (t_[k].depth == 0 && t_[k].kind == Token::Kind::word &&
              (t_[k].text == "from" || t_[k].text == "where" || t_[k].text == "union" || t_[k].text == "group" ||
               t_[k].text == "order" || t_[k].text == "limit" || t_[k].text == "except" || t_[k].text == "intersect")) {
            end = k;
            break;
          }
        }
        break;
      }
      if (word(i, "returning")) {
        begin = i + 1;
        break;
      }
    }
    if (begin >= t_.size()) return;
    std::size_t start = begin;
    for (std::size_t k = begin; k <= end; ++k) {
      if (k == end || (punct(k, ",") && t_[k].depth == 0)) {
        if (k == start) return;
        if (punct(k - 1, "*")) {
          out_.items.clear();
          return;
        }
        out_.items.push_back(item(start, k));
        start = k + 1;
      }
    }
  }

  // The type name starting at i: consecutive words, with a (n[,m]) modifier.
  std::string type_name(std::size_t i) const {
    std::string out;
    for (std::size_t k = i; k < t_.size() && t_[k].kind == Token::Kind::word; ++k) {
      if (!out.empty()) out += ' ';
      out += t_[k].text;
    }
    return out;
  }

  SelectItem item(std::size_t begin, std::size_t end) const {
    // Drop an alias: "AS name", or a name after something that ends an expression.
    if (end - begin >= 2 && word(end - 2, "as")) {
      end -= 2;
    } else if (end - begin >= 2 && is_name(t_[end - 1]) &&
               (punct(end - 2, ")") || t_[end - 2].kind == Token::Kind::number ||
                t_[end - 2].kind == Token::Kind::string ||
                (is_name(t_[end - 2]) && !(t_[end - 2].kind == Token::Kind::word && is_clause_word(t_[end - 2].text))))) {
      end -= 1;
    }
    SelectItem out;
    const std::size_t n = end - begin;
    auto call = [&](std::string_view name) { return n >= 3 && word(begin, name) && punct(begin + 1, "(") && closing(begin + 1) == end - 1; };
    if (call("count")) {
      out.shape = SelectItem::Shape::count;
    } else if (call("exists")) {
      out.shape = SelectItem::Shape::exists;
    } else if (call("cast")) {
      for (std::size_t k = end - 2; k > begin + 1; --k) {
        if (word(k, "as") && t_[k].depth == t_[begin].depth + 1) {
          out.shape = SelectItem::Shape::cast;
          out.cast_type = type_name(k + 1);
          break;
        }
      }
    } else if (n == 1 && t_[begin].kind == Token::Kind::number) {
      bool real = t_[begin].text.find_first_of(".eE") != std::string::npos;
      out.shape = real ? SelectItem::Shape::real : SelectItem::Shape::integer;
    } else if (n == 1 && t_[begin].kind == Token::Kind::string) {
      out.shape = SelectItem::Shape::text;
    } else if (n == 1 && is_name(t_[begin])) {
      out.shape = SelectItem::Shape::column;
      out.column = {"", t_[begin].text};
    } else if (n == 3 && is_name(t_[begin]) && punct(begin + 1, ".") && is_name(t_[begin + 2])) {
      out.shape = SelectItem::Shape::column;
      out.column = {t_[begin].text, t_[begin + 2].text};
    } else {
      // expr :: type at the top level of the item.
      for (std::size_t k = begin; k + 1 < end; ++k) {
        if (punct(k, "::") && t_[k].depth == t_[begin].depth && type_name(k + 1).size() > 0) {
          std::size_t after = k + 1;
          while (after < end && t_[after].kind == Token::Kind::word) ++after;
          if (after == end) {
            out.shape = SelectItem::Shape::cast;
            out.cast_type = type_name(k + 1);
          }
        }
      }
    }
    return out;
  }

  // A column reference ending at i (inclusive): name or qualifier.name.
  std::optional<ColumnRef> ref_ending_at(std::size_t i) const {
    if (i >= t_.size() || !is_name(t_[i])) return std::nullopt;
    if (t_[i].kind == Token::Kind::word && is_clause_word(t_[i].text)) return std::nullopt;
    if (i >= 2 && punct(i - 1, ".") && is_name(t_[i - 2])) return ColumnRef{t_[i - 2].text, t_[i].text};
    return ColumnRef{"", t_[i].text};
  }
  std::optional<ColumnRef> ref_starting_at(std::size_t i) const {
    if (i >= t_.size() || !is_name(t_[i])) return std::nullopt;
    if (t_[i].kind == Token::Kind::word && is_clause_word(t_[i].text)) return std::nullopt;
    if (punct(i + 1, ".") && i + 2 < t_.size() && is_name(t_[i + 2])) return ColumnRef{t_[i].text, t_[i + 2].text};
    if (punct(i + 1, "(")) return std::nullopt;  // a function call
    return ColumnRef{"", t_[i].text};
  }

  static bool comparison(const Token& t) {
    if (t.kind == Token::Kind::punct) {
      return t.text == "=" || t.text == "<>" || t.text == "!=" || t.text == "<" || t.text == ">" || t.text == "<=" ||
             t.text == ">=" || t.text == "==";
    }
    return t.kind == Token::Kind::word && (t.text == "like" || t.text == "ilike" || t.text == "glob");
  }

  void find_parameters() {
    int highest = 0;
    for (const auto& tok : t_) highest = std::max(highest, tok.parameter);
    out_.parameters.resize(static_cast<std::size_t>(highest));
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].kind != Token::Kind::parameter) continue;
      ParameterUse& use = out_.parameters[static_cast<std::size_t>(t_[i].parameter - 1)];
      if (use.cast_type.empty() && i >= 2 && punct(i - 1, "(") && word(i - 2, "cast") && word(i + 1, "as")) {
        use.cast_type = type_name(i + 2);
      }
      if (use.cast_type.empty() && punct(i + 1, "::")) use.cast_type = type_name(i + 2);
      if (i >= 1 && (word(i - 1, "limit") || word(i - 1, "offset"))) use.limit = true;
      if (!use.compared && i >= 2 && comparison(t_[i - 1])) use.compared = ref_ending_at(i - 2);
      if (!use.compared && i + 2 < t_.size() && comparison(t_[i + 1])) use.compared = ref_starting_at(i + 2);
      if (!use.compared && i >= 1 && (punct(i - 1, "(") || punct(i - 1, ","))) {
        // col IN (..., $n, ...)
        std::size_t k = i;
        while (k > 0 && !(punct(k, "(") && t_[k].depth + 1 == t_[i].depth)) --k;
        if (k >= 2 && punct(k, "(") && word(k - 1, "in")) use.compared = ref_ending_at(k - 2);
      }
    }
    find_assignments();
  }

  std::string table_of_statement(const char* keyword) const {
    for (const auto& r : refs_) {
      if (r.depth == 0 && r.index >= 1 && word(r.index - 1, keyword)) return r.name;
    }
    return {};
  }

  void assign(std::size_t i, const std::string& table, const std::string& column) {
    if (i >= t_.size() || t_[i].kind != Token::Kind::parameter) return;
    ParameterUse& use = out_.parameters[static_cast<std::size_t>(t_[i].parameter - 1)];
    use.assigned = ColumnRef{table, column};
    if (!use.compared) use.compared = use.assigned;
  }

  void find_assignments() {
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (t_[i].depth != 0) continue;
      if (word(i, "into") && i >= 1 && word(i - 1, "insert")) {
        std::string table = table_of_statement("into");
        std::size_t k = i + 1;
        while (k < t_.size() && !punct(k, "(") && !word(k, "values")) ++k;
        if (!punct(k, "(")) return;
        std::vector<std::string> columns;
        std::size_t close = closing(k);
        for (std::size_t c = k + 1; c < close; ++c) {
          if (is_name(t_[c])) columns.push_back(t_[c].text);
        }
        std::size_t v = close + 1;
        if (!word(v, "values")) return;
        for (std::size_t row = v + 1; punct(row, "("); row = closing(row) + 2) {
          std::size_t end = closing(row);
          std::size_t position = 0;
          std::size_t start = row + 1;
          for (std::size_t c = row + 1; c <= end; ++c) {
            if (c == end || (punct(c, ",") && t_[c].depth == t_[row].depth + 1)) {
              if (c == start + 1 && position < columns.size()) assign(start, table, columns[position]);
              ++position;
              start = c + 1;
            }
          }
          if (!punct(end + 1, ",")) break;
        }
        return;
      }
      if (word(i, "set")) {
        std::string table = table_of_statement("update");
        if (table.empty()) continue;
        for (std::size_t k = i + 1; k + 2 < t_.size() && t_[k].depth == 0; ++k) {
          if (word(k, "where") || word(k, "from") || word(k, "returning")) break;
          if (is_name(t_[k]) && punct(k + 1, "=") && (k == i + 1 || punct(k - 1, ","))) {
            assign(k + 2, table, t_[k].text);
          }
        }
      }
    }
  }

  std::vector<Token> t_;
  std::vector<TableRef> refs_;
  Analysis out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view s, Engine dialect) {
  std::vector<Token> out;
  int depth = 0;
  std::size_t i = 0;
  auto push = [&](Token::Kind kind, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.depth = depth;
    out.push_back(std::move(t));
  };
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      i = s.find('\n', i);
      if (i == std::string_view::npos) i = s.size();
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      int nesting = 1;
      i += 2;
      while (i < s.size() && nesting > 0) {
        if (dialect == Engine::postgres && s.compare(i, 2, "/*") == 0) {
          ++nesting;
          i += 2;
        } else if (s.compare(i, 2, "*/") == 0) {
          --nesting;
          i += 2;
        } else {
          ++i;
        }
      }
    } else if (c == '\'') {
      bool escapes = dialect == Engine::postgres && !out.empty() && out.back().kind == Token::Kind::word &&
                     out.back().text == "e" && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E');
      if (escapes) out.pop_back();
      std::string text;
      ++i;
      while (i < s.size()) {
        if (escapes && s[i] == '\\' && i + 1 < s.size()) {
          text += s[i + 1];
          i += 2;
        } else if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          text += '\'';
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          text += s[i++];
        }
      }
      push(Token::Kind::string, std::move(text));
    } else if (c == '"' || (dialect == Engine::sqlite && (c == '`' || c == '['))) {
      char close = c == '[' ? ']' : c;
      std::string text;
      ++i;
      while (i < s.size()) {
        if (s[i] == close && close != ']' && i + 1 < s.size() && s[i + 1] == close) {
          text += close;
          i += 2;
        } else if (s[i] == close) {
          ++i;
          break;
        } else {
          text += s[i++];
        }
      }
      push(Token::Kind::quoted, lower(text));
    } else if (c == '$' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) != 0) {
      std::size_t j = i + 1;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j])) != 0) ++j;
      push(Token::Kind::parameter, std::string(s.substr(i, j - i)));
      out.back().parameter = std::stoi(std::string(s.substr(i + 1, std::min<std::size_t>(j - i - 1, 8))));
      i = j;
    } else if (c == '$' && dialect == Engine::postgres) {
      std::size_t j = i + 1;
      while (j < s.size() && word_char(s[j]) && std::isdigit(static_cast<unsigned char>(s[j])) == 0) ++j;
      if (j < s.size() && s[j] == '$') {
        std::string tag(s.substr(i, j - i + 1));
        std::size_t end = s.find(tag, j + 1);
        std::size_t stop = end == std::string_view::npos ? s.size() : end;
        push(Token::Kind::string, std::string(s.substr(j + 1, stop - j - 1)));
        i = end == std::string_view::npos ? s.size() : end + tag.size();
      } else {
        push(Token::Kind::punct, "$");
        ++i;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 ||
               (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) != 0)) {
      std::size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) != 0 || s[j] == '.' ||
                              ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) {
        ++j;
      }
      push(Token::Kind::number, std::string(s.substr(i, j - i)));
      i = j;
    } else if (word_char(c)) {
      std::size_t j = i;
      while (j < s.size() && (word_char(s[j]) || s[j] == '$')) ++j;
      push(Token::Kind::word, lower(s.substr(i, j - i)));
      i = j;
    } else {
      static const char* const two[] = {"::", "<=", ">=", "<>", "!=", "==", "||"};
      std::string text(1, c);
      for (const char* t : two) {
        if (s.compare(i, 2, t) == 0) text = t;
      }
      if (text == ")") depth = std::max(0, depth - 1);
      push(Token::Kind::punct, text);
      if (text == "(") ++depth;
      i += text.size();
    }
  }
  return out;
}

Analysis analyze(std::string_view sql, Engine dialect) { return Analyzer(tokenize(sql, dialect)).run(); }

std::vector<std::string> candidate_tables(const Analysis& analysis, const ColumnRef& ref) {
  std::vector<std::string> out;
  for (const auto& [alias, table] : analysis.tables) {
    if ((ref.qualifier.empty() || alias == ref.qualifier) && std::find(out.begin(), out.end(), table) == out.end()) {
      out.push_back(table);
    }
  }
  return out;
}

}  // namespace strata::query::detail
