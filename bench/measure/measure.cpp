// strata_bench_measure: runs one command and reports its wall time and peak
// memory, for bench/run.py.
//
//   strata_bench_measure RESULT_FILE COMMAND [ARGS...]
//
// Writes "SECONDS MAXRSS_KIB EXIT_CODE CPU_SECONDS\n" to RESULT_FILE and
// exits with the command's exit code. The clock runs from just before the
// spawn to the return of wait4(); the memory is wait4()'s ru_maxrss, what
// `/usr/bin/time -f %M` prints; CPU is user + system time of the command and
// the children it waited for (a figure a busy machine disturbs less than the
// wall clock; a database server's own work is not in it). Why not /usr/bin/time or Python's own
// subprocess: ru_maxrss includes the memory of the process that spawned the
// command, as it was at exec() (tens of MiB for Python), and GNU time adds
// milliseconds of its own start-up to every run, a large share of a
// no-op run. This launcher is small and measures only the child.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s RESULT_FILE COMMAND [ARGS...]\n", argv[0]);
    return 2;
  }
  timespec start{}, end{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[2], nullptr, nullptr, argv + 2, environ);
  if (rc != 0) {
    std::fprintf(stderr, "%s: cannot run %s: %s\n", argv[0], argv[2], std::strerror(rc));
    return 127;
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      std::perror("wait4");
      return 70;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double seconds = static_cast<double>(end.tv_sec - start.tv_sec) + static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 70;
  }
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  std::fprintf(out, "%.6f %ld %d %.6f\n", seconds, usage.ru_maxrss, code, secs(usage.ru_utime) + secs(usage.ru_stime));
  std::fclose(out);
  return code;
}
