#include "strata/value.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>
#include <type_traits>

#include "strata/error.hpp"
#include "util/number_text.hpp"

namespace strata {

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

const char* type_name(const Value::Storage& s) {
  return std::visit(Overloaded{[](const Null&) { return "NULL"; }, [](std::int64_t) { return "an integer"; },
                               [](double) { return "a floating-point number"; },
                               [](const std::string&) { return "text"; }, [](const Blob&) { return "a blob"; },
                               [](bool) { return "a boolean"; }, [](const Timestamp&) { return "a timestamp"; }},
                    s);
}

using util::shortest_double;

std::string quoted_excerpt(const std::string& s) {
  constexpr std::size_t kMax = 40;
  if (s.size() <= kMax) return "'" + s + "'";
  std::size_t n = kMax;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return "'" + s.substr(0, n) + "...'";
}

[[noreturn]] void cannot(const Value& v, const char* target) {
  std::string what = type_name(v.storage());
  if (const auto* s = std::get_if<std::string>(&v.storage())) what += " " + quoted_excerpt(*s);
  if (const auto* i = std::get_if<std::int64_t>(&v.storage())) what += " " + std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v.storage())) what += " " + shortest_double(*d);
  throw Error(ErrorKind::usage, "cannot convert " + what + " to " + target);
}

template <class T>
struct Target;
template <>
struct Target<std::int64_t> {
  static constexpr const char* name = "an integer";
};
template <>
struct Target<long long> {
  static constexpr const char* name = "an integer";
};
template <>
struct Target<int> {
  static constexpr const char* name = "a 32-bit integer";
};
template <>
struct Target<double> {
  static constexpr const char* name = "a floating-point number";
};
template <>
struct Target<bool> {
  static constexpr const char* name = "a boolean";
};
template <>
struct Target<std::string> {
  static constexpr const char* name = "text";
};
template <>
struct Target<Blob> {
  static constexpr const char* name = "a blob";
};
template <>
struct Target<Timestamp> {
  static constexpr const char* name = "a timestamp";
};

template <class I>
I to_integer(const Value& v) {
  const auto& s = v.storage();
  if (const auto* i = std::get_if<std::int64_t>(&s)) {
    if (*i < std::numeric_limits<I>::min() || *i > std::numeric_limits<I>::max()) cannot(v, Target<I>::name);
    return static_cast<I>(*i);
  }
  if (const auto* b = std::get_if<bool>(&s)) return *b ? 1 : 0;
  if (const auto* d = std::get_if<double>(&s)) {
    // Exactly integral and in range: 2^63 itself is out of range.
    if (std::isfinite(*d) && std::trunc(*d) == *d && *d >= static_cast<double>(std::numeric_limits<I>::min()) &&
        *d < -static_cast<double>(std::numeric_limits<I>::min())) {
      return static_cast<I>(*d);
    }
  }
  cannot(v, Target<I>::name);
}

template <class T>
T convert(const Value& v) {
  const auto& s = v.storage();
  if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, long long> || std::is_same_v<T, int>) {
    return to_integer<T>(v);
  } else if constexpr (std::is_same_v<T, double>) {
    if (const auto* d = std::get_if<double>(&s)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&s)) return static_cast<double>(*i);
    cannot(v, Target<T>::name);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (const auto* b = std::get_if<bool>(&s)) return *b;
    if (const auto* i = std::get_if<std::int64_t>(&s)) {
      if (*i == 0 || *i == 1) return *i == 1;
    }
    cannot(v, Target<T>::name);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (const auto* t = std::get_if<std::string>(&s)) return *t;
    if (const auto* b = std::get_if<Blob>(&s)) return std::string(reinterpret_cast<const char*>(b->data()), b->size());
    if (const auto* ts = std::get_if<Timestamp>(&s)) return format_timestamp(*ts);
    cannot(v, Target<T>::name);
  } else if constexpr (std::is_same_v<T, Blob>) {
    if (const auto* b = std::get_if<Blob>(&s)) return *b;
    if (const auto* t = std::get_if<std::string>(&s)) {
      Blob out(t->size());
      for (std::size_t i = 0; i < t->size(); ++i) out[i] = static_cast<std::byte>((*t)[i]);
      return out;
    }
    cannot(v, Target<T>::name);
  } else if constexpr (std::is_same_v<T, Timestamp>) {
    if (const auto* ts = std::get_if<Timestamp>(&s)) return *ts;
    if (const auto* t = std::get_if<std::string>(&s)) {
      if (auto parsed = parse_timestamp(*t)) return *parsed;
    }
    cannot(v, Target<T>::name);
  } else {
    static_assert(sizeof(T) == 0, "unsupported Value::as<T>");
  }
}

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// Parses exactly `n` digits at s[pos].
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

}  // namespace

template <class T>
T Value::as() const {
  if constexpr (IsOptional<T>::value) {
    if (is_null()) return std::nullopt;
    return convert<typename T::value_type>(*this);
  } else {
    if (is_null()) throw Error(ErrorKind::usage, std::string("cannot convert NULL to ") + Target<T>::name);
    return convert<T>(*this);
  }
}

#define STRATA_VALUE_AS(T)                         \
  template T Value::as<T>() const;                 \
  template std::optional<T> Value::as<std::optional<T>>() const;

STRATA_VALUE_AS(std::int64_t)
STRATA_VALUE_AS(long long)
STRATA_VALUE_AS(int)
STRATA_VALUE_AS(double)
STRATA_VALUE_AS(bool)
STRATA_VALUE_AS(std::string)
STRATA_VALUE_AS(Blob)
STRATA_VALUE_AS(Timestamp)
#undef STRATA_VALUE_AS

std::string Value::to_string() const {
  return std::visit(Overloaded{[](const Null&) -> std::string { return "NULL"; },
                               [](std::int64_t i) -> std::string { return std::to_string(i); },
                               [](double d) -> std::string { return shortest_double(d); },
                               [](const std::string& s) -> std::string { return s; },
                               [](const Blob& b) -> std::string {
                                 static constexpr char kHex[] = "0123456789abcdef";
                                 std::string out = "x'";
                                 for (std::byte x : b) {
                                   auto u = std::to_integer<unsigned>(x);
                                   out += kHex[u >> 4];
                                   out += kHex[u & 15];
                                 }
                                 out += '\'';
                                 return out;
                               },
                               [](bool b) -> std::string { return b ? "true" : "false"; },
                               [](const Timestamp& t) -> std::string { return format_timestamp(t); }},
                    v_);
}

void PrintTo(const Value& value, std::ostream* os) {
  if (const auto* s = std::get_if<std::string>(&value.storage())) {
    *os << '"' << *s << '"';
  } else {
    *os << value.to_string();
  }
}

std::string format_timestamp(Timestamp t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> tod{t - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d.%06lld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<int>(tod.seconds().count()),
                static_cast<long long>(tod.subseconds().count()));
  return buf;
}

std::optional<Timestamp> parse_timestamp(std::string_view s) {
  using namespace std::chrono;
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::size_t pos = 0;
  // Year: four or more digits.
  std::size_t year_digits = 0;
  while (year_digits < s.size() && s[year_digits] >= '0' && s[year_digits] <= '9') ++year_digits;
  if (year_digits < 4 || year_digits > 6) return std::nullopt;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, pos, year_digits, y)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!digits(s, pos, 2, mo)) return std::nullopt;
  if (pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!digits(s, pos, 2, d)) return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  microseconds micros{0};
  if (pos < s.size() && (s[pos] == ' ' || s[pos] == 'T' || s[pos] == 't')) {
    ++pos;
    if (!digits(s, pos, 2, h)) return std::nullopt;
    if (pos >= s.size() || s[pos++] != ':') return std::nullopt;
    if (!digits(s, pos, 2, mi)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t n = 0;
        long long frac = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (n < 6) frac = frac * 10 + (s[pos] - '0');
          ++n;
          ++pos;
        }
        if (n == 0) return std::nullopt;
        for (std::size_t k = n; k < 6; ++k) frac *= 10;
        micros = microseconds{frac};
      }
    }
    if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi != 0 || sec != 0 || micros.count() != 0))) return std::nullopt;
  }
  seconds offset{0};
  if (pos < s.size() && s[pos] == ' ') ++pos;  // "12:00:00 +02:00"
  if (pos < s.size()) {
    char c = s[pos];
    if (c == 'Z' || c == 'z') {
      ++pos;
    } else if (c == '+' || c == '-') {
      ++pos;
      int oh = 0, om = 0, os = 0;
      if (!digits(s, pos, 2, oh)) return std::nullopt;
      auto minutes_or_seconds = [&](int& out) {
        if (pos < s.size() && s[pos] == ':') ++pos;
        return digits(s, pos, 2, out);
      };
      if (pos < s.size()) {
        if (!minutes_or_seconds(om)) return std::nullopt;
        if (pos < s.size() && !minutes_or_seconds(os)) return std::nullopt;
      }
      if (oh > 15 || om > 59 || os > 59) return std::nullopt;
      offset = hours{oh} + minutes{om} + seconds{os};
      if (c == '-') offset = -offset;
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  auto local = sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec} + micros;
  return time_point_cast<microseconds>(local - offset);
}

}  // namespace strata
