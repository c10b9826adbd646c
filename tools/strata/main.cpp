// strata: the command-line tool. A thin layer over the library: each
// subcommand lives in its own cmd_*.cpp with an options struct and setup_*.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.hpp"
#include "exit_codes.hpp"
#include "suggest.hpp"
#include "strata/error.hpp"
#include "strata/url.hpp"

namespace {
using strata::cli::did_you_mean;

std::vector<std::string> names_of(const std::vector<CLI::App*>& apps) {
  std::vector<std::string> out;
  for (const CLI::App* a : apps) out.push_back(a->get_name());
  return out;
}

// After a parse error: the first command word that is not a subcommand, or
// the first option the command it follows does not have, described with a
// suggestion ("unknown command 'upp' (did you mean up?)"); "" when the
// error is something else (a missing value, a bad number, ...).
std::string unknown_argument(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path = "strata";
  bool expect_value = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      expect_value = false;
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* opt = nullptr;
      for (CLI::App* a = current; a != nullptr && opt == nullptr; a = a->get_parent()) {
        opt = a->get_option_no_throw(name);
      }
      if (opt == nullptr && name != "--help" && name != "-h" && name != "--version" && name != "--json") {
        std::vector<std::string> options;
        for (CLI::App* a = current; a != nullptr; a = a->get_parent()) {
          for (const CLI::Option* o : a->get_options()) {
            for (const std::string& l : o->get_lnames()) options.push_back("--" + l);
          }
        }
        return "unknown option " + name + " for " + path + did_you_mean(name, options) + " (see " + path +
               " --help)";
      }
      if (opt != nullptr && opt->get_type_size() != 0 && arg.find('=') == std::string::npos) expect_value = true;
      continue;
    }
    if (expect_value) {
      expect_value = false;
      continue;
    }
    const auto subs = current->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) continue;  // a positional argument of a leaf command
    CLI::App* next = nullptr;
    for (CLI::App* s : subs) {
      if (s->check_name(arg)) next = s;
    }
    if (next == nullptr) {
      return "unknown command '" + arg + "'" + (current == &app ? "" : " for " + path) +
             did_you_mean(arg, names_of(subs)) + " (see " + path + " --help)";
    }
    current = next;
    path += " " + next->get_name();
  }
  return {};
}

// For the commands a deployment runs at every start: back the heap a load
// of ~1,000 migrations needs (~2 MiB) with two transparent huge pages,
// faulted in at once. In this project's VMs (shadow paging) the first touch
// of every 4 KiB page costs 5-12 us, even after MADV_POPULATE_WRITE, the
// largest cost of a no-op `up` after the process start; a huge page is one
// such fault for 512 pages (bench/noop/RESULTS.md).
//
// How: one large block from the top of the heap; its 2 MiB-aligned middle
// is advised MADV_HUGEPAGE and populated; the block is freed back to the
// top, and a pad that is never touched re-takes the unaligned start, so
// the allocations that follow land in the huge pages. Large blocks stay in
// the heap (not a fresh mmap per vector past 128 KiB) and freed memory is
// kept until exit. Where THP is off, the block is populated in 4 KiB pages
// instead; before Linux 5.14 or without glibc, nothing happens. Costs
// ~0.1 ms where there are only a few migrations.
void prefault_heap() {
#if defined(__GLIBC__) && defined(MADV_POPULATE_WRITE) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__)
  constexpr std::uintptr_t kHuge = 2 << 20;
  constexpr std::size_t kBytes = 4 << 20;
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  char* block = static_cast<char*>(std::malloc(kBytes + kHuge));
  if (block == nullptr) return;
  const auto first = reinterpret_cast<std::uintptr_t>(block);
  const std::uintptr_t start = (first + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t end = (first + kBytes + kHuge) & ~(kHuge - 1);
  const bool huge = ::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE) == 0 &&
                    ::madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) == 0;
  if (!huge) {
    const std::uintptr_t page_start = (first + 4095) & ~std::uintptr_t{4095};
    ::madvise(reinterpret_cast<void*>(page_start), end - page_start, MADV_POPULATE_WRITE);
    std::free(block);
    return;
  }
  std::free(block);  // back into the top chunk, which now starts at its header (block - 16)
  // A chunk from there up to `start`: glibc sizes a request r as r + 8
  // rounded up to 16, so r = start - header - 8 ends exactly at `start`.
  const std::uintptr_t header = first - 16;
  if (start - header >= 64) {
    static void* pad = nullptr;  // kept (and reachable) until exit
    pad = std::malloc(start - header - 8);
    if (pad != block) {  // not where expected: leave the heap as it is
      std::free(pad);
      pad = nullptr;
    }
  }
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace strata::cli;
  bool json = false;
  for (int i = 1; i < argc; ++i) json = json || std::strcmp(argv[i], "--json") == 0;

  CLI::App app{"strata: versioned schema migrations for SQLite and PostgreSQL", "strata"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "strata 0.1.0");
  app.footer(std::string(
                 "Database URLs: sqlite:path/to.db, sqlite:///abs/path.db, sqlite::memory:,\n"
                 "postgres://user@host:5432/db (anything libpq accepts). $DATABASE_URL is the default.\n\n") +
             exit_code_table +
             "\nExamples:\n"
             "  strata new create_users\n"
             "  strata up -d sqlite:app.db\n"
             "  strata status -d sqlite:app.db --json\n");
  // The commands a deployment runs on every start (up, status, validate,
  // down) get only their own definition built: CLI11 allocates every option
  // of every command it is given, a fifth of the page faults of a no-op
  // `up`. Any other first word (help, a typo, --version) gets them all.
  struct Hot {
    const char* name;
    void (*setup)(CLI::App&);
  };
  static constexpr Hot hot[] = {{"up", setup_up}, {"status", setup_status}, {"validate", setup_validate},
                                {"down", setup_down}};
  const Hot* only = nullptr;
  for (const Hot& h : hot) {
    if (argc > 1 && std::strcmp(argv[1], h.name) == 0) only = &h;
  }
  if (only != nullptr) {
    prefault_heap();
    only->setup(app);
  } else {
    setup_new(app);
    setup_up(app);
    setup_down(app);
    setup_status(app);
    setup_validate(app);
    setup_repair(app);
    setup_dump(app);
    setup_bg(app);
    setup_diff(app);
    setup_drift(app);
    setup_prepare(app);
    setup_port(app);
    setup_lint(app);
    setup_database(app);
    setup_graph(app);
    setup_adopt(app);
    setup_completion(app);  // last: it completes every command registered before it
  }

  auto fail = [&](ExitCode code, const std::string& kind, const std::string& message,
                  const strata::Error* error = nullptr) {
    std::string safe = strata::redact_passwords(message);
    if (json) {
      nlohmann::json j{{"kind", kind}, {"message", safe}, {"exit_code", static_cast<int>(code)}};
      if (error != nullptr) {
        if (!error->engine_code().empty()) j["engine_code"] = error->engine_code();
        const auto& p = error->position();
        if (!p.file.empty()) j["file"] = p.file;
        if (p.line > 0) j["line"] = p.line;
        if (p.column > 0) j["column"] = p.column;
        if (p.statement > 0) j["statement"] = p.statement;
      }
      print_json({{"error", j}});
    }
    std::fprintf(stderr, "error: %s\n", safe.c_str());
    return static_cast<int>(code);
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // A misspelt command or option: name it and the closest valid one.
    if (std::string unknown = unknown_argument(app, argc, argv); !unknown.empty()) {
      return fail(ExitCode::usage, "usage", unknown);
    }
    if (json) return fail(ExitCode::usage, "usage", e.what());
    app.exit(e);
    return static_cast<int>(ExitCode::usage);
  } catch (const ExitStatus& e) {
    return static_cast<int>(e.code);
  } catch (const ExitFailure& e) {
    return fail(e.code, e.kind, e.what());
  } catch (const ExitWith& e) {
    return static_cast<int>(e.code);
  } catch (const strata::Error& e) {
    return fail(exit_code_for(e.kind()), strata::to_string(e.kind()), e.what(), &e);
  } catch (const std::exception& e) {
    return fail(ExitCode::internal, "internal", e.what());
  }
  return 0;
}
