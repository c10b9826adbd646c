#!/usr/bin/python3
"""Background-update throughput: `strata bg run` against the floor.

For each engine, two identical tables t(id, y, x) of N rows are built. The
floor is one plain `UPDATE t SET x = y * 2` over the whole table, in one
transaction (what a migration would do if it could hold the table that
long). The background update does the same work with the built-in
strata.sql_batches handler, queued by a plain INSERT and run to completion by
`strata bg run --json`; the report gives rows per second for both, the ratio,
and the batch-size trace (how the runner sized batches toward the target).

    bench/bg/bench_bg.py --strata build-bench/strata --engines sqlite
    scripts/with-postgres bench/bg/bench_bg.py --strata build-bench/strata --engines sqlite,postgres

PostgreSQL needs STRATA_TEST_POSTGRES_URL (scripts/with-postgres sets it) and
psql. Stdlib only (sqlite3 module, subprocess); nothing here asserts a timing.
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

PSQL_CANDIDATES = ["/usr/lib/postgresql/15/bin/psql", shutil.which("psql") or ""]
SQL = "UPDATE {t} SET x = y * 2 WHERE id > $1 AND id <= $2"


def psql_binary():
    for p in PSQL_CANDIDATES:
        if p and os.access(p, os.X_OK):
            return p
    sys.exit("bench_bg: psql not found")


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def queue_insert(name, table):
    progress = json.dumps({"table": table, "key": "id", "sql": SQL.format(t=table)})
    return (
        "INSERT INTO strata_background_updates (update_name, handler, progress_json) "
        f"VALUES ('{name}', 'strata.sql_batches', '{progress}')"
    )


def strata_bg(strata, url, workdir, args):
    """Runs `strata bg run --json`; returns (wall seconds, summary)."""
    start = time.perf_counter()
    out = run([strata, "bg", "run", "-d", url, "--json", *args], cwd=workdir).stdout
    return time.perf_counter() - start, json.loads(out)


def create_queue(strata, url, workdir):
    # `strata up` creates the history and queue tables (a source needs one file).
    os.makedirs(os.path.join(workdir, "migrations"), exist_ok=True)
    with open(os.path.join(workdir, "migrations", "0001_bench.sql"), "w") as f:
        f.write("CREATE TABLE bench_marker (id INTEGER);\n")
    run([strata, "up", "-d", url, "-s", "migrations"], cwd=workdir)


def bench_sqlite(strata, rows, workdir, args):
    path = os.path.join(workdir, "bench.db")
    url = "sqlite:" + path
    create_queue(strata, url, workdir)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for t in ("t_floor", "t_bg"):
        db.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, y INTEGER NOT NULL, x INTEGER)")
        db.execute(
            f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) "
            f"INSERT INTO {t} (id, y) SELECT i, i % 1000 FROM s"
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.execute("UPDATE t_floor SET x = y * 2")
    db.execute("COMMIT")
    floor = time.perf_counter() - start
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute(queue_insert("bench_backfill", "t_bg"))
    db.close()
    wall, summary = strata_bg(strata, url, workdir, args)
    check = sqlite3.connect(path).execute("SELECT count(*) FROM t_bg WHERE x = y * 2").fetchone()[0]
    return floor, wall, summary, check


def bench_postgres(strata, rows, workdir, args):
    server = os.environ.get("STRATA_TEST_POSTGRES_URL")
    if not server:
        sys.exit("bench_bg: PostgreSQL needs STRATA_TEST_POSTGRES_URL (run under scripts/with-postgres)")
    psql = psql_binary()
    name = f"strata_bg_bench_{os.getpid()}"
    run([psql, server, "-qc", f"DROP DATABASE IF EXISTS {name}"])
    run([psql, server, "-qc", f"CREATE DATABASE {name}"])
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        create_queue(strata, url, workdir)
        for t in ("t_floor", "t_bg"):
            run([psql, url, "-qc", f"CREATE TABLE {t} (id BIGINT PRIMARY KEY, y INTEGER NOT NULL, x INTEGER)"])
            run([psql, url, "-qc", f"INSERT INTO {t} (id, y) SELECT i, i % 1000 FROM generate_series(1, {rows}) i"])
            run([psql, url, "-qc", f"VACUUM ANALYZE {t}"])
        run([psql, url, "-qc", "CHECKPOINT"])
        start = time.perf_counter()
        run([psql, url, "-qc", "UPDATE t_floor SET x = y * 2"])
        floor = time.perf_counter() - start
        run([psql, url, "-qc", "CHECKPOINT"])
        run([psql, url, "-qc", queue_insert("bench_backfill", "t_bg")])
        wall, summary = strata_bg(strata, url, workdir, args)
        check = int(run([psql, url, "-Atc", "SELECT count(*) FROM t_bg WHERE x = y * 2"]).stdout.strip())
    finally:
        run([psql, server, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    return floor, wall, summary, check


def rate(rows, seconds):
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", default="build/strata", help="the strata binary")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite", help="comma-separated: sqlite,postgres")
    parser.add_argument("--target-ms", type=int, default=100, help="passed to strata bg run")
    parser.add_argument("--json", help="also write the raw figures here")
    opts = parser.parse_args()
    strata = os.path.abspath(opts.strata)
    args = ["--target-ms", str(opts.target_ms)]

    results = []
    for engine in opts.engines.split(","):
        with tempfile.TemporaryDirectory(prefix="strata-bg-bench-") as workdir:
            bench = bench_sqlite if engine == "sqlite" else bench_postgres
            floor, wall, summary, check = bench(strata, opts.rows, workdir, args)
        if check != opts.rows:
            sys.exit(f"bench_bg: {engine}: only {check} of {opts.rows} rows were updated")
        trace = [b for b in summary["trace"] if b["update"] == "bench_backfill"]
        in_batches = sum(b["duration_us"] for b in trace) / 1e6
        results.append({"engine": engine, "rows": opts.rows, "floor_s": floor, "bg_wall_s": wall,
                        "bg_batch_s": in_batches, "batches": len(trace), "trace": trace})

    print(f"# strata bg run vs one plain UPDATE ({opts.rows:,} rows, target {opts.target_ms} ms per batch)\n")
    print("| engine | floor: one UPDATE | rows/s | strata bg run (wall) | rows/s | in batches | batches | bg rate / floor rate |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['engine']} | {r['floor_s']:.2f} s | {rate(r['rows'], r['floor_s'])} | {r['bg_wall_s']:.2f} s "
              f"| {rate(r['rows'], r['bg_wall_s'])} | {r['bg_batch_s']:.2f} s | {r['batches']} "
              f"| {r['floor_s'] / r['bg_wall_s']:.2f}x |")
    for r in results:
        sizes = ", ".join(f"{b['batch_size']}:{b['duration_us'] / 1000:.0f}ms" for b in r["trace"])
        print(f"\nBatch-size trace, {r['engine']} (size:duration): {sizes}")
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
