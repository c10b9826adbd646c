#include "support/engine_fixture.hpp"

#include "strata/history.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "strata/error.hpp"

namespace strata::test {
namespace {

namespace fs = std::filesystem;

const char* kUrlVariable = "STRATA_TEST_POSTGRES_URL";

std::string server_url() {
  const char* url = std::getenv(kUrlVariable);
  if (url == nullptr || *url == '\0') {
    std::string message = std::string(kUrlVariable) +
                          " is not set: PostgreSQL tests need a throwaway server. Run them under "
                          "scripts/with-postgres, e.g. scripts/with-postgres ctest --test-dir build";
    ADD_FAILURE() << message;
    throw std::runtime_error(message);
  }
  return url;
}

fs::path make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "strata-test-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  return fs::path(buffer.data());
}

void remove_dir(const fs::path& dir) noexcept {
  if (dir.empty()) return;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// One administrative connection per test process, reopened when it breaks.
class Admin {
 public:
  void execute(const std::string& sql) {
    for (int attempt = 0;; ++attempt) {
      try {
        if (!connection_) connection_ = connect(server_url());
        connection_->execute(sql);
        return;
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::connection || attempt > 0) throw;
        connection_.reset();
      }
    }
  }

 private:
  std::unique_ptr<Connection> connection_;
};

Admin& admin() {
  static Admin instance;
  return instance;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string postgres_url_for(const std::string& database) {
  std::string url = server_url();
  auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    // A key=value conninfo string: a later dbname wins.
    std::string quoted;
    for (char c : database) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return url + " dbname='" + quoted + "'";
  }
  std::size_t authority = scheme + 3;
  std::size_t query = url.find_first_of("?#", authority);
  std::size_t path = url.find('/', authority);
  if (path != std::string::npos && query != std::string::npos && path > query) path = std::string::npos;
  std::size_t path_end = query == std::string::npos ? url.size() : query;
  std::size_t cut = path == std::string::npos ? path_end : path;
  return url.substr(0, cut) + "/" + percent_encode(database) + url.substr(path_end);
}

TestDatabase::TestDatabase(Engine engine) : engine_(engine) {
  dir_ = make_temp_dir();
  try {
    if (engine == Engine::sqlite) {
      sqlite_dir_ = make_temp_dir();
      url_ = "sqlite:" + (sqlite_dir_ / "test.db").string();
      return;
    }
    static std::atomic<int> counter{0};
    pg_name_ = "strata_t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    std::string quoted = Connection::quote_identifier(pg_name_);
    // A leftover from a crashed run whose pid this process reuses.
    admin().execute("DROP DATABASE IF EXISTS " + quoted + " WITH (FORCE)");
    admin().execute("CREATE DATABASE " + quoted + " TEMPLATE template0 ENCODING 'UTF8'");
    url_ = postgres_url_for(pg_name_);
  } catch (...) {
    remove_dir(dir_);
    remove_dir(sqlite_dir_);
    throw;
  }
}

TestDatabase::~TestDatabase() {
  if (!pg_name_.empty()) {
    try {
      admin().execute("DROP DATABASE IF EXISTS " + Connection::quote_identifier(pg_name_) + " WITH (FORCE)");
    } catch (const std::exception& e) {
      std::cerr << "warning: cannot drop test database " << pg_name_ << ": " << e.what() << "\n";
    }
  }
  remove_dir(sqlite_dir_);
  remove_dir(dir_);
}

std::unique_ptr<Connection> TestDatabase::connect() const { return strata::connect(url_); }

void write_file(const std::filesystem::path& path, std::string_view text) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Version> MigrationsTest::recorded(Connection& c) {
  std::vector<Version> out;
  for (const auto& a : History(c, {}).read()) out.push_back(a.version);
  return out;
}

bool table_exists(Connection& c, std::string_view table) {
  const Value name{std::string(table)};
  if (c.engine() == Engine::sqlite) {
    return !c.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1", {name}).rows.empty();
  }
  return !c.query("SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = $1",
                  {name})
              .rows.empty();
}

}  // namespace strata::test
