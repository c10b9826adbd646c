#!/usr/bin/env python3
"""bench/schema/run.py: strata's schema reader and differ on a 1,000-table schema.

Builds one database per engine holding N tables (10 columns, 2 indexes and 1
foreign key each), then times, on that same database:
  - the engine's own schema client: `sqlite3 DB .schema` and `pg_dump -s`
    (whole processes, start-up and connection included);
  - strata::schema::inspect() in process (bench/schema/schema_bench.cpp),
    after the connection is open, and `strata diff --from URL --to URL`
    as a whole process (two inspections and a diff);
  - strata::schema::diff() plus Diff::sql() on the inspected model: with
    itself, with 10% of the tables changed, and with the empty schema.
Prints a Markdown section (and writes it with --out). Nothing asserts a
timing. PostgreSQL: run under scripts/with-postgres (STRATA_TEST_POSTGRES_URL).

  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_BENCHMARKS=ON
  cmake --build build-bench --target strata_cli strata_schema_bench
  scripts/with-postgres bench/schema/run.py --build build-bench --out bench/schema/RESULTS.md
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def schema_sql(engine, n):
    pg = engine == "postgres"
    out = []
    for i in range(n):
        parent = f"t{i - 1}" if i > 0 else "t0"
        out.append(
            f"CREATE TABLE t{i} (\n"
            f"  id integer PRIMARY KEY,\n"
            f"  parent_id integer REFERENCES {parent} (id) ON DELETE CASCADE,\n"
            f"  name text NOT NULL,\n"
            f"  email varchar(100),\n"
            f"  amount numeric(10,2) DEFAULT 0,\n"
            f"  score real,\n"
            f"  active boolean NOT NULL DEFAULT {'true' if pg else '1'},\n"
            f"  created_at timestamp DEFAULT CURRENT_TIMESTAMP,\n"
            f"  payload {'bytea' if pg else 'BLOB'},\n"
            f"  note text\n"
            f");\n"
            f"CREATE INDEX t{i}_name_idx ON t{i} (name);\n"
            f"CREATE UNIQUE INDEX t{i}_email_idx ON t{i} (email);\n")
    return "".join(out)


def timed(cmd, runs, env=None):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, env=env)
        times.append((time.perf_counter() - start) * 1000)
    return times


def median(v):
    return statistics.median(v)


def fmt_ms(v):
    return f"{v:.1f} ms" if v >= 1 else f"{v * 1000:.0f} µs"


def bench_engine(engine, args, work):
    n = args.tables
    sql = schema_sql(engine, n)
    if engine == "sqlite":
        path = os.path.join(work, "schema.db")
        if os.path.exists(path):
            os.remove(path)
        subprocess.run(["sqlite3", path], input="BEGIN;\n" + sql + "COMMIT;\n", text=True, check=True)
        url = "sqlite:" + path
        client_name = "`sqlite3 DB .schema`"
        client = ["sqlite3", path, ".schema"]
    else:
        server = os.environ.get("STRATA_TEST_POSTGRES_URL")
        if not server:
            sys.exit("PostgreSQL: run under scripts/with-postgres (STRATA_TEST_POSTGRES_URL)")
        base = server.rsplit("/", 1)[0]
        subprocess.run(["psql", server, "-qc", "DROP DATABASE IF EXISTS strata_bench_schema"], check=True)
        subprocess.run(["psql", server, "-qc", "CREATE DATABASE strata_bench_schema"], check=True)
        url = base + "/strata_bench_schema"
        subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-1"], input=sql, text=True, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE"], check=True)
        client_name = "`pg_dump -s`"
        client = ["pg_dump", "-s", "-d", url]

    bench = os.path.join(args.build, "strata_schema_bench")
    strata = os.path.join(args.build, "strata")
    # Warm both once (caches, catalog pages), then interleave.
    subprocess.run(client, stdout=subprocess.DEVNULL, check=True)
    client_ms, strata_proc_ms, inproc = [], [], None
    for _ in range(args.runs):
        client_ms += timed(client, 1)
        strata_proc_ms += timed([strata, "diff", "--from", url, "--to", url, "--exit-code"], 1)
    out = subprocess.run([bench, url, str(args.runs)], capture_output=True, text=True, check=True)
    inproc = json.loads(out.stdout)
    assert inproc["tables"] == n, inproc
    return {
        "engine": engine, "client_name": client_name, "client_ms": client_ms,
        "strata_diff_process_ms": strata_proc_ms, **inproc,
    }


def report(results, args):
    lines = [
        "## Schema inspection and diff (bench/schema/run.py)",
        "",
        f"{args.tables} tables, each with 10 columns, 2 indexes and 1 foreign key, in one database per "
        f"engine; median of {args.runs} runs. The client rows are whole processes (start-up and connection "
        "included); `inspect()` is in process on an open connection (connect time shown apart); "
        "`strata diff --from URL --to URL` is a whole process that inspects twice and diffs. The diff rows "
        "time `diff()` plus rendering its SQL on the inspected model.",
        "",
        "| engine | what | median | min–max | × client |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for r in results:
        c = median(r["client_ms"])
        rows = [
            (r["client_name"], r["client_ms"]),
            ("strata `inspect()` (in process)", r["inspect_ms"]),
            ("strata `inspect()` + connect", [x + r["connect_ms"] for x in r["inspect_ms"]]),
            ("`strata diff --from URL --to URL` (process)", r["strata_diff_process_ms"]),
            ("`diff()`: the schema with itself", r["diff_same_ms"]),
            (f"`diff()`: 10% of tables changed ({r['diff_changed_statements']} statements)", r["diff_changed_ms"]),
            (f"`diff()`: to the empty schema ({r['diff_drop_statements']} statements)", r["diff_drop_ms"]),
        ]
        for name, v in rows:
            lines.append(f"| {r['engine']} | {name} | {fmt_ms(median(v))} | {fmt_ms(min(v))}–{fmt_ms(max(v))} "
                         f"| {median(v) / c:.2f}× |")
    lines.append("")
    lines.append("Targets: `inspect()` ≤ 1.5× the engine's client; the diff computation ≤ 50 ms.")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build-bench", help="directory with strata and strata_schema_bench")
    p.add_argument("--tables", type=int, default=1000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--engines", default="sqlite,postgres")
    p.add_argument("--out", help="also write the section to this file")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as work:
        results = [bench_engine(e, args, work) for e in args.engines.split(",")]
    text = report(results, args)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
