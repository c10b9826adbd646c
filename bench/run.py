#!/usr/bin/python3
"""Runs the benchmark scenarios and writes bench/RESULTS.md.

Called by scripts/bench (which installs the tools, builds strata, writes the
workloads with workload.py and starts a throwaway PostgreSQL); not meant to
be run on its own, but it can be:

    STRATA_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:PORT/postgres \\
      /usr/bin/python3 bench/run.py --work DIR --strata build-bench/strata \\
        --dbmate PATH --micro-json FILE --out bench/RESULTS.md

DIR holds one workload per size (DIR/n100, DIR/n1000, from workload.py).
Every command runs under strata_bench_measure (bench/measure/measure.cpp),
which takes its wall time around spawn/wait and its peak resident memory from
the same wait4() that /usr/bin/time -f %M reads (ru_maxrss: the largest of
the process and the children it waited for). A command that fails
stops the run: a benchmark of a broken tool measures nothing.
Stdlib only; run with Debian's /usr/bin/python3.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

PSQL = "/usr/lib/postgresql/15/bin/psql"  # the real client; /usr/bin/psql is a Perl wrapper
SQLITE3 = "/usr/bin/sqlite3"
PYTHON = "/usr/bin/python3"  # Debian's, where python3-alembic lives
MEASURE = "strata_bench_measure"  # set from --measure
# Flags that would name a fresh-database fast path of `strata up` (one
# transaction or a snapshot). Scenario (d) runs the first that `strata up
# --help` lists, and reports "not implemented" when it lists none.
FAST_PATH_FLAGS = ["--group", "--single-transaction", "--fresh", "--snapshot"]

START = time.monotonic()


def progress(message: str) -> None:
    elapsed = int(time.monotonic() - START)
    print(f"[bench {elapsed // 60:2d}:{elapsed % 60:02d}] {message}", flush=True)


def die(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def measure(argv, log, cwd=None, env=None, stdin_path=None):
    """Runs argv once under strata_bench_measure; returns (seconds, peak RSS
    in KiB, CPU seconds). Output goes to `log`; a failure stops the whole run."""
    result = log + ".measure"
    with open(log, "ab") as out:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        try:
            code = subprocess.run([MEASURE, result, *argv], stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=cwd, env=env).returncode
        finally:
            if stdin_path:
                stdin.close()
    if code != 0:
        with open(log, "rb") as f:
            tail = f.read()[-3000:].decode(errors="replace")
        die(f"{' '.join(argv)} exited {code}; its output ends with:\n{tail}")
    with open(result) as f:
        seconds, rss_kib, _, cpu = f.read().split()
    return float(seconds), int(rss_kib), float(cpu)


def run_quiet(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        die(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


# ---------------------------------------------------------------- databases

class SqliteDatabases:
    """Each database is a file in its own directory (sqitch keeps its registry
    beside the target, strata its lock file)."""

    engine = "sqlite"

    def __init__(self, root):
        self.root = root
        self.counter = 0

    def fresh(self):
        self.counter += 1
        d = os.path.join(self.root, f"db{self.counter}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return os.path.join(d, "app.db")

    def drop(self, db):
        shutil.rmtree(os.path.dirname(db), ignore_errors=True)

    def count(self, db, sql):
        return int(run_quiet([SQLITE3, db, sql]).strip())


class PostgresDatabases:
    """Each database is CREATE DATABASE on the throwaway server."""

    engine = "postgres"

    def __init__(self, admin_url):
        self.admin_url = admin_url
        self.base = admin_url.rsplit("/", 1)[0]
        self.counter = 0

    def _psql(self, *sql, url=None):
        argv = [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url or self.admin_url]
        for s in sql:
            argv += ["-c", s]
        return run_quiet(argv)

    def fresh(self):
        self.counter += 1
        name = f"bench_{os.getpid()}_{self.counter}"
        self._psql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
        return name

    def drop(self, db):
        # Nothing: DROP DATABASE forces an immediate checkpoint, which took up
        # to 20 s per run here once a few 1000-table databases existed, and
        # scripts/with-postgres removes the whole cluster at the end anyway.
        pass

    def url(self, db):
        return f"{self.base}/{db}"

    def count(self, db, sql):
        return int(self._psql(sql, url=self.url(db)).strip())


# ---------------------------------------------------------------- tools

class Tool:
    """How one tool applies, re-runs (no-op) and reports status on one engine.

    Each method returns (argv, kwargs for measure()). `history` is the SQL
    that counts the migrations the tool recorded, to check its work.
    """

    name = "?"
    history = None

    def __init__(self, dbs, workload, args):
        self.dbs, self.w, self.args = dbs, workload, args

    def pg_url(self, db):
        return self.dbs.url(db)

    def apply(self, db):
        raise NotImplementedError

    def noop(self, db):
        return self.apply(db)

    def status(self, db):
        raise NotImplementedError


class Floor(Tool):
    """The engine's own client running the plain SQL, one transaction per
    migration, without any history."""

    name = "floor (client, no history)"
    script = ""

    def apply(self, db):
        f = os.path.join(self.w, "floor", f"{self.dbs.engine}{self.script}.sql")
        if self.dbs.engine == "sqlite":
            return [SQLITE3, "-bail", db], {"stdin_path": f}
        return [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.pg_url(db), "-f", f, "-o", "/dev/null"], {}

    noop = None
    status = None


class FloorHistory(Floor):
    """The same with one history row per migration; its no-op and status are
    connect-and-read-the-history."""

    name = "floor (client + history)"
    script = "_history"
    history = "SELECT count(*) FROM bench_history"

    def noop(self, db):
        f = os.path.join(self.w, "floor", f"{self.dbs.engine}_noop.sql")
        if self.dbs.engine == "sqlite":
            return [SQLITE3, "-bail", db], {"stdin_path": f}
        return [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.pg_url(db), "-f", f, "-o", "/dev/null"], {}

    status = noop


class Strata(Tool):
    name = "strata"
    history = "SELECT count(*) FROM strata_migrations WHERE success"
    extra = []

    def url(self, db):
        return f"sqlite:{db}" if self.dbs.engine == "sqlite" else self.pg_url(db)

    def apply(self, db):
        src = os.path.join(self.w, "strata", "migrations")
        return [self.args.strata, "up", *self.extra, "-d", self.url(db), "-s", src], {}

    def status(self, db):
        src = os.path.join(self.w, "strata", "migrations")
        return [self.args.strata, "status", "-d", self.url(db), "-s", src], {}


class StrataFast(Strata):
    name = "strata (fresh-database fast path)"
    noop = None
    status = None


class Dbmate(Tool):
    name = "dbmate"
    history = "SELECT count(*) FROM schema_migrations"

    def base(self, db):
        url = f"sqlite:{db}" if self.dbs.engine == "sqlite" else self.pg_url(db) + "?sslmode=disable"
        return [self.args.dbmate, "--url", url, "--migrations-dir", os.path.join(self.w, "dbmate", "db", "migrations"),
                "--no-dump-schema"]

    def apply(self, db):
        return self.base(db) + ["up"], {}

    def status(self, db):
        return self.base(db) + ["status"], {}


class Alembic(Tool):
    name = "alembic"
    history = "SELECT count(*) FROM alembic_version"  # one row: the head

    def env(self, db):
        if self.dbs.engine == "sqlite":
            url = f"sqlite:///{db}"
        else:
            url = "postgresql+psycopg2://" + self.pg_url(db).split("://", 1)[1]
        return dict(os.environ, BENCH_DB_URL=url)

    def apply(self, db):
        ini = os.path.join(self.w, "alembic", "alembic.ini")
        return [PYTHON, "-m", "alembic", "-c", ini, "upgrade", "head"], {"env": self.env(db)}

    def status(self, db):
        ini = os.path.join(self.w, "alembic", "alembic.ini")
        return [PYTHON, "-m", "alembic", "-c", ini, "current"], {"env": self.env(db)}


class Sqitch(Tool):
    name = "sqitch"
    history = None  # its registry lives elsewhere on SQLite; checked through the tables instead

    def target(self, db):
        if self.dbs.engine == "sqlite":
            return f"db:sqlite:{db}"
        return "db:pg:" + self.pg_url(db).split(":", 1)[1]

    def kw(self):
        env = dict(os.environ, SQITCH_FULLNAME="Bench", SQITCH_EMAIL="bench@example.org")
        return {"cwd": os.path.join(self.w, "sqitch"), "env": env}

    def apply(self, db):
        return ["sqitch", "deploy", self.target(db)], self.kw()

    def status(self, db):
        return ["sqitch", "status", self.target(db)], self.kw()


# ---------------------------------------------------------------- scenarios

def fast_path_flag(strata):
    help_text = subprocess.run([strata, "up", "--help"], capture_output=True, text=True).stdout
    for flag in FAST_PATH_FLAGS:
        if re.search(rf"(^|[\s,]){re.escape(flag)}\b", help_text):
            return flag
    return None


def check_applied(tool, dbs, db, n):
    """Fails the run unless the last table exists with its 10 rows and the
    tool recorded every migration."""
    last = f"SELECT count(*) FROM t{n:05d}"
    if dbs.count(db, last) != 10:
        die(f"{tool.name} on {dbs.engine}: t{n:05d} does not hold 10 rows")
    if tool.history:
        want = 1 if tool.name == "alembic" else n
        got = dbs.count(db, tool.history)
        if got != want:
            die(f"{tool.name} on {dbs.engine}: history holds {got} rows, expected {want}")


SLOW_TOOLS = ("alembic", "sqitch")


def bench_engine(dbs, n, runs, slow_runs, quick_runs, args, fast_flag, logdir, results):
    """Scenarios (a)-(c) and (e) on one engine for one workload size.

    (a) apply: `runs` times on a fresh database each (`slow_runs` for Alembic
        and sqitch, which take 5-20 times as long: the time budget), the
        tools interleaved so a burst of background load hits all alike.
    (b) no-op and (c) status: `quick_runs` times each on the database the
        last apply run left (all N applied).
    """
    w = os.path.join(args.work, f"n{n}")
    tools = [Floor(dbs, w, args), FloorHistory(dbs, w, args), Strata(dbs, w, args)]
    if fast_flag:
        fast = StrataFast(dbs, w, args)
        fast.extra = [fast_flag]
        tools.append(fast)
    tools += [Dbmate(dbs, w, args), Alembic(dbs, w, args), Sqitch(dbs, w, args)]

    kept = {}
    for i in range(runs):
        for tool in tools:
            tool_runs = min(runs, slow_runs) if tool.name in SLOW_TOOLS else runs
            if i >= tool_runs:
                continue
            db = dbs.fresh()
            argv, kw = tool.apply(db)
            log = os.path.join(logdir, f"{dbs.engine}-{n}-{tool.name.split()[0]}-apply.log")
            s, rss, cpu = measure(argv, log, **kw)
            results.append(dict(engine=dbs.engine, n=n, scenario="apply", tool=tool.name, round=i, seconds=s,
                                rss_kib=rss, cpu=cpu))
            progress(f"{dbs.engine} N={n} apply {tool.name:<34} run {i + 1}/{tool_runs}: {s:8.3f} s  "
                     f"{rss / 1024:6.1f} MiB")
            if tool.name in kept:
                dbs.drop(kept[tool.name])
            kept[tool.name] = db
    for tool in tools:
        check_applied(tool, dbs, kept[tool.name], n)

    for scenario in ("noop", "status"):
        for i in range(quick_runs):
            for tool in tools:
                make = getattr(tool, scenario)
                if make is None:
                    continue
                argv, kw = make(kept[tool.name])
                log = os.path.join(logdir, f"{dbs.engine}-{n}-{tool.name.split()[0]}-{scenario}.log")
                s, rss, cpu = measure(argv, log, **kw)
                results.append(dict(engine=dbs.engine, n=n, scenario=scenario, tool=tool.name, round=i, seconds=s,
                                    rss_kib=rss, cpu=cpu))
        progress(f"{dbs.engine} N={n} {scenario}: {quick_runs} runs of each tool done")
    for db in kept.values():
        dbs.drop(db)


# ---------------------------------------------------------------- profile

# What callgrind's inclusive instruction counts are reported for: a label and
# the substring of the function name (the first, outermost match counts).
PROFILE_ROWS = [
    ("whole process", "PROGRAM TOTALS"),
    ("dynamic loading and relocation of the shared libraries (ld.so)", "_dl_start"),
    ("open the connection (`strata::connect`)", "strata::connect("),
    ("… of which SQLite parses the schema of N tables (first statement)", "sqlite3InitOne"),
    ("load the source (`strata::load_directory`)", "strata::load_directory("),
    ("… checksums (`strata::checksum`)", "strata::checksum"),
    ("… … OpenSSL provider loading and digest look-up (`EVP_MD_fetch`)", "EVP_MD_fetch"),
    ("… … the hashing itself (`SHA512_Update`)", "SHA512_Update"),
    ("… … finishing each digest (`EVP_DigestFinal_ex`)", "EVP_DigestFinal_ex"),
    ("… display paths (`display_path`)", "display_path("),
    ("… `std::filesystem::path` building and normalising (`path::operator/=`)", "path::operator/="),
    ("… reading files through `std::ifstream` (`basic_ios::init`, locale set-up)", "basic_ios<char, std::char_traits<char> >::init"),
    ("… UTF-8 validation (`find_invalid_utf8`)", "find_invalid_utf8"),
    ("… directory listing (`directory_iterator::increment`)", "directory_iterator::increment"),
    ("`Migrator::up`", "strata::Migrator::up("),
    ("… take the migration lock (`MigrationLock`)", "strata::MigrationLock::MigrationLock("),
    ("… read the history (`History::read`)", "strata::History::read("),
    ("… … libpq / SQLite queries (`Connection::query`)", "Connection::query("),
    ("… `compare` source and history", "strata::compare("),
    ("… run the migrations' statements (`run_statements`)", "run_statements("),
    ("… split them (`sql::parse_script`)", "strata::sql::parse_script("),
    ("… insert history rows (`History::record`)", "strata::History::record("),
    ("print the report (`fmt::print`)", "fmt::v9::vprint("),
    ("malloc + free, everywhere (self cost)", None),
]

ANNOTATE_LINE = re.compile(r"^\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)$")


def callgrind(argv, out, logdir):
    """Runs argv under callgrind; returns {function: (instructions, percent)}
    inclusive, in callgrind_annotate's order (largest first)."""
    run_quiet(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv])
    text = run_quiet(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out])
    functions = {}
    for line in text.splitlines():
        m = ANNOTATE_LINE.match(line)
        if m:
            functions.setdefault(m.group(3), (int(m.group(1).replace(",", "")), float(m.group(2))))
    self_text = run_quiet(["callgrind_annotate", "--threshold=100", out])
    alloc = 0
    for line in self_text.splitlines():
        m = ANNOTATE_LINE.match(line)
        if m and re.search(r"malloc\.c:(malloc|free|_int_malloc|_int_free|malloc_consolidate|unlink_chunk)", m.group(3)):
            alloc += int(m.group(1).replace(",", ""))
    functions["\0alloc"] = (alloc, None)
    return functions


def profile_rows(functions):
    total = functions.get("PROGRAM TOTALS", (0, 100.0))[0]
    rows = {}
    for label, pattern in PROFILE_ROWS:
        if pattern is None:
            n = functions["\0alloc"][0]
            rows[label] = (n, 100.0 * n / total if total else 0.0)
            continue
        for name, value in functions.items():
            if pattern in name:
                rows[label] = value
                break
    return rows


def profile_strata(args, dbs_by_engine, n, logdir):
    """Callgrind profiles of strata's no-op run, status and apply (SQLite and
    PostgreSQL): instruction shares per phase, for RESULTS.md."""
    w = os.path.join(args.work, f"n{n}")
    small = min(int(x) for x in args.sizes.split(","))
    w_small = os.path.join(args.work, f"n{small}")
    profiles = []
    for engine, dbs in dbs_by_engine.items():
        tool = Strata(dbs, w, args)
        db = dbs.fresh()
        argv, kw = tool.apply(db)
        measure(argv, os.path.join(logdir, f"profile-{engine}-apply.log"), **kw)
        for scenario in ("noop",):  # status spends its time in the same places
            argv, _ = getattr(tool, scenario)(db)
            out = os.path.join(logdir, f"callgrind.{engine}.{scenario}.{n}")
            profiles.append((engine, f"{scenario}, N={n}", profile_rows(callgrind(argv, out, logdir))))
            progress(f"profiled strata {scenario} on {engine}, N={n}")
        dbs.drop(db)
        small_tool = Strata(dbs, w_small, args)
        db = dbs.fresh()
        argv, _ = small_tool.apply(db)
        out = os.path.join(logdir, f"callgrind.{engine}.apply.{small}")
        profiles.append((engine, f"apply, N={small}", profile_rows(callgrind(argv, out, logdir))))
        progress(f"profiled strata apply on {engine}, N={small}")
        dbs.drop(db)
    return profiles


def profile_table(profiles):
    if not profiles:
        return []
    head = "| where the instructions go (inclusive) | " + " | ".join(f"{e} {s}" for e, s, _ in profiles) + " |"
    lines = [head, "| --- |" + " ---: |" * len(profiles)]
    for label, _ in PROFILE_ROWS:
        cells = []
        for _, _, rows in profiles:
            if label not in rows:
                cells.append("–")
            elif label == "whole process":
                cells.append(f"{rows[label][0] / 1e6:.0f} M instr.")
            else:
                cells.append(f"{rows[label][1]:.1f}%")
        if any(c != "–" for c in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


# ---------------------------------------------------------------- report

def version_of(argv, pattern=r"(\d+(?:\.\d+)+)"):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        m = re.search(pattern, out.stdout + out.stderr)
        return m.group(1) if m else (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "not found"


def machine(args, dbs_pg):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    server = "not run"
    if dbs_pg:
        server = dbs_pg._psql("SHOW server_version").strip()
        data_dir = dbs_pg._psql("SHOW data_directory").strip()
        fs_type = subprocess.run(["stat", "-f", "-c", "%T", data_dir], capture_output=True, text=True).stdout.strip()
        server += f", data directory on {fs_type or 'unknown'}, fsync off"
    py = [PYTHON, "-c", "import alembic, sqlalchemy, psycopg2; print(alembic.__version__, sqlalchemy.__version__, "
          "psycopg2.__version__.split()[0])"]
    alembic_v, sqlalchemy_v, psycopg2_v = run_quiet(py).split()
    return [
        ("CPU", f"{os.cpu_count()} cores, {cpu}"),
        ("memory", f"{mem_kib / 1024 / 1024:.1f} GiB"),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("strata", version_of([args.strata, "--version"]) + f" (Release build, {args.compiler})"),
        ("SQLite", "sqlite3 " + version_of([SQLITE3, "--version"])),
        ("PostgreSQL", f"server {server}, client psql {version_of([PSQL, '--version'])}"),
        ("dbmate", version_of([args.dbmate, "--version"])),
        ("Alembic", f"{alembic_v} (SQLAlchemy {sqlalchemy_v}, psycopg2 {psycopg2_v}, "
                    f"Python {version_of([PYTHON, '--version'])})"),
        ("sqitch", version_of(["sqitch", "--version"])),
    ]


def fmt_s(x):
    if x < 1:
        return f"{x * 1000:.0f} ms" if x >= 0.01 else f"{x * 1000:.1f} ms"
    return f"{x:.2f} s"


def fmt_ratio(x):
    return f"{x:.2f}×" if x is not None else "–"


def summary(results, engine, n, scenario, tool):
    runs = [r for r in results if (r["engine"], r["n"], r["scenario"], r["tool"]) == (engine, n, scenario, tool)]
    if not runs:
        return None
    secs = [r["seconds"] for r in runs]
    return dict(median=statistics.median(secs), lo=min(secs), hi=max(secs), runs=len(secs),
                rss=statistics.median(r["rss_kib"] for r in runs), cpu=statistics.median(r["cpu"] for r in runs))


def scenario_table(results, engine, n, scenario, tool_names, floor_name, fast_flag):
    floor = summary(results, engine, n, scenario, floor_name)
    strata = summary(results, engine, n, scenario, "strata")
    head = "× floor+history" if scenario == "apply" else "× floor (connect + read history)"
    lines = [f"| tool | median | min–max | runs | {head} | × strata | client CPU | peak RSS |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in tool_names:
        s = summary(results, engine, n, scenario, name)
        if s is None:
            if name.startswith("strata (fresh") and scenario == "apply" and not fast_flag:
                lines.append(f"| {name} | not implemented | | | | | | |")
            continue
        rf = s["median"] / floor["median"] if floor else None
        rs = s["median"] / strata["median"] if strata else None
        label = f"**{name}**" if name == "strata" else name
        lines.append(f"| {label} | {fmt_s(s['median'])} | {fmt_s(s['lo'])}–{fmt_s(s['hi'])} | {s['runs']} | "
                     f"{fmt_ratio(rf)} | {fmt_ratio(rs)} | {fmt_s(s['cpu'])} | {s['rss'] / 1024:.1f} MiB |")
    return lines


def fmt_duration(value, unit):
    """A Google Benchmark time in `unit` (ns, us, ms, s), in a readable unit."""
    ns = value * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
    for scale, name in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if ns >= scale:
            return f"{ns / scale:.3g} {name}"
    return f"{ns:.3g} ns"


def micro_table(data):
    """Google Benchmark's JSON output as a table. Its throughput (bytes or
    items per second) is computed from CPU time, which other load on a shared
    machine disturbs less than the wall clock; both times are shown."""
    lines = ["| benchmark | wall time per iteration | CPU time per iteration | throughput (from CPU time) |",
             "| --- | ---: | ---: | ---: |"]
    figures = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        name = re.sub(r"/min_time:[0-9.]+", "", b["name"])
        unit = b.get("time_unit", "ns")
        parts = []
        if "bytes_per_second" in b:
            mbs = b["bytes_per_second"] / 1e6
            figures[name] = mbs
            parts.append(f"{mbs:,.0f} MB/s")
        if "items_per_second" in b:
            ips = b["items_per_second"]
            parts.append(f"{ips / 1e6:.1f} M migrations/s" if ips >= 1e6 else f"{ips / 1e3:,.0f} k migrations/s")
        thr = ", ".join(parts)
        lines.append(f"| {name} | {fmt_duration(b['real_time'], unit)} | {fmt_duration(b['cpu_time'], unit)} | "
                     f"{thr} |")
    return lines, figures, data.get("context", {})


def verdict(ok):
    return "met" if ok else "**not met**"


def paired_ratios(results, engine, n, scenario, tool, reference):
    """tool/reference for each round in which both ran (back to back)."""
    def by_round(name):
        return {r["round"]: r["seconds"] for r in results
                if (r["engine"], r["n"], r["scenario"], r["tool"]) == (engine, n, scenario, name) and "round" in r}
    a, b = by_round(tool), by_round(reference)
    return sorted(a[i] / b[i] for i in a if i in b)


def targets(results, figures, sizes):
    """The issue's targets. Each is judged on the ratios of strata to the
    reference measured back to back in the same round: "met" when their
    upper quartile is within the target, "not met" when their lower quartile
    is beyond it, "within noise" when the target lies between the quartiles
    (the machine's drift is then larger than the difference)."""
    n = max(sizes)
    out = [f"| target (N={n}) | engine | ratio of medians | paired ratios: median (quartiles) | verdict |",
           "| --- | --- | ---: | ---: | --- |"]
    floor = "floor (client + history)"
    checks = [("apply ≤ 1.05× floor with history", "apply", floor, 1.05),
              ("apply ≤ 1.0× dbmate", "apply", "dbmate", 1.0),
              ("no-op ≤ 1.5× floor's connect-and-query", "noop", floor, 1.5),
              ("no-op ≤ 0.5× dbmate", "noop", "dbmate", 0.5)]
    for engine in ("sqlite", "postgres"):
        for label, scenario, reference, limit in checks:
            st = summary(results, engine, n, scenario, "strata")
            ref = summary(results, engine, n, scenario, reference)
            if st is None or ref is None:
                continue
            r = st["median"] / ref["median"]
            pairs = paired_ratios(results, engine, n, scenario, "strata", reference)
            if len(pairs) >= 3:
                q1, med, q3 = statistics.quantiles(pairs, n=4, method="inclusive")
                v = verdict(True) if q3 <= limit else verdict(False) if q1 > limit else "within noise"
                cell = f"{med:.2f}× ({q1:.2f}–{q3:.2f})"
            else:
                v, cell = verdict(r <= limit), "–"
            out.append(f"| {label} | {engine} | {r:.2f}× | {cell} | {v} |")
    for name in ("BM_SplitRealisticPostgres", "BM_SplitHugeDollarBody"):
        if name in figures:
            out.append(f"| splitter ≥ 300 MB/s ({name}) | postgres | {figures[name]:,.0f} MB/s | | "
                       f"{verdict(figures[name] >= 300)} |")
    return out


def write_report(report, out):
    """Writes RESULTS.md from `report`: everything one run measured (the raw
    JSON, so a report can be rendered again with --render)."""
    results, fast_flag, sizes = report["results"], report["fast_flag"], report["sizes"]
    runs_for = {int(n): v for n, v in report["runs_for"].items()}
    profiles = report["profiles"]
    tool_names = ["floor (client, no history)", "floor (client + history)", "strata",
                  "strata (fresh-database fast path)", "dbmate", "alembic", "sqitch"]
    micro_lines, figures, micro_ctx = micro_table(report["micro"]) if report["micro"] else ([], {}, {})
    L = []
    L += ["# strata benchmark results", "",
          f"Generated by `scripts/bench` on {report['date']}, in {report['elapsed'] / 60:.1f} minutes, from "
          f"commit {report['commit']}. **Taken on a shared 2-core machine** while other work (builds, test "
          f"suites) ran beside it: load average {report['load_before']} before, {report['load_after']} after. "
          "Read the figures as ratios measured side by side in one run (the tools are interleaved run by "
          "run), not as absolute speeds.", "",
          "This file is rewritten by every run; the analysis at its end (what falls short of the targets, "
          "why, and what to change) comes from `bench/findings.md`, written by hand from the profiles.", "",
          "## Machine", "", "| | |", "| --- | --- |"]
    L += [f"| {k} | {v} |" for k, v in report["machine"]]
    L += ["",
          "## Workload and method", "",
          "N migrations, each `CREATE TABLE` (3 columns) + `CREATE INDEX` + a 10-row `INSERT`, each in its own "
          "transaction, in every tool's own format (`bench/workload.py`). Sizes: " +
          ", ".join(f"N={n} ({runs_for[n][0]} apply runs, {runs_for[n][1]} for Alembic and sqitch, which take "
                    f"far longer; {runs_for[n][2]} no-op/status runs)" for n in sizes) +
          ". Times are wall-clock around the whole process (start, connect, work, exit); client CPU is the "
          "median user+system time of the tool's processes (not the database server's), a figure background "
          "load disturbs less than the wall clock; peak RSS is "
          "ru_maxrss from wait4(), what `/usr/bin/time -f %M` reports (for sqitch, the largest of the process and "
          "the clients it runs), both taken by a small launcher, `bench/measure/measure.cpp`, that adds neither "
          "its own start-up nor its own memory to the figures.", "",
          "- **floor (client, no history)**: one `sqlite3` / `psql` process runs all N migrations, "
          "`BEGIN`/`COMMIT` around each (SQLite: `BEGIN IMMEDIATE`, WAL and foreign keys on, as strata's driver "
          "does).",
          "- **floor (client + history)**: the same plus an `INSERT` of a history row (version, description, "
          "SHA-384 checksum, timing, success) inside each migration's transaction. Its no-op and status "
          "scenarios are the floor's connect-and-query: connect and `SELECT version, checksum` from the "
          "history, in one client process.",
          "- **strata**: `strata up` / `strata up` again / `strata status`, versioned files `0001_x.sql`.",
          "- **dbmate**: `dbmate --no-dump-schema up` / `up` / `status`, `db/migrations/<ts>_x.sql`.",
          "- **alembic**: `python3 -m alembic upgrade head` / `upgrade head` / `current`, one revision file per "
          "migration (down_revision chain, `op.execute` per statement), `transaction_per_migration=True` "
          "and SQLAlchemy's documented pysqlite fix so each SQLite migration is one transaction. Alembic "
          "keeps no checksums. Version files are byte-compiled before timing.",
          "- **sqitch**: `sqitch deploy` / `deploy` / `status`, a plan of N changes whose deploy scripts are "
          "wrapped in `BEGIN`/`COMMIT` as sqitch's templates do; sqitch runs the engine's client "
          "(`sqlite3`, `psql`) once per change.",
          "",
          "Defaults differ where the tools differ: strata (and so the SQLite floor) opens SQLite in WAL mode; "
          "dbmate, Alembic and sqitch leave SQLite's rollback journal. The PostgreSQL server is "
          "`scripts/with-postgres`' throwaway cluster on 127.0.0.1 with `fsync`, `synchronous_commit` and "
          "`full_page_writes` off, so PostgreSQL figures are round trips and server work, not disk flushes. "
          "Each apply run gets a fresh database (file, or `CREATE DATABASE`, not timed); the no-op and status "
          "runs use the database the last apply run left, with all N applied; each tool's result is checked "
          "(last table holds its 10 rows, history holds N rows).", ""]

    letters = {"apply": "(a) apply all N to an empty database",
               "noop": "(b) no-op run with all N applied (start, connect, read history, validate, exit)",
               "status": "(c) status with all N applied"}
    for engine in ("sqlite", "postgres"):
        if not any(r["engine"] == engine for r in results):
            continue
        L += [f"## {'SQLite' if engine == 'sqlite' else 'PostgreSQL'}", ""]
        for n in sizes:
            for scenario in ("apply", "noop", "status"):
                L += [f"### {letters[scenario]}, N={n}", ""]
                L += scenario_table(results, engine, n, scenario, tool_names,
                                    "floor (client + history)", fast_flag)
                L += [""]
        L += [f"### (d) fresh-database fast path, {engine}", ""]
        if fast_flag:
            L += [f"Measured as `strata up {fast_flag}`: the row \"strata (fresh-database fast path)\" in the "
                  "apply tables above.", ""]
        else:
            L += ["**Not implemented**: `strata up --help` offers no fresh-database fast path (one transaction "
                  "for everything, or a snapshot), so there is nothing to measure. The apply tables show it as "
                  "\"not implemented\".", ""]

    L += ["## (e) Peak memory", "",
          "Median peak RSS per run, N=" + str(max(sizes)) + ".", "",
          "| tool | SQLite apply | SQLite no-op | PostgreSQL apply | PostgreSQL no-op |",
          "| --- | ---: | ---: | ---: | ---: |"]
    n = max(sizes)
    for name in tool_names:
        cells = []
        for engine in ("sqlite", "postgres"):
            for scenario in ("apply", "noop"):
                s = summary(results, engine, n, scenario, name)
                cells.append(f"{s['rss'] / 1024:.1f} MiB" if s else "–")
        if any(c != "–" for c in cells):
            L.append(f"| {name} | " + " | ".join(cells) + " |")
    L += [""]

    if micro_lines:
        L += ["## Micro-benchmarks (Google Benchmark, `build-bench/strata_micro_bench`)", "",
              "Splitter: `strata::sql::parse_script(text, Engine::postgres)` over a ~10 MB realistic script "
              "(DDL, DML, comments, quoted strings, `$$` and `$fn$` function bodies) and over one ~10 MB "
              "dollar-quoted body. Checksum: `strata::checksum` over 1 KiB (about one migration) and 1 MiB, "
              "LF and CRLF. Planning: `strata::plan_up` and `strata::compare` over 10,000 migrations with "
              "0, 5,000 and 10,000 applied. Source: `strata::load_directory` over 1,000 files of the workload "
              "(what the no-op run does before it touches the database). MB = 10^6 bytes."
              + (" (Debian's libbenchmark warns that it was built as DEBUG; that concerns the harness, the "
                 "code measured is strata's Release build.)" if micro_ctx.get("library_build_type") == "debug"
                 else ""), ""]
        L += micro_lines + [""]

    L += ["## Targets", "",
          "Reported, not asserted. Paired ratios: strata's time divided by the reference's in the same "
          "round (the two ran back to back), which is steadier than the ratio of medians when the load, or "
          "the disk's fsync latency, drifts during the run. Verdict: \"met\" when the upper quartile of "
          "the paired ratios is within the target, \"not met\" when the lower quartile is beyond it, "
          "\"within noise\" when the target lies between the quartiles.", ""]
    L += targets(results, figures, sizes) + [""]
    if profiles:
        L += ["## Where strata's instructions go (callgrind)", "",
              "Measured in the same run by `valgrind --tool=callgrind` on the same workloads and databases: the "
              "share of all instructions the process executed (user space: the server's work and waiting for "
              "the disk or the network are not in it) spent inside each function, children included. Rows "
              "starting with … are part of the row above. Raw profiles: `build-bench/bench-work/logs/callgrind.*` "
              "(`callgrind_annotate --inclusive=yes FILE`).", ""]
        L += profile_table(profiles) + [""]
    findings = os.path.join(os.path.dirname(os.path.abspath(__file__)), "findings.md")
    if os.path.exists(findings):
        with open(findings) as f:
            L += [f.read().rstrip(), ""]
    with open(out, "w") as f:
        f.write("\n".join(L))


# ---------------------------------------------------------------- main

def main():
    global MEASURE, PSQL
    p = argparse.ArgumentParser(description="Runs strata's benchmark scenarios")
    p.add_argument("--work", help="directory holding n<N>/ workloads from workload.py")
    p.add_argument("--sizes", default="100,1000")
    p.add_argument("--runs", default="100:5:3:7,1000:5:1:5",
                   help="N:apply_runs:slow_apply_runs:quick_runs per size (slow = Alembic and sqitch's apply runs; "
                        "quick = no-op and status)")
    p.add_argument("--engines", default="sqlite,postgres")
    p.add_argument("--strata")
    p.add_argument("--dbmate")
    p.add_argument("--measure", help="the strata_bench_measure launcher")
    p.add_argument("--psql", default=PSQL, help="the psql binary (not Debian's /usr/bin/psql wrapper)")
    p.add_argument("--compiler", default="")
    p.add_argument("--micro-json", help="Google Benchmark JSON output to include")
    p.add_argument("--out", required=True, help="RESULTS.md to write")
    p.add_argument("--raw", help="also write every measurement as JSON here")
    p.add_argument("--render", metavar="RAW", help="only write --out again from the JSON a run wrote with --raw")
    p.add_argument("--profile", action="store_true", help="also profile strata with callgrind")
    p.add_argument("--started", type=float, help="when the whole bench began (epoch seconds), for the report")
    args = p.parse_args()
    if args.render:
        with open(args.render) as f:
            write_report(json.load(f), args.out)
        return
    for name in ("work", "strata", "dbmate", "measure"):
        if getattr(args, name) is None:
            p.error(f"--{name} is required")

    MEASURE = os.path.abspath(args.measure)
    PSQL = args.psql
    sizes = [int(x) for x in args.sizes.split(",")]
    runs_for = {}
    for item in args.runs.split(","):
        n, a, slow, q = (int(x) for x in item.split(":"))
        runs_for[n] = (a, slow, q)
    for n in sizes:
        runs_for.setdefault(n, (3, 2, 5))
    engines = args.engines.split(",")
    logdir = os.path.join(args.work, "logs")
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir)

    dbs_pg = None
    if "postgres" in engines:
        url = os.environ.get("STRATA_TEST_POSTGRES_URL")
        if not url:
            die("STRATA_TEST_POSTGRES_URL is not set (run under scripts/with-postgres)")
        dbs_pg = PostgresDatabases(url)
    fast_flag = fast_path_flag(args.strata)
    progress("strata fresh-database fast path: " + (f"`strata up {fast_flag}`" if fast_flag else "not implemented"))

    load_before = " ".join(open("/proc/loadavg").read().split()[:3])
    results = []
    for n in sizes:
        for engine in engines:
            dbs = SqliteDatabases(os.path.join(args.work, "db")) if engine == "sqlite" else dbs_pg
            apply_runs, slow_runs, quick_runs = runs_for[n]
            progress(f"{engine} N={n}: {apply_runs} apply runs per tool ({slow_runs} for "
                     f"{' and '.join(SLOW_TOOLS)}), {quick_runs} no-op and status runs")
            bench_engine(dbs, n, apply_runs, slow_runs, quick_runs, args, fast_flag, logdir, results)
            if args.raw:  # as we go, so an interrupted run leaves its figures
                with open(args.raw, "w") as f:
                    json.dump({"results": results}, f, indent=1)
    load_after = " ".join(open("/proc/loadavg").read().split()[:3])
    profiles = []
    if args.profile:
        dbs_by_engine = {}
        for engine in engines:
            dbs_by_engine[engine] = SqliteDatabases(os.path.join(args.work, "db")) if engine == "sqlite" else dbs_pg
        profiles = profile_strata(args, dbs_by_engine, max(sizes), logdir)
    micro = None
    if args.micro_json:
        with open(args.micro_json) as f:
            micro = json.load(f)
    commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always",
                             "--dirty"], capture_output=True, text=True).stdout.strip() or "unknown"
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "elapsed": time.time() - args.started if args.started else time.monotonic() - START,
        "load_before": load_before, "load_after": load_after,
        "machine": machine(args, dbs_pg), "fast_flag": fast_flag, "sizes": sizes,
        "runs_for": {str(n): v for n, v in runs_for.items()},
        "results": results, "profiles": profiles, "micro": micro,
    }
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(report, f, indent=1)
    write_report(report, args.out)
    progress(f"wrote {args.out}")


if __name__ == "__main__":
    main()
