#!/usr/bin/python3
"""bench/port/run.py: strata port of a SQLite database to PostgreSQL, paired
with pgloader and with the floor (per table, `sqlite3 -csv` piped into psql's
`\\copy`), at two sizes, reporting rows/s, ratios and peak RSS.

Run under scripts/with-postgres (it reads STRATA_TEST_POSTGRES_URL):

  scripts/with-postgres bench/port/run.py --strata build-bench/strata [--rows 100000,1000000] [--runs 3]

The source: 3 tables made by one migration that both engines run
(users 30%, events 60% with a foreign key to users, blobs 10%), with
booleans, doubles, blobs, JSON, timestamps, unicode and NULLs. Each run
ports into a new database: strata and pgloader into an empty one (each
creates the schema: strata by running the migrations, pgloader from the
SQLite catalog), the floor into one migrated beforehand (not timed), with
its foreign key dropped (strata drops and restores foreign keys itself). Times are wall clock of the whole process
(pipeline, for the floor); peak RSS is the largest resident set of the
process (GNU time's %M; for the floor, the larger of sqlite3 and psql).
Nothing asserts a timing.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

MIGRATION = """CREATE TABLE users (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  active BOOLEAN NOT NULL,
  score DOUBLE PRECISION,
  created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE events (
  id BIGINT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users (id),
  kind TEXT NOT NULL,
  doc JSONB,
  seen BOOLEAN
);
CREATE TABLE blobs (
  id BIGINT PRIMARY KEY,
  data BYTEA NOT NULL,
  note TEXT
);
CREATE INDEX events_user ON events (user_id);
"""

# (table, SELECT for the floor's sqlite3 -csv: blobs as PostgreSQL's hex bytea input)
FLOOR = [
    ("users", "SELECT id, name, active, score, created_at FROM users ORDER BY id"),
    ("events", "SELECT id, user_id, kind, doc, seen FROM events ORDER BY id"),
    ("blobs", "SELECT id, '\\x' || hex(data), note FROM blobs ORDER BY id"),
]


def fill_sql(rows):
    u, e = rows * 3 // 10, rows * 6 // 10
    b = rows - u - e
    return f"""
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {u})
INSERT INTO users SELECT i, 'user ' || i || ' ünïcødé ✓', i % 2,
  CASE WHEN i % 5 = 0 THEN NULL ELSE i * 0.25 END,
  strftime('%Y-%m-%d %H:%M:%S', 1600000000 + i, 'unixepoch') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {e})
INSERT INTO events SELECT i, 1 + (i * 7) % {u}, 'kind-' || (i % 17),
  CASE WHEN i % 3 = 0 THEN NULL ELSE json_object('i', i, 'tag', 'x' || (i % 11), 'ok', json('true')) END,
  CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {b})
INSERT INTO blobs SELECT i, randomblob(64), CASE WHEN i % 2 = 0 THEN NULL ELSE printf('%.200c', 'x') END FROM n;
COMMIT;
"""


def with_db(url, name):
    p = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None):
    """(seconds, peak RSS in KiB) of a shell command run under GNU time."""
    fd, out = tempfile.mkstemp()
    os.close(fd)
    t = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-o", out, "-f", "%M", "bash", "-c", cmd], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - t
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {cmd}\n{r.stderr[-2000:]}")
    with open(out) as f:
        rss = int(f.read().strip().splitlines()[-1])
    os.unlink(out)
    return elapsed, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", required=True)
    ap.add_argument("--rows", default="100000,1000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--psql", default=sorted(
        p for p in (f"/usr/lib/postgresql/{v}/bin/psql" for v in range(12, 20)) if os.path.exists(p))[-1])
    args = ap.parse_args()
    base = os.environ["STRATA_TEST_POSTGRES_URL"]
    strata = os.path.realpath(args.strata)
    psql = args.psql
    work = tempfile.mkdtemp(prefix="port-bench-")
    os.makedirs(f"{work}/migrations")
    with open(f"{work}/migrations/0001_schema.sql", "w") as f:
        f.write(MIGRATION)
    counter = [0]

    def new_db():
        counter[0] += 1
        name = f"port_bench_{counter[0]}"
        sh([psql, "-q", base, "-c", f"CREATE DATABASE {name}"],
           stdout=subprocess.DEVNULL)
        return name

    def drop_db(name):
        sh([psql, "-q", base, "-c", f"DROP DATABASE IF EXISTS {name}"], stdout=subprocess.DEVNULL)

    def count(url):
        out = subprocess.run([psql, "-At", url, "-c",
                              "SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM events) + "
                              "(SELECT count(*) FROM blobs)"], check=True, capture_output=True, text=True)
        return int(out.stdout.strip())

    pgloader = subprocess.run(["pgloader", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"# bench/port results\n")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} cores; load before "
          f"{os.getloadavg()[0]:.2f}; {pgloader}; strata {strata}. Generated by `bench/port/run.py`; "
          f"read ratios taken side by side, not absolute times.\n")
    for rows in [int(x) for x in args.rows.split(",")]:
        src = f"{work}/src-{rows}.db"
        sh([strata, "up", "-d", f"sqlite:{src}", "-s", f"{work}/migrations"], stdout=subprocess.DEVNULL)
        sh(["sqlite3", src], input=fill_sql(rows), text=True, stdout=subprocess.DEVNULL)
        results = {"floor": [], "strata": [], "pgloader": []}
        for run in range(args.runs):
            order = ["floor", "strata", "pgloader"]
            order = order[run % 3:] + order[:run % 3]
            for tool in order:
                name = new_db()
                url = with_db(base, name)
                if tool == "strata":
                    cmd = f"'{strata}' port --from 'sqlite:{src}' --to '{url}' -s '{work}/migrations'"
                elif tool == "pgloader":
                    cmd = f"pgloader --quiet 'sqlite://{src}' '{url}'"
                else:
                    sh([strata, "up", "-d", url, "-s", f"{work}/migrations"], stdout=subprocess.DEVNULL)
                    # The raw copy: no foreign key checked row by row (strata drops and restores them too).
                    sh([psql, "-q", url, "-c", "ALTER TABLE events DROP CONSTRAINT events_user_id_fkey"],
                       stdout=subprocess.DEVNULL)
                    parts = [f"sqlite3 -csv '{src}' \"{sel}\" | '{psql}' -q '{url}' -c \"\\copy {t} FROM STDIN WITH (FORMAT csv)\""
                             for t, sel in FLOOR]
                    cmd = " && ".join(parts)
                secs, rss = timed(cmd)
                got = count(url)
                if got != rows:
                    sys.exit(f"{tool}: {got} rows on the target, expected {rows}")
                results[tool].append((secs, rss))
                drop_db(name)
        print(f"## {rows:,} rows (users {rows * 3 // 10:,}, events {rows * 6 // 10:,}, blobs "
              f"{rows - rows * 3 // 10 - rows * 6 // 10:,})\n")
        print("| tool | median | min–max | runs | rows/s | × floor's rows/s | peak RSS |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        floor = statistics.median(s for s, _ in results["floor"])
        for tool, label in [("floor", "floor: `sqlite3 -csv` \\| `psql \\copy`, per table"),
                            ("strata", "**strata port**"), ("pgloader", "pgloader")]:
            secs = [s for s, _ in results[tool]]
            med = statistics.median(secs)
            rss = max(r for _, r in results[tool])
            print(f"| {label} | {med:.2f} s | {min(secs):.2f}–{max(secs):.2f} s | {len(secs)} | "
                  f"{rows / med:,.0f} | {floor / med:.2f}× | {rss / 1024:.1f} MiB |")
        print()
    sh(["rm", "-rf", work])


if __name__ == "__main__":
    main()
