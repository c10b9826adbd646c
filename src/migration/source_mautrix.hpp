// src/migration/source_mautrix.hpp: mautrix-go's upgrade directories as a
// migration source (SourceLayout::mautrix, strata/source.hpp).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "strata/migration.hpp"
#include "strata/url.hpp"

namespace strata::detail {

// Reads a file of the source by its name within it; nullopt = unreadable.
using ReadSourceFile = std::function<std::optional<std::string>(const std::string&)>;

// Whether `name` is a file the mautrix layout reads: any "*.sql" that is
// not hidden (its name says nothing else about it).
bool is_mautrix_file(std::string_view name);

// Loads `files` (names within `dir`, any order) with mautrix-go's rules
// (go.mau.fi/util/dbutil, upgradetable.go). `problems` may already hold
// some; every problem found is added and thrown together as
// Error{ErrorKind::source}, with load_directory's message.
MigrationSet load_mautrix_files(const std::filesystem::path& dir, std::vector<std::string> files,
                                std::vector<std::string> problems, Engine engine, const ReadSourceFile& read_file);

// Shared with source.cpp: the path prefix files are shown with
// ("migrations/"), and the error listing a source's problems.
std::string display_prefix(const std::filesystem::path& dir);
[[noreturn]] void throw_source_problems(const std::filesystem::path& dir, const std::vector<std::string>& problems);
// The problem with a file's text as read (nullopt: unreadable), shown by
// `path`: "cannot be read", or invalid UTF-8 at line:column; nullopt if none.
std::optional<std::string> text_problem(const std::string& path, const std::optional<std::string>& text);

}  // namespace strata::detail
