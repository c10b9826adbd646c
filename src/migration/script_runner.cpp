#include "migration/script_runner.hpp"

namespace strata {

// The file position of byte `offset` inside statement `s` (the engine's error
// offset), or of the statement's start when the engine gave none.
SourcePosition position_of(const std::string& file, const sql::Statement& s, int index, int offset) {
  SourcePosition p{file, s.line, s.column, index};
  if (offset <= 0 || static_cast<std::size_t>(offset) > s.text.size()) return p;
  for (int i = 0; i < offset; ++i) {
    if (s.text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if (s.text[i] != '\r') {
      ++p.column;
    }
  }
  return p;
}

sql::Script parse_or_throw(const std::string& file, const std::string& text, Engine engine) {
  sql::Script script = sql::parse_script(text, engine);
  if (!script.ok()) {
    std::string message = "cannot split " + file + ":";
    const sql::Diagnostic* first = nullptr;
    for (const auto& d : script.diagnostics) {
      if (d.severity != sql::Diagnostic::Severity::error) continue;
      if (first == nullptr) first = &d;
      message += "\n" + sql::render(d, file, text);
    }
    Error e(ErrorKind::source, message);
    e.at(SourcePosition{file, first->line, first->column, 0});
    throw e;
  }
  return script;
}

void run_statements(Connection& c, const std::string& file, const sql::Script& script) {
  int index = 0;
  for (const auto& s : script.statements) {
    ++index;
    try {
      c.execute(s.text);
    } catch (Error& e) {
      e.at(position_of(file, s, index, e.sql_offset()));
      throw;
    }
  }
}

}  // namespace strata
