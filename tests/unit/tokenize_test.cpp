// tests/unit/tokenize_test.cpp: strata::sql::detail::tokenize, the token
// view of the statement lexer (src/sql/lexer.hpp).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "sql/lexer.hpp"

namespace strata::sql::detail {
namespace {

// "kind:text" per token.
std::vector<std::string> tokens(std::string_view text, Engine dialect) {
  std::vector<std::string> out;
  for (const Token& t : tokenize(text, dialect)) {
    const char* kind = t.kind == TokenKind::word     ? "w"
                       : t.kind == TokenKind::quoted ? "q"
                       : t.kind == TokenKind::string ? "s"
                                                     : "y";
    out.push_back(std::string(kind) + ":" + std::string(text.substr(t.span.begin, t.span.end - t.span.begin)));
  }
  return out;
}

using V = std::vector<std::string>;

TEST(Tokenize, WordsSymbolsStringsAndQuotedNames) {
  EXPECT_EQ(tokens("CREATE TABLE \"a \"\"b\" (x INT CHECK(x>=1), y TEXT DEFAULT 'it''s');", Engine::sqlite),
            (V{"w:CREATE", "w:TABLE", "q:\"a \"\"b\"", "y:(", "w:x", "w:INT", "w:CHECK", "y:(", "w:x", "y:>", "y:=",
               "w:1", "y:)", "y:,", "w:y", "w:TEXT", "w:DEFAULT", "s:'it''s'", "y:)", "y:;"}));
}

TEST(Tokenize, CommentsAndBlanksAreNotTokens) {
  EXPECT_EQ(tokens("a -- b, c\n /* d ( */ e-f /", Engine::sqlite), (V{"w:a", "w:e", "y:-", "w:f", "y:/"}));
}

TEST(Tokenize, SqliteQuotes) {
  EXPECT_EQ(tokens("[a b] `c``d` $x 1.5", Engine::sqlite), (V{"q:[a b]", "q:`c``d`", "w:$x", "w:1", "y:.", "w:5"}));
  // Brackets and backticks are not quotes on PostgreSQL.
  EXPECT_EQ(tokens("[a]", Engine::postgres), (V{"y:[", "w:a", "y:]"}));
}

TEST(Tokenize, PostgresStringsAndParameters) {
  EXPECT_EQ(tokens("E'a\\'b' $1 $$x;y$$ $fn$ z $fn$ a$b e 'q'", Engine::postgres),
            (V{"s:E'a\\'b'", "w:$1", "s:$$x;y$$", "s:$fn$ z $fn$", "w:a$b", "w:e", "s:'q'"}));
}

TEST(Tokenize, UnterminatedConstructsRunToTheEnd) {
  EXPECT_EQ(tokens("a 'b c", Engine::sqlite), (V{"w:a", "s:'b c"}));
  EXPECT_EQ(tokens("a \"b", Engine::sqlite), (V{"w:a", "q:\"b"}));
  EXPECT_EQ(tokens("a /* b", Engine::sqlite), (V{"w:a"}));
  EXPECT_EQ(tokens("a [b", Engine::sqlite), (V{"w:a", "q:[b"}));
  EXPECT_TRUE(tokens("", Engine::sqlite).empty());
}

}  // namespace
}  // namespace strata::sql::detail
