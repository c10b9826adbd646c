// sql/lexer.hpp (internal): finds statement boundaries in a SQL script, and
// the tokens of one statement.
//
// lex() is the byte-level half of strata::sql::parse_script: one pass over
// the text that knows just enough of each dialect's lexical syntax (strings,
// quoted identifiers, comments, dollar-quoted bodies, trigger and BEGIN ATOMIC
// bodies) to tell a terminating ';' from one inside something. It knows
// nothing of directives, "-- only:" lines or line numbers; parse_script does
// those. See lexer.cpp for the state machine.
//
// tokenize() applies the same lexical rules to list a statement's tokens, for
// readers that walk a statement's clauses (the SQLite schema reader finds
// CHECK expressions and constraint names in the CREATE TABLE text SQLite
// keeps). It is a lexer, not a parser: it knows no grammar.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/url.hpp"

namespace strata::sql::detail {

// A byte range [begin, end) of the lexed text.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// The input ended inside a construct that needs a terminator.
struct Unterminated {
  std::size_t offset = 0;  // where the construct started (its first byte)
  std::string message;     // e.g. "unterminated dollar-quoted string $fn$ (opened here)"
};

struct LexResult {
  // Each statement runs from the first byte of its first token to the last
  // byte of its last token: blanks and comments around it, and its ';', are
  // outside. When the input ends inside a construct (see `unterminated`), the
  // last statement runs to the end of the input instead (trailing blanks
  // excluded) and may start with the unterminated comment itself.
  std::vector<Span> statements;
  // Every "--" comment before the first token of the script (where directives
  // live), from the "--" to the end of its line (the line break excluded).
  std::vector<Span> leading_line_comments;
  // "--" comments after that whose text, after "--" and blanks, is "strata" or
  // "only" followed by blanks and ':' (directives in a place where they have no
  // effect; parse_script warns about them).
  std::vector<Span> late_directive_comments;
  std::optional<Unterminated> unterminated;
  // PostgreSQL: the highest $n parameter outside strings, quoted identifiers,
  // comments and dollar-quoted bodies (0 if none; capped at 100000000). The
  // driver checks it against the values given.
  int highest_parameter = 0;
};

// Never throws (except std::bad_alloc). `text` must not include a UTF-8 BOM.
LexResult lex(std::string_view text, Engine dialect);

enum class TokenKind {
  // A keyword, bare identifier or number: a run of [A-Za-z0-9_$\x80-\xff]
  // (PostgreSQL: a $n parameter too). A number with a '.' or an exponent
  // sign comes out as several tokens ("1.5" is word, symbol, word).
  word,
  quoted,  // a quoted identifier: "..." (SQLite also [...] and `...`), quotes included
  string,  // '...' (PostgreSQL also E'...' and $tag$...$tag$), quotes included
  symbol,  // any other byte, one at a time: ( ) , ; . and operators
};

struct Token {
  TokenKind kind = TokenKind::symbol;
  Span span;  // in the tokenized text
};

// The tokens of `text` in order; blanks and comments are not tokens. A
// construct the input ends inside (an unterminated string, quoted identifier
// or comment) runs to the end of the input: a string or quoted identifier is
// one token, a comment is skipped. Never throws (except std::bad_alloc).
std::vector<Token> tokenize(std::string_view text, Engine dialect);

}  // namespace strata::sql::detail
