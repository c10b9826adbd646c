// strata database create | drop | wait and strata completion, through the
// binary, on both engines.
#include <gtest/gtest.h>

#include <cstdlib>

#include "strata/url.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::RunResult;

class DatabaseCli : public test::EngineTest {
 protected:
  // A database next to the test's own that does not exist yet.
  std::string other_url() {
    if (engine() == Engine::sqlite) return "sqlite:" + (db().dir() / "created.db").string();
    return db().url() + "_created";
  }
  bool exists(const std::string& url) {
    if (engine() == Engine::sqlite) return fs::exists(DatabaseUrl::parse(url).sqlite_path);
    auto c = db().connect();
    const std::string name = url.substr(url.rfind('/') + 1);
    return c->fetch_value<bool>("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", {name});
  }
  RunResult run(const std::vector<std::string>& args) { return test::run_strata(db().dir(), args); }
};

TEST_P(DatabaseCli, CreateWaitDrop) {
  const std::string url = other_url();
  ASSERT_FALSE(exists(url));
  RunResult created = run({"database", "create", "-d", url});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_NE(created.out.find("Created"), std::string::npos) << created.out;
  EXPECT_TRUE(exists(url));
  RunResult again = run({"database", "create", "-d", url});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("Exists"), std::string::npos) << again.out;
  RunResult ready = run({"database", "wait", "-d", url, "--timeout", "5"});
  EXPECT_EQ(ready.code, 0) << ready.err;
  EXPECT_NE(ready.out.find("Ready"), std::string::npos) << ready.out;
  RunResult up = run({"up", "-d", url, "-s", "none"});  // the database is usable (no source: exit 4, not 5)
  EXPECT_EQ(up.code, 4) << up.err;
  RunResult dropped = run({"database", "drop", "-d", url});
  EXPECT_EQ(dropped.code, 0) << dropped.err;
  EXPECT_FALSE(exists(url));
  RunResult absent = run({"database", "drop", "-d", url});
  EXPECT_EQ(absent.code, 0) << absent.err;
  EXPECT_NE(absent.out.find("Absent"), std::string::npos) << absent.out;
}

TEST_P(DatabaseCli, WaitGivesUpWithTheConnectionExitCodeAndNoPassword) {
  const std::string url = engine() == Engine::sqlite ? "sqlite:" + (db().dir() / "never.db").string()
                                                     : "postgresql://someone:hunter2@127.0.0.1:1/nothing";
  RunResult r = run({"database", "wait", "-d", url, "--timeout", "0.5"});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("waited 0.5 s"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(db().dir() / "never.db"));
}

TEST_P(DatabaseCli, CompletionCoversEveryCommandForEachShell) {
  RunResult b = run({"completion", "bash"});
  ASSERT_EQ(b.code, 0) << b.err;
  for (const char* word : {"'strata up')", "'strata bg run')", "--dry-run", "database", "completion"}) {
    EXPECT_NE(b.out.find(word), std::string::npos) << word;
  }
  // bash itself completes "strata bg r" to "run".
  test::write_file(db().dir() / "c.bash", b.out);
  const std::string cmd = "cd '" + db().dir().string() +
                          "' && bash -c 'source c.bash; COMP_WORDS=(strata bg r); COMP_CWORD=2; _strata; "
                          "echo \"${COMPREPLY[@]}\"' > out.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(test::read_file(db().dir() / "out.txt"), "run\n");
  RunResult z = run({"completion", "zsh"});
  EXPECT_EQ(z.code, 0);
  EXPECT_NE(z.out.find("bashcompinit"), std::string::npos);
  RunResult f = run({"completion", "fish"});
  EXPECT_EQ(f.code, 0);
  EXPECT_NE(f.out.find("complete -c strata -n '__fish_use_subcommand' -a up"), std::string::npos) << f.out;
  EXPECT_NE(f.out.find("-l dry-run"), std::string::npos);
  EXPECT_EQ(run({"completion", "tcsh"}).code, 2);
}

STRATA_INSTANTIATE_ENGINES(DatabaseCli);

}  // namespace
}  // namespace strata
