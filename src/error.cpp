#include "strata/error.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

namespace strata {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::usage: return "usage";
    case ErrorKind::config: return "config";
    case ErrorKind::source: return "source";
    case ErrorKind::connection: return "connection";
    case ErrorKind::sql: return "sql";
    case ErrorKind::validation: return "validation";
    case ErrorKind::incompatible: return "incompatible";
    case ErrorKind::dirty: return "dirty";
    case ErrorKind::lock_timeout: return "lock_timeout";
    case ErrorKind::io: return "io";
    case ErrorKind::internal: return "internal";
    case ErrorKind::blocked: return "blocked";
    case ErrorKind::port_target: return "port_target";
    case ErrorKind::port_conversion: return "port_conversion";
    case ErrorKind::port_verify: return "port_verify";
    case ErrorKind::lint: return "lint";
    case ErrorKind::ddl_lock_timeout: return "ddl_lock_timeout";
    case ErrorKind::multiple_heads: return "multiple_heads";
  }
  return "unknown";
}

Error::Error(ErrorKind kind, std::string message)
    : kind_(kind), summary_(message), engine_message_(std::move(message)) {
  rebuild();
}

Error::Error(ErrorKind kind, std::string message, std::string engine_code, std::string sql)
    : kind_(kind),
      summary_(message),
      engine_code_(std::move(engine_code)),
      engine_message_(std::move(message)),
      sql_(std::move(sql)) {
  rebuild();
}

Error& Error::at(SourcePosition position) {
  position_ = std::move(position);
  rebuild();
  return *this;
}

Error& Error::context(std::string prefix) {
  if (prefix.empty()) return *this;
  if (context_.empty()) {
    context_ = std::move(prefix);
  } else {
    context_ = std::move(prefix) + ": " + context_;
  }
  rebuild();
  return *this;
}

Error& Error::set_sql_offset(int offset) {
  sql_offset_ = offset < 0 ? -1 : offset;
  rebuild();
  return *this;
}

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// "    12 | SELEC 1\n       | ^" for byte `offset` of `sql`.
std::string caret_block(std::string_view sql, std::size_t offset, int line_number) {
  constexpr std::size_t kWindow = 80;
  std::size_t line_start = offset;
  while (line_start > 0 && sql[line_start - 1] != '\n') --line_start;
  std::size_t line_end = offset;
  while (line_end < sql.size() && sql[line_end] != '\n') ++line_end;
  if (line_end > line_start && sql[line_end - 1] == '\r') --line_end;
  std::size_t caret = std::min(offset, line_end);

  std::size_t from = line_start;
  std::size_t to = line_end;
  bool cut_front = false;
  bool cut_back = false;
  if (caret - from > kWindow) {
    from = caret - kWindow;
    while (from < caret && is_continuation(sql[from])) ++from;
    cut_front = true;
  }
  if (to - caret > kWindow) {
    to = caret + kWindow;
    while (to > caret && is_continuation(sql[to])) --to;
    cut_back = true;
  }

  std::string number = std::to_string(line_number);
  std::string out = "  " + number + " | ";
  if (cut_front) out += "...";
  out.append(sql.substr(from, to - from));
  if (cut_back) out += "...";
  out += "\n  " + std::string(number.size(), ' ') + " | ";
  if (cut_front) out += "   ";
  for (std::size_t i = from; i < caret; ++i) {
    char c = sql[i];
    if (c == '\t') {
      out += '\t';
    } else if (!is_continuation(c)) {
      out += ' ';
    }
  }
  out += '^';
  return out;
}

}  // namespace

void Error::rebuild() {
  std::string_view message = engine_message_.empty() ? std::string_view(summary_) : engine_message_;
  std::string_view first = message;
  std::string_view rest;
  if (auto nl = message.find('\n'); nl != std::string_view::npos) {
    first = message.substr(0, nl);
    rest = message.substr(nl);  // keeps the '\n'
  }

  std::string out;
  if (!context_.empty()) out += context_ + ": ";
  if (!position_.file.empty()) {
    out += position_.file;
    if (position_.line > 0) {
      out += ':' + std::to_string(position_.line);
      if (position_.column > 0) out += ':' + std::to_string(position_.column);
    }
    out += ": ";
  }
  if (kind_ == ErrorKind::sql) {
    out += "SQL error";
    if (!engine_code_.empty()) out += ' ' + engine_code_;
    out += ": ";
    out.append(first);
  } else {
    out.append(first);
    if (!engine_code_.empty()) out += " [" + engine_code_ + "]";
  }
  out.append(rest);

  if (sql_offset_ >= 0 && !sql_.empty() && static_cast<std::size_t>(sql_offset_) <= sql_.size()) {
    auto offset = static_cast<std::size_t>(sql_offset_);
    int line = 1;
    if (!position_.file.empty() && position_.line > 0) {
      line = position_.line;
    } else {
      line += static_cast<int>(std::count(sql_.begin(), sql_.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    }
    out += '\n';
    out += caret_block(sql_, offset, line);
  }
  if (!hint_.empty()) {
    if (out.empty() || out.back() != '\n') out += '\n';
    out += "hint: " + hint_;
  }
  what_ = std::move(out);
}

Error& Error::hint(std::string text) {
  hint_ = std::move(text);
  rebuild();
  return *this;
}

}  // namespace strata
