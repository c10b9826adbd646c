// src/migration/source_cache.hpp: the stat cache of a migration directory
// (SourceOptions::cache_dir, strata/source.hpp).
//
// What a no-op `up` would otherwise do for every file, open it, read it and
// hash it, is replaced by one fstatat() when the file is the one the cache
// saw: same device, inode, size, mtime and ctime to the nanosecond (git's
// index rule). An entry keeps the file's checksum and its header (the
// leading comment lines, where its directives are), so the loader can place
// it in the graph without reading it; its text is read only when something
// runs it (source.hpp: up_sql()).
//
// Git's racy-timestamp rule: a file modified within the second before the
// cache is written is not stored (an edit in the same clock tick would keep
// size and mtime), so it is read again next time.
//
// One file per (directory, engine), under the cache directory, created 0600
// in a 0700 directory and replaced atomically (write, then rename). A cache
// that is missing, unreadable, malformed or not writable is ignored: the
// files are then read as without it. Never throws.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <deque>
#include <map>
#include <string_view>
#include <vector>
#include <optional>
#include <string>

#include "strata/url.hpp"

namespace strata::detail {

class SourceCache {
 public:
  struct Entry {
    std::string_view checksum;  // strata's hex SHA-384 of the text
    std::string_view header;    // the text's first sql::header_length() bytes
  };

  // `dir_fd` is the open directory (used, not owned); `dir` names it.
  SourceCache(const std::filesystem::path& cache_dir, const std::filesystem::path& dir, int dir_fd, Engine engine);
  SourceCache(const SourceCache&) = delete;
  SourceCache& operator=(const SourceCache&) = delete;

  // The entry for `file` when the file is unchanged since it was stored
  // (valid as long as this cache); stats the file (kept for store()).
  const Entry* find(const std::string& file);
  // Records what was read from `file` (stat taken by find()).
  void store(const std::string& file, std::string checksum, std::string header);
  // Writes the cache if store() added anything or an entry was not used
  // (a file gone or changed). Entries of files this load did not see go.
  void save();

 private:
  struct Key {
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const Key&) const = default;
  };
  // An entry read from the cache file: views into text_ (or headers_).
  struct Stored {
    std::string_view name;
    Key key;
    Entry entry;
    bool used = false;  // found unchanged by this load: written back by save()
  };
  // An entry this load read the file for.
  struct Added {
    Key key;
    std::string checksum, header;
  };
  void read();

  std::filesystem::path path_;  // the cache file; empty = disabled
  std::string identity_;        // its first line: the directory and engine
  int dir_fd_;
  std::string text_;                              // the cache file's bytes
  std::deque<std::string> headers_;               // decoded non-empty headers (stable addresses)
  std::vector<Stored> stored_;                    // sorted by name
  std::map<std::string, Key, std::less<>> missed_;  // stat of each file find() had no entry for
  std::map<std::string, Added, std::less<>> added_;
};

}  // namespace strata::detail
