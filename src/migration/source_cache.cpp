#include "migration/source_cache.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <system_error>

namespace strata::detail {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "strata source cache 1";

// FNV-1a: a stable name for the directory's cache file.
std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

bool from_hex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  out->reserve(hex.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

template <class T>
bool number(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::int64_t ns(const struct timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; }

}  // namespace

SourceCache::SourceCache(const fs::path& cache_dir, const fs::path& dir, int dir_fd, Engine engine)
    : dir_fd_(dir_fd) {
  if (cache_dir.empty()) return;
  std::error_code ec;
  const fs::path canonical = fs::canonical(dir, ec);
  if (ec) return;
  const std::string identity = canonical.string() + '\t' + to_string(engine);
  char name[40];
  std::snprintf(name, sizeof name, "source-%016llx", static_cast<unsigned long long>(fnv1a(identity)));
  path_ = cache_dir / name;
  // The first line names the directory: another one hashing alike is a miss.
  identity_ = std::string(kMagic) + '\t' + identity;
  read();
}

void SourceCache::read() {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < (64 << 20)) {
    text_.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < text_.size()) {
      const ssize_t n = ::read(fd, text_.data() + done, text_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    text_.resize(done);
  }
  ::close(fd);
  std::string_view rest = text_;
  auto next_line = [&]() -> std::optional<std::string_view> {
    const std::size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // a torn last line is dropped
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    return line;
  };
  const auto first = next_line();
  if (!first || *first != identity_) return;
  std::vector<Stored> entries;
  entries.reserve(static_cast<std::size_t>(std::count(rest.begin(), rest.end(), '\n')));
  while (auto line = next_line()) {
    std::string_view fields[8];
    std::size_t n = 0;
    std::string_view l = *line;
    while (n < 8) {
      const std::size_t tab = l.find('\t');
      fields[n++] = l.substr(0, tab);
      if (tab == std::string_view::npos) break;
      l.remove_prefix(tab + 1);
    }
    Stored s;
    std::string header;
    if (n != 8 || fields[0].empty() || !number(fields[1], &s.key.dev) || !number(fields[2], &s.key.ino) ||
        !number(fields[3], &s.key.size) || !number(fields[4], &s.key.mtime_ns) ||
        !number(fields[5], &s.key.ctime_ns) || fields[6].size() != 96 || !from_hex(fields[7], &header)) {
      headers_.clear();
      return;  // malformed: ignore the whole cache
    }
    s.name = fields[0];
    s.entry.checksum = fields[6];
    if (!header.empty()) s.entry.header = headers_.emplace_back(std::move(header));
    entries.push_back(s);
  }
  std::sort(entries.begin(), entries.end(), [](const Stored& a, const Stored& b) { return a.name < b.name; });
  stored_ = std::move(entries);
}

const SourceCache::Entry* SourceCache::find(const std::string& file) {
  if (path_.empty()) return nullptr;
  struct stat st {};
  if (::fstatat(dir_fd_, file.c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  const Key key{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                static_cast<std::uint64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim)};
  auto it = std::lower_bound(stored_.begin(), stored_.end(), std::string_view(file),
                             [](const Stored& s, std::string_view name) { return s.name < name; });
  if (it != stored_.end() && it->name == file && it->key == key) {
    it->used = true;
    return &it->entry;
  }
  missed_.insert_or_assign(file, key);
  return nullptr;
}

void SourceCache::store(const std::string& file, std::string checksum, std::string header) {
  if (path_.empty()) return;
  auto missed = missed_.find(file);
  if (missed == missed_.end() || file.find_first_of("\t\n") != std::string::npos) return;
  added_.insert_or_assign(file, Added{missed->second, std::move(checksum), std::move(header)});
}

void SourceCache::save() {
  if (path_.empty()) return;
  const bool all_used = std::all_of(stored_.begin(), stored_.end(), [](const Stored& s) { return s.used; });
  if (added_.empty() && all_used) return;
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t racy_after = ns(now) - 1000000000;
  // Every entry to keep, by name: the unchanged ones and the ones read now.
  std::map<std::string_view, std::string> lines;
  auto line = [&](std::string_view file, const Key& k, std::string_view checksum, std::string_view header) {
    if (k.mtime_ns >= racy_after || k.ctime_ns >= racy_after) return;  // git's racy rule
    std::string out(file);
    for (std::uint64_t v : {k.dev, k.ino, k.size}) out += '\t' + std::to_string(v);
    for (std::int64_t v : {k.mtime_ns, k.ctime_ns}) out += '\t' + std::to_string(v);
    out += '\t';
    out += checksum;
    out += '\t' + to_hex(header) + '\n';
    lines.insert_or_assign(file, std::move(out));
  };
  for (const Stored& s : stored_) {
    if (s.used) line(s.name, s.key, s.entry.checksum, s.entry.header);
  }
  for (const auto& [file, a] : added_) line(file, a.key, a.checksum, a.header);
  std::error_code ec;
  if (lines.empty() && !fs::exists(path_, ec)) return;  // nothing worth a file yet
  std::string out = identity_ + '\n';
  for (const auto& [file, text] : lines) out += text;
  const fs::path dir = path_.parent_path();
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return;
    ::chmod(dir.c_str(), 0700);
  }
  const fs::path tmp = path_.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;
  std::size_t done = 0;
  bool ok = true;
  while (done < out.size()) {
    const ssize_t n = ::write(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace strata::detail
