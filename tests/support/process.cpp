#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

#include "support/engine_fixture.hpp"

namespace strata::test {

Process::Process(const std::filesystem::path& program, const std::vector<std::string>& args,
                 const std::filesystem::path& cwd) {
  static std::atomic<int> counter{0};
  int n = counter++;
  out_ = cwd / (".out." + std::to_string(::getpid()) + "." + std::to_string(n));
  err_ = cwd / (".err." + std::to_string(::getpid()) + "." + std::to_string(n));
  std::vector<std::string> argv_storage{program.string()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string cache = std::filesystem::absolute(cwd / ".strata-cache").string();

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (::chdir(cwd.c_str()) != 0) _exit(127);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::unsetenv("DATABASE_URL");
    // The stat cache stays in the test's directory (removed with it), not
    // in the user's ~/.cache, unless a test chose one.
    if (::getenv("STRATA_CACHE_DIR") == nullptr) ::setenv("STRATA_CACHE_DIR", cache.c_str(), 1);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove(out_, ec);
  std::filesystem::remove(err_, ec);
}

void Process::kill(int signal) {
  if (pid_ > 0 && !reaped_) ::kill(pid_, signal);
}

RunResult Process::wait() {
  RunResult r;
  int status = 0;
  if (!reaped_) {
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
  }
  r.out = read_file(out_);
  r.err = read_file(err_);
  return r;
}

RunResult run_strata(const std::filesystem::path& cwd, const std::vector<std::string>& args) {
  Process p(STRATA_BINARY, args, cwd);
  return p.wait();
}

}  // namespace strata::test
