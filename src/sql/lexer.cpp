// sql/lexer.cpp: the statement-boundary lexer (see lexer.hpp).
//
// Design. One forward pass over bytes. Between statements the lexer skips
// blanks, comments and stray ';'. Inside a statement it runs a small token
// state machine, in the style of SQLite's complete.c, whose only job is to
// know when a ';' ends the statement. Strings, quoted identifiers, comments
// and dollar-quoted bodies are skipped with memchr, so their contents cost
// almost nothing and can never be mistaken for tokens.
//
// Tokens. The state machine sees these tokens:
//   SEMI      ';'
//   EXPLAIN CREATE TEMP(ORARY) TRIGGER OR REPLACE FUNCTION|PROCEDURE (ROUTINE)
//   BEGIN ATOMIC END             keywords, matched case-insensitively
//   OTHER     any other word, number, string, quoted identifier, operator...
// Blanks and comments are not tokens: they never change the state.
//
// Only some states care about words; in the others the scan does not even
// look at identifier bytes (see Mode): an ordinary INSERT is scanned at
// memchr-like speed between its quotes and ';'.
//
// How bodies end. A trigger body (SQLite) and a BEGIN ATOMIC body
// (PostgreSQL) contain ';'-terminated statements and end with END. Like
// sqlite3_complete(), the body's END is recognised as the first END that
// comes directly after a ';' (or, for BEGIN ATOMIC's empty body, directly
// after ATOMIC): no statement inside a body can begin with END, so the END of
// a CASE ... END inside the body never closes it, and neither does a column
// named "end" (SQLite lets END be an identifier). No CASE counting is needed.
//
// SQLite state table (rows: state, columns: token; "-" = unreachable or no
// change that matters, EMIT = the ';' ends the statement):
//
//              SEMI       EXPLAIN    CREATE     TEMP       TRIGGER    BEGIN      END        other
//   START      -          S_EXPLAIN  S_CREATE   NORMAL     NORMAL     NORMAL     NORMAL     NORMAL
//   NORMAL     EMIT       NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL
//   S_EXPLAIN  EMIT       NORMAL     S_CREATE   NORMAL     NORMAL     S_EXPLAIN  NORMAL     S_EXPLAIN
//   S_CREATE   EMIT       NORMAL     NORMAL     S_CREATE   S_TRIGGER  NORMAL     NORMAL     NORMAL
//   S_TRIGGER  EMIT       S_TRIGGER  S_TRIGGER  S_TRIGGER  S_TRIGGER  BODY       S_TRIGGER  S_TRIGGER
//   BODY       BODY_SEMI  BODY       BODY       BODY       BODY       BODY       BODY       BODY
//   BODY_SEMI  BODY_SEMI  BODY       BODY       BODY       BODY       BODY       BODY_END   BODY
//   BODY_END   EMIT       BODY       BODY       BODY       BODY       BODY       BODY       BODY
//   (OR, REPLACE, ROUTINE and ATOMIC are "other" on SQLite.)
//
// This is sqlite3_complete()'s table (EXPLAIN stays EXPLAIN until CREATE, so
// "EXPLAIN QUERY PLAN CREATE TRIGGER" is a trigger too) with one difference:
// complete.c has no S_TRIGGER state and waits for "; END" even when the
// trigger has no BEGIN. Here a ';' before the trigger's BEGIN ends the
// statement (it is broken, and the engine will say so) instead of swallowing
// the rest of the file. The first BEGIN, even one used as a column name in the
// trigger's header, opens the body, which still ends at "; END".
//
// PostgreSQL state table (same conventions; only CREATE [OR REPLACE]
// FUNCTION|PROCEDURE statements can hold BEGIN ATOMIC, as in psql):
//
//              SEMI       CREATE     OR         REPLACE    ROUTINE    BEGIN      ATOMIC     END        other
//   START      -          P_CREATE   NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL
//   NORMAL     EMIT       NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL     NORMAL
//   P_CREATE   EMIT       NORMAL     P_OR       NORMAL     P_ROUTINE  NORMAL     NORMAL     NORMAL     NORMAL
//   P_OR       EMIT       NORMAL     NORMAL     P_CREATE   NORMAL     NORMAL     NORMAL     NORMAL     NORMAL
//   P_ROUTINE  EMIT       P_ROUTINE  P_ROUTINE  P_ROUTINE  P_ROUTINE  P_BEGIN    P_ROUTINE  P_ROUTINE  P_ROUTINE
//   P_BEGIN    EMIT       P_ROUTINE  P_ROUTINE  P_ROUTINE  P_ROUTINE  P_BEGIN    BODY_SEMI  P_ROUTINE  P_ROUTINE
//   BODY       BODY_SEMI  BODY       BODY       BODY       BODY       BODY       BODY       BODY       BODY
//   BODY_SEMI  BODY_SEMI  BODY       BODY       BODY       BODY       BODY       BODY       BODY_END   BODY
//   BODY_END   EMIT       BODY       BODY       BODY       BODY       BODY       BODY       BODY       BODY
//   (EXPLAIN, TEMP and TRIGGER are "other" on PostgreSQL.)
//
// Lexical rules per dialect (what is skipped as one OTHER token):
//   both      '...' with '' ; "..." with "" ; -- to end of line ; /* ... */
//   SQLite    [...] ; `...` with `` ; block comments do not nest
//   Postgres  E'...' / e'...' with backslash escapes (and '') when the E
//             starts a word; $tag$...$tag$ where tag is empty or
//             [A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]* (PostgreSQL's own rule,
//             which also admits non-ASCII tag bytes) and the '$' does not
//             continue a word (a$b$ is an identifier); $1 is a parameter;
//             block comments nest.
// Synapse's $%AUTO_INCREMENT_PRIMARY_KEY%$ placeholder is skipped as one
// token so its '$'s can never open a dollar quote.
#include "sql/lexer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

namespace strata::sql::detail {
namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::string_view kPlaceholder = "$%AUTO_INCREMENT_PRIMARY_KEY%$";
constexpr long long kMaxParameter = 100000000;

enum State : std::uint8_t {
  START,      // no token yet
  NORMAL,     // an ordinary statement: only ';' matters
  S_EXPLAIN,  // SQLite: EXPLAIN
  S_CREATE,   // SQLite: [EXPLAIN] CREATE [TEMP|TEMPORARY]
  S_TRIGGER,  // SQLite: CREATE TRIGGER ..., before its BEGIN
  P_CREATE,   // Postgres: CREATE [OR REPLACE]
  P_OR,       // Postgres: CREATE OR
  P_ROUTINE,  // Postgres: CREATE [OR REPLACE] FUNCTION|PROCEDURE ...
  P_BEGIN,    // Postgres: ... BEGIN (ATOMIC may follow)
  BODY,       // inside a trigger / BEGIN ATOMIC body
  BODY_SEMI,  // inside a body, right after a ';' (or ATOMIC)
  BODY_END,   // after the END that closes the body
  EMIT,       // not a state: the ';' ends the statement
  kStateCount = EMIT,
};

enum Tok : std::uint8_t {
  T_SEMI, T_EXPLAIN, T_CREATE, T_TEMP, T_TRIGGER, T_OR, T_REPLACE, T_ROUTINE,
  T_BEGIN, T_ATOMIC, T_END, T_OTHER, kTokCount,
};

using Table = std::array<std::array<State, kTokCount>, kStateCount>;

// Builds a row in which every token goes to `other` except those listed.
struct Row {
  std::array<State, kTokCount> cells;
  constexpr explicit Row(State other, State semi = EMIT) : cells{} {
    for (auto& c : cells) c = other;
    cells[T_SEMI] = semi;
  }
  constexpr Row on(Tok t, State s) const {
    Row r = *this;
    r.cells[t] = s;
    return r;
  }
};

constexpr Table make_sqlite_table() {
  Table t{};
  t[START] = Row(NORMAL, START).on(T_EXPLAIN, S_EXPLAIN).on(T_CREATE, S_CREATE).cells;
  t[NORMAL] = Row(NORMAL).cells;
  t[S_EXPLAIN] = Row(S_EXPLAIN)
                     .on(T_EXPLAIN, NORMAL)
                     .on(T_CREATE, S_CREATE)
                     .on(T_TEMP, NORMAL)
                     .on(T_TRIGGER, NORMAL)
                     .on(T_END, NORMAL)
                     .cells;
  t[S_CREATE] = Row(NORMAL).on(T_TEMP, S_CREATE).on(T_TRIGGER, S_TRIGGER).cells;
  t[S_TRIGGER] = Row(S_TRIGGER).on(T_BEGIN, BODY).cells;
  t[P_CREATE] = t[P_OR] = t[P_ROUTINE] = t[P_BEGIN] = Row(NORMAL).cells;  // unreachable
  t[BODY] = Row(BODY, BODY_SEMI).cells;
  t[BODY_SEMI] = Row(BODY, BODY_SEMI).on(T_END, BODY_END).cells;
  t[BODY_END] = Row(BODY).cells;
  return t;
}

constexpr Table make_postgres_table() {
  Table t{};
  t[START] = Row(NORMAL, START).on(T_CREATE, P_CREATE).cells;
  t[NORMAL] = Row(NORMAL).cells;
  t[S_EXPLAIN] = t[S_CREATE] = t[S_TRIGGER] = Row(NORMAL).cells;  // unreachable
  t[P_CREATE] = Row(NORMAL).on(T_OR, P_OR).on(T_ROUTINE, P_ROUTINE).cells;
  t[P_OR] = Row(NORMAL).on(T_REPLACE, P_CREATE).cells;
  t[P_ROUTINE] = Row(P_ROUTINE).on(T_BEGIN, P_BEGIN).cells;
  t[P_BEGIN] = Row(P_ROUTINE).on(T_BEGIN, P_BEGIN).on(T_ATOMIC, BODY_SEMI).cells;
  t[BODY] = Row(BODY, BODY_SEMI).cells;
  t[BODY_SEMI] = Row(BODY, BODY_SEMI).on(T_END, BODY_END).cells;
  t[BODY_END] = Row(BODY).cells;
  return t;
}

constexpr Table kSqliteTable = make_sqlite_table();
constexpr Table kPostgresTable = make_postgres_table();

// How much of the input a state needs to see. In `plain` states every token
// but ';' loops back to the same state, so identifier and operator bytes are
// skipped without being looked at; in `words` states only words can change the
// state (operators are skipped); in `all` states every token counts.
enum Mode : std::uint8_t { M_PLAIN, M_WORDS, M_ALL, kModeCount };

constexpr std::array<Mode, kStateCount> kModeOf = {
    /*START*/ M_ALL,     /*NORMAL*/ M_PLAIN,  /*S_EXPLAIN*/ M_ALL, /*S_CREATE*/ M_ALL,
    /*S_TRIGGER*/ M_WORDS, /*P_CREATE*/ M_ALL, /*P_OR*/ M_ALL,    /*P_ROUTINE*/ M_WORDS,
    /*P_BEGIN*/ M_ALL,   /*BODY*/ M_PLAIN,    /*BODY_SEMI*/ M_ALL, /*BODY_END*/ M_ALL,
};

constexpr bool is_body(State s) { return s == BODY || s == BODY_SEMI || s == BODY_END; }

// Byte classes.
enum Cls : std::uint8_t {
  C_OTHER,     // operators and punctuation without a special role
  C_SPACE,     // ' ' \t \n \r \f \v
  C_WORD,      // can start a word: [A-Za-z0-9_\x80-\xff] (and '$' on SQLite)
  C_SEMI,      // ;
  C_QUOTE,     // '
  C_DQUOTE,    // "
  C_MINUS,     // - (maybe "--")
  C_SLASH,     // / (maybe "/*")
  C_DOLLAR,    // $ on Postgres
  C_BRACKET,   // [ on SQLite
  C_BACKTICK,  // ` on SQLite
};

constexpr bool is_alpha(unsigned c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
constexpr bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }

struct Tables {
  std::array<Cls, 256> cls{};
  std::array<std::array<bool, 256>, kModeCount> stop{};  // per mode: the scan must look at this byte
  // Bytes that continue a word: [A-Za-z0-9_$\x80-\xff] (PostgreSQL's and
  // SQLite's identifier bytes).
  std::array<bool, 256> word_cont{};
};

constexpr Tables make_tables(Engine dialect) {
  Tables t{};
  for (unsigned c = 0; c < 256; ++c) {
    Cls k = C_OTHER;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') k = C_SPACE;
    else if (is_alpha(c) || is_digit(c) || c == '_' || c >= 0x80) k = C_WORD;
    else if (c == ';') k = C_SEMI;
    else if (c == '\'') k = C_QUOTE;
    else if (c == '"') k = C_DQUOTE;
    else if (c == '-') k = C_MINUS;
    else if (c == '/') k = C_SLASH;
    else if (c == '$') k = dialect == Engine::postgres ? C_DOLLAR : C_WORD;
    else if (c == '[' && dialect == Engine::sqlite) k = C_BRACKET;
    else if (c == '`' && dialect == Engine::sqlite) k = C_BACKTICK;
    t.cls[c] = k;
    t.word_cont[c] = is_alpha(c) || is_digit(c) || c == '_' || c == '$' || c >= 0x80;
    const bool special = k != C_OTHER && k != C_SPACE && k != C_WORD;
    t.stop[M_PLAIN][c] = special;
    t.stop[M_WORDS][c] = special || k == C_WORD;
    t.stop[M_ALL][c] = k != C_SPACE;
  }
  return t;
}

constexpr Tables kSqliteTables = make_tables(Engine::sqlite);
constexpr Tables kPostgresTables = make_tables(Engine::postgres);

// Case-insensitive comparison of a word with a lowercase keyword of the same
// length. Only letters can map onto lowercase letters under |0x20.
inline bool keyword_eq(const char* w, const char* kw, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if ((static_cast<unsigned char>(w[i]) | 0x20) != static_cast<unsigned char>(kw[i])) return false;
  }
  return true;
}

Tok classify(const char* w, std::size_t n) {
  switch (n) {
    case 2: if (keyword_eq(w, "or", 2)) return T_OR; break;
    case 3: if (keyword_eq(w, "end", 3)) return T_END; break;
    case 4: if (keyword_eq(w, "temp", 4)) return T_TEMP; break;
    case 5: if (keyword_eq(w, "begin", 5)) return T_BEGIN; break;
    case 6:
      if (keyword_eq(w, "create", 6)) return T_CREATE;
      if (keyword_eq(w, "atomic", 6)) return T_ATOMIC;
      break;
    case 7:
      if (keyword_eq(w, "explain", 7)) return T_EXPLAIN;
      if (keyword_eq(w, "trigger", 7)) return T_TRIGGER;
      if (keyword_eq(w, "replace", 7)) return T_REPLACE;
      break;
    case 8: if (keyword_eq(w, "function", 8)) return T_ROUTINE; break;
    case 9:
      if (keyword_eq(w, "temporary", 9)) return T_TEMP;
      if (keyword_eq(w, "procedure", 9)) return T_ROUTINE;
      break;
    default: break;
  }
  return T_OTHER;
}

// Dollar-quote tag bytes (PostgreSQL's dolq_start / dolq_cont).
constexpr bool is_tag_start(unsigned char c) { return is_alpha(c) || c == '_' || c >= 0x80; }
constexpr bool is_tag_cont(unsigned char c) { return is_tag_start(c) || is_digit(c); }

std::string unterminated_comment_message(int open) {
  if (open <= 1) return "unterminated block comment /* (opened here)";
  return "unterminated block comment /* (opened here; " + std::to_string(open) +
         " nested comments still open at the end of the input)";
}

bool is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class Lexer {
 public:
  Lexer(std::string_view text, Engine dialect)
      : s_(text.data()),
        n_(text.size()),
        postgres_(dialect == Engine::postgres),
        tables_(postgres_ ? kPostgresTables : kSqliteTables),
        states_(postgres_ ? kPostgresTable : kSqliteTable) {}

  LexResult run();
  std::vector<Token> tokens() const;

 private:
  unsigned char at(std::size_t i) const { return static_cast<unsigned char>(s_[i]); }

  // Each *_end function takes the offset of the construct's first byte and
  // returns the offset just past it, or npos when the input ends first.
  std::size_t line_comment_end(std::size_t i) const;
  std::size_t block_comment_end(std::size_t i, int* open) const;
  std::size_t quoted_end(std::size_t i, char quote) const;
  std::size_t bracket_end(std::size_t i) const;
  std::size_t escape_string_end(std::size_t i) const;
  std::size_t dollar_body_end(std::size_t i, std::size_t tag_len) const;

  // Length of the dollar-quote tag ("$$", "$fn$") starting at i, or 0.
  std::size_t dollar_tag_len(std::size_t i) const;
  // Whether a '$' or 'E' at i starts a token rather than continuing a word.
  bool starts_token(std::size_t i) const;

  // Offset just past the last non-blank byte before p, not going below lo.
  std::size_t back_over_blanks(std::size_t p, std::size_t lo) const {
    while (p > lo && is_blank(at(p - 1))) --p;
    return p;
  }
  // Bookkeeping for "end of the last token": a comment inside a statement.
  void comment_begins(std::size_t c) {
    std::size_t s = back_over_blanks(c, stmt_);
    if (ends_last_comment(s)) s = sig_before_comment_;
    sig_before_comment_ = s;
  }
  // End of the statement's last token, given the offset of its terminator.
  std::size_t statement_end(std::size_t p) const {
    std::size_t e = back_over_blanks(p, stmt_);
    return ends_last_comment(e) ? sig_before_comment_ : e;
  }
  // Whether `e` (already backed over blanks) is the end of the last comment:
  // a line comment may itself end in blanks ("-- note "), which backing
  // over blanks from a later offset skips too (found by fuzzing).
  bool ends_last_comment(std::size_t e) const {
    return last_comment_end_ != npos && e == back_over_blanks(last_comment_end_, stmt_);
  }
  void note_line_comment(std::size_t b, std::size_t e, bool leading);
  // Records an unterminated construct opened at `offset`; the statement then
  // runs from stmt_ to the end of the input.
  void fail(std::size_t offset, std::string message) {
    result_.unterminated = Unterminated{offset, std::move(message)};
    result_.statements.push_back(Span{stmt_, back_over_blanks(n_, stmt_)});
  }
  std::string quote_excerpt(std::size_t i, std::size_t len) const { return std::string(s_ + i, len); }

  const char* s_;
  std::size_t n_;
  bool postgres_;
  const Tables& tables_;
  const Table& states_;
  LexResult result_;

  std::size_t stmt_ = 0;                   // first byte of the current statement
  std::size_t last_comment_end_ = npos;    // end of the last comment inside it
  std::size_t sig_before_comment_ = 0;     // end of the last token before that comment
  std::size_t after_dollar_token_ = npos;  // end of the last $...$ body or $n parameter
};

std::size_t Lexer::line_comment_end(std::size_t i) const {
  const void* p = i + 2 < n_ ? std::memchr(s_ + i + 2, '\n', n_ - i - 2) : nullptr;
  return p ? static_cast<std::size_t>(static_cast<const char*>(p) - s_) : n_;
}

std::size_t Lexer::block_comment_end(std::size_t i, int* open) const {
  std::size_t j = i + 2;
  int depth = 1;
  while (j < n_) {
    const void* p = std::memchr(s_ + j, '*', n_ - j);
    if (!p) break;
    const std::size_t k = static_cast<std::size_t>(static_cast<const char*>(p) - s_);
    if (postgres_ && k > j && s_[k - 1] == '/') {  // "/*" not already used: one level deeper
      ++depth;
      j = k + 1;
    } else if (k + 1 < n_ && s_[k + 1] == '/') {  // "*/"
      j = k + 2;
      if (--depth == 0) return j;
    } else {
      j = k + 1;
    }
  }
  *open = depth;
  return npos;
}

std::size_t Lexer::quoted_end(std::size_t i, char quote) const {
  std::size_t j = i + 1;
  while (j < n_) {
    const void* p = std::memchr(s_ + j, quote, n_ - j);
    if (!p) return npos;
    const std::size_t k = static_cast<std::size_t>(static_cast<const char*>(p) - s_);
    if (k + 1 < n_ && s_[k + 1] == quote) {  // doubled: an escaped quote
      j = k + 2;
      continue;
    }
    return k + 1;
  }
  return npos;
}

std::size_t Lexer::bracket_end(std::size_t i) const {
  const void* p = i + 1 < n_ ? std::memchr(s_ + i + 1, ']', n_ - i - 1) : nullptr;
  return p ? static_cast<std::size_t>(static_cast<const char*>(p) - s_) + 1 : npos;
}

// i is the opening quote of E'...'. A quote ends the string unless an odd
// number of backslashes precedes it or it is doubled.
std::size_t Lexer::escape_string_end(std::size_t i) const {
  const std::size_t content = i + 1;
  std::size_t j = content;
  while (j < n_) {
    const void* p = std::memchr(s_ + j, '\'', n_ - j);
    if (!p) return npos;
    const std::size_t k = static_cast<std::size_t>(static_cast<const char*>(p) - s_);
    std::size_t b = k;
    while (b > content && s_[b - 1] == '\\') --b;
    if ((k - b) % 2 == 1) {  // \'
      j = k + 1;
    } else if (k + 1 < n_ && s_[k + 1] == '\'') {  // ''
      j = k + 2;
    } else {
      return k + 1;
    }
  }
  return npos;
}

std::size_t Lexer::dollar_tag_len(std::size_t i) const {
  std::size_t j = i + 1;
  if (j < n_ && at(j) == '$') return 2;
  if (j >= n_ || !is_tag_start(at(j))) return 0;
  ++j;
  while (j < n_ && is_tag_cont(at(j))) ++j;
  return j < n_ && at(j) == '$' ? j + 1 - i : 0;
}

std::size_t Lexer::dollar_body_end(std::size_t i, std::size_t tag_len) const {
  // memmem (glibc's is a vectorised two-way search) beats a memchr for '$'
  // plus compare when the body is full of other '$' signs.
  const std::size_t from = i + tag_len;
  const void* p = ::memmem(s_ + from, n_ - from, s_ + i, tag_len);
  return p ? static_cast<std::size_t>(static_cast<const char*>(p) - s_) + tag_len : npos;
}

bool Lexer::starts_token(std::size_t i) const {
  if (i == 0 || i == after_dollar_token_) return true;
  const unsigned char prev = at(i - 1);
  if (!tables_.word_cont[prev]) return true;
  if (!is_digit(prev)) return false;
  // A run of digits is a number, not a word, unless a word byte precedes it.
  std::size_t b = i - 1;
  while (b > 0 && is_digit(at(b - 1))) --b;
  return b == 0 || b == after_dollar_token_ || !tables_.word_cont[at(b - 1)];
}

void Lexer::note_line_comment(std::size_t b, std::size_t e, bool leading) {
  if (leading) {
    result_.leading_line_comments.push_back(Span{b, e});
    return;
  }
  // Cheap test: "--", blanks, "strata" or "only", blanks, ':'.
  std::size_t j = b + 2;
  while (j < e && (at(j) == ' ' || at(j) == '\t')) ++j;
  std::size_t w = j;
  while (w < e && is_alpha(at(w))) ++w;
  const bool named = (w - j == 6 && keyword_eq(s_ + j, "strata", 6)) ||
                     (w - j == 4 && keyword_eq(s_ + j, "only", 4));
  if (!named) return;
  while (w < e && (at(w) == ' ' || at(w) == '\t')) ++w;
  if (w < e && at(w) == ':') result_.late_directive_comments.push_back(Span{b, e});
}

LexResult Lexer::run() {
  std::size_t i = 0;
  bool leading = true;  // no token seen yet in the whole script
  for (;;) {
    // Between statements: blanks, empty statements and comments.
    bool found = false;
    while (i < n_) {
      const unsigned char c = at(i);
      if (is_blank(c) || c == ';') {
        ++i;
      } else if (c == '-' && i + 1 < n_ && s_[i + 1] == '-') {
        const std::size_t e = line_comment_end(i);
        note_line_comment(i, e, leading);
        i = e;
      } else if (c == '/' && i + 1 < n_ && s_[i + 1] == '*') {
        int open = 0;
        const std::size_t e = block_comment_end(i, &open);
        if (e == npos) {
          stmt_ = i;
          fail(i, unterminated_comment_message(open));
          return std::move(result_);
        }
        i = e;
      } else {
        found = true;
        break;
      }
    }
    if (!found) return std::move(result_);

    // A statement: from its first token to the ';' the state machine accepts.
    leading = false;
    stmt_ = i;
    last_comment_end_ = npos;
    State st = START;
    std::size_t begin_at = i;  // the last BEGIN keyword (for diagnostics)
    std::size_t body_at = i;   // the BEGIN that opened the current body
    bool emitted = false;
    while (!emitted) {
      const auto& stop = tables_.stop[kModeOf[st]];
      while (i < n_ && !stop[at(i)]) ++i;
      if (i >= n_) break;
      const std::size_t t = i;
      Tok tok = T_OTHER;
      switch (tables_.cls[at(i)]) {
        case C_SEMI: {
          const State next = states_[st][T_SEMI];
          if (next == EMIT) {
            result_.statements.push_back(Span{stmt_, statement_end(i)});
            emitted = true;
          } else {
            st = next;
          }
          ++i;
          continue;
        }
        case C_MINUS:
          if (i + 1 < n_ && s_[i + 1] == '-') {
            comment_begins(i);
            const std::size_t e = line_comment_end(i);
            note_line_comment(i, e, false);
            i = last_comment_end_ = e;
            continue;
          }
          ++i;
          break;
        case C_SLASH:
          if (i + 1 < n_ && s_[i + 1] == '*') {
            int open = 0;
            const std::size_t e = block_comment_end(i, &open);
            if (e == npos) {
              fail(i, unterminated_comment_message(open));
              return std::move(result_);
            }
            comment_begins(i);
            i = last_comment_end_ = e;
            continue;
          }
          ++i;
          break;
        case C_QUOTE: {
          const bool escape = postgres_ && i > 0 && (s_[i - 1] == 'E' || s_[i - 1] == 'e') &&
                              starts_token(i - 1);
          const std::size_t e = escape ? escape_string_end(i) : quoted_end(i, '\'');
          if (e == npos) {
            fail(escape ? i - 1 : i, escape ? "unterminated escape string E'...' (opened here)"
                                            : "unterminated string literal '...' (opened here)");
            return std::move(result_);
          }
          i = e;
          break;
        }
        case C_DQUOTE: {
          const std::size_t e = quoted_end(i, '"');
          if (e == npos) {
            fail(i, "unterminated quoted identifier \"...\" (opened here)");
            return std::move(result_);
          }
          i = e;
          break;
        }
        case C_BACKTICK: {
          const std::size_t e = quoted_end(i, '`');
          if (e == npos) {
            fail(i, "unterminated quoted identifier `...` (opened here)");
            return std::move(result_);
          }
          i = e;
          break;
        }
        case C_BRACKET: {
          const std::size_t e = bracket_end(i);
          if (e == npos) {
            fail(i, "unterminated quoted identifier [...] (opened here)");
            return std::move(result_);
          }
          i = e;
          break;
        }
        case C_DOLLAR: {
          if (!starts_token(i)) {  // a$b: part of a word
            ++i;
            break;
          }
          if (n_ - i >= kPlaceholder.size() &&
              std::memcmp(s_ + i, kPlaceholder.data(), kPlaceholder.size()) == 0) {
            i += kPlaceholder.size();
            break;
          }
          if (const std::size_t tag = dollar_tag_len(i)) {
            const std::size_t e = dollar_body_end(i, tag);
            if (e == npos) {
              fail(i, "unterminated dollar-quoted string " + quote_excerpt(i, tag) + " (opened here)");
              return std::move(result_);
            }
            i = after_dollar_token_ = e;
            break;
          }
          ++i;
          if (i < n_ && is_digit(at(i))) {  // $1: a parameter
            long long number = 0;
            while (i < n_ && is_digit(at(i))) {
              if (number < kMaxParameter) number = number * 10 + (at(i) - '0');
              ++i;
            }
            result_.highest_parameter =
                std::max(result_.highest_parameter, static_cast<int>(std::min<long long>(number, kMaxParameter)));
            after_dollar_token_ = i;
          }
          break;
        }
        case C_WORD: {
          ++i;
          while (i < n_ && tables_.word_cont[at(i)]) ++i;
          tok = classify(s_ + t, i - t);
          break;
        }
        default:  // C_OTHER (C_SPACE never stops a scan)
          ++i;
          break;
      }
      const State next = states_[st][tok];
      if (tok == T_BEGIN) begin_at = t;
      if (is_body(next) && !is_body(st)) body_at = begin_at;
      st = next;
    }
    if (!emitted) {  // end of input inside the statement
      if (st == BODY || st == BODY_SEMI) {
        fail(body_at, postgres_ ? "unterminated BEGIN ATOMIC ... END body (opened here)"
                                : "unterminated trigger body BEGIN ... END (opened here)");
      } else {
        result_.statements.push_back(Span{stmt_, statement_end(n_)});
      }
      return std::move(result_);
    }
  }
}

// The same lexical rules as run(), token by token. Every *_end that finds no
// end (npos) makes the construct run to the end of the input.
std::vector<Token> Lexer::tokens() const {
  std::vector<Token> out;
  auto until = [this](std::size_t end) { return end == npos ? n_ : end; };
  std::size_t i = 0;
  while (i < n_) {
    const std::size_t b = i;
    TokenKind kind = TokenKind::symbol;
    switch (tables_.cls[at(i)]) {
      case C_SPACE:
        ++i;
        continue;
      case C_MINUS:
        if (i + 1 < n_ && s_[i + 1] == '-') {
          i = line_comment_end(i);
          continue;
        }
        ++i;
        break;
      case C_SLASH:
        if (i + 1 < n_ && s_[i + 1] == '*') {
          int open = 0;
          i = until(block_comment_end(i, &open));
          continue;
        }
        ++i;
        break;
      case C_QUOTE:
        kind = TokenKind::string;
        i = until(quoted_end(i, '\''));
        break;
      case C_DQUOTE:
        kind = TokenKind::quoted;
        i = until(quoted_end(i, '"'));
        break;
      case C_BACKTICK:
        kind = TokenKind::quoted;
        i = until(quoted_end(i, '`'));
        break;
      case C_BRACKET:
        kind = TokenKind::quoted;
        i = until(bracket_end(i));
        break;
      case C_DOLLAR:  // PostgreSQL only; a '$' inside a word was taken by C_WORD
        if (n_ - i >= kPlaceholder.size() && std::memcmp(s_ + i, kPlaceholder.data(), kPlaceholder.size()) == 0) {
          kind = TokenKind::word;
          i += kPlaceholder.size();
        } else if (const std::size_t tag = dollar_tag_len(i)) {
          kind = TokenKind::string;
          i = until(dollar_body_end(i, tag));
        } else if (i + 1 < n_ && is_digit(at(i + 1))) {
          kind = TokenKind::word;
          for (++i; i < n_ && is_digit(at(i)); ++i) {
          }
        } else {
          ++i;
        }
        break;
      case C_WORD:
        kind = TokenKind::word;
        for (++i; i < n_ && tables_.word_cont[at(i)]; ++i) {
        }
        if (postgres_ && i - b == 1 && (s_[b] == 'E' || s_[b] == 'e') && i < n_ && s_[i] == '\'') {
          kind = TokenKind::string;
          i = until(escape_string_end(i));
        }
        break;
      default:  // C_SEMI, C_OTHER
        ++i;
        break;
    }
    out.push_back(Token{kind, Span{b, i}});
  }
  return out;
}

}  // namespace

LexResult lex(std::string_view text, Engine dialect) { return Lexer(text, dialect).run(); }

std::vector<Token> tokenize(std::string_view text, Engine dialect) { return Lexer(text, dialect).tokens(); }

}  // namespace strata::sql::detail
