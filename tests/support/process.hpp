// tests/support/process.hpp: running the real strata binary from tests.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace strata::test {

struct RunResult {
  int code = -1;  // exit code, or -signal when killed
  std::string out, err;
};

// A child process running `program args...` in `cwd` with stdin from
// /dev/null and stdout/stderr captured to files in `cwd`. DATABASE_URL is
// removed from its environment.
class Process {
 public:
  Process(const std::filesystem::path& program, const std::vector<std::string>& args,
          const std::filesystem::path& cwd);
  ~Process();  // kills and reaps a child still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void kill(int signal);
  // Waits for exit; returns the exit code (or -signal) and the captured output.
  RunResult wait();

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_, err_;
  bool reaped_ = false;
};

// Runs the strata binary to completion.
RunResult run_strata(const std::filesystem::path& cwd, const std::vector<std::string>& args);

}  // namespace strata::test
