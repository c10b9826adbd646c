#!/usr/bin/python3
"""Writes the benchmark workload: N migrations in every tool's format.

Each migration creates a table, indexes it and inserts 10 rows; every tool
runs each migration in its own transaction. The same SQL also goes into the
floors: one sqlite3 / psql process for the whole run, BEGIN/COMMIT around each
migration, with and without a history row per migration.

    workload.py --n 1000 --out DIR --pg-client /usr/lib/postgresql/15/bin/psql

Layout written under DIR (replaced if present):
    strata/migrations/0001_create_t0001.sql
    dbmate/db/migrations/20250101000001_create_t0001.sql  (-- migrate:up / -- migrate:down)
    alembic/alembic.ini, env.py, versions/r0001_create_t0001.py  (down_revision chain)
    sqitch/sqitch.conf, sqitch.plan, deploy/m0001.sql, revert/m0001.sql
    floor/{sqlite,postgres}.sql            the migrations, one transaction each
    floor/{sqlite,postgres}_history.sql    the same plus one history row each
    floor/{sqlite,postgres}_noop.sql       connect and read the history (the no-op floor)
Stdlib only; run with Debian's /usr/bin/python3.
"""

import argparse
import hashlib
import os
import shutil


def statements(i: int) -> list[str]:
    """The three statements of migration i; valid on SQLite and PostgreSQL."""
    t = f"t{i:05d}"
    rows = ",\n  ".join(f"({r}, 'row {r} of {t}', {i * 100 + r})" for r in range(1, 11))
    return [
        f"CREATE TABLE {t} (\n  id INTEGER PRIMARY KEY,\n  name TEXT NOT NULL,\n  value INTEGER NOT NULL\n)",
        f"CREATE INDEX {t}_name_idx ON {t} (name)",
        f"INSERT INTO {t} (id, name, value) VALUES\n  {rows}",
    ]


def body(i: int) -> str:
    return "".join(s + ";\n" for s in statements(i))


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def gen_strata(out: str, n: int, width: int) -> None:
    for i in range(1, n + 1):
        write(f"{out}/strata/migrations/{i:0{width}d}_create_t{i:05d}.sql", body(i))


def gen_dbmate(out: str, n: int) -> None:
    # dbmate versions are the digits before the first '_': timestamps by convention.
    for i in range(1, n + 1):
        version = 20250101000000 + i
        text = f"-- migrate:up\n{body(i)}\n-- migrate:down\nDROP TABLE t{i:05d};\n"
        write(f"{out}/dbmate/db/migrations/{version}_create_t{i:05d}.sql", text)


ALEMBIC_INI = """\
[alembic]
script_location = %(here)s
"""

# transaction_per_migration: one transaction per revision, like the others.
# On SQLite, Python's sqlite3 module would otherwise run the DDL outside any
# transaction; the two listeners are SQLAlchemy's documented fix, so the
# whole migration (and its alembic_version update) is one transaction.
ALEMBIC_ENV = """\
import os

from alembic import context
from sqlalchemy import create_engine, event
from sqlalchemy.pool import NullPool

url = os.environ["BENCH_DB_URL"]
engine = create_engine(url, poolclass=NullPool)
if url.startswith("sqlite"):
    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection, record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""


def gen_alembic(out: str, n: int) -> None:
    d = f"{out}/alembic"
    write(f"{d}/alembic.ini", ALEMBIC_INI)
    write(f"{d}/env.py", ALEMBIC_ENV)
    for i in range(1, n + 1):
        down = f'"r{i - 1:05d}"' if i > 1 else "None"
        calls = "\n".join(f"    op.execute({s!r})" for s in statements(i))
        text = (
            f'"""create t{i:05d}"""\n'
            "from alembic import op\n\n"
            f'revision = "r{i:05d}"\n'
            f"down_revision = {down}\n"
            "branch_labels = None\n"
            "depends_on = None\n\n\n"
            "def upgrade():\n"
            f"{calls}\n\n\n"
            "def downgrade():\n"
            f'    op.execute("DROP TABLE t{i:05d}")\n'
        )
        write(f"{d}/versions/r{i:05d}_create_t{i:05d}.py", text)


def gen_sqitch(out: str, n: int, pg_client: str, sqlite_client: str) -> None:
    d = f"{out}/sqitch"
    write(
        f"{d}/sqitch.conf",
        "[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n"
        f'[engine "pg"]\n\tclient = {pg_client}\n'
        f'[engine "sqlite"]\n\tclient = {sqlite_client}\n',
    )
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    for i in range(1, n + 1):
        name = f"m{i:05d}"
        plan.append(f"{name} 2025-01-01T00:00:00Z Bench <bench@example.org> # create t{i:05d}")
        # Sqitch's own templates wrap each script in BEGIN/COMMIT.
        write(f"{d}/deploy/{name}.sql", f"BEGIN;\n{body(i)}COMMIT;\n")
        write(f"{d}/revert/{name}.sql", f"BEGIN;\nDROP TABLE t{i:05d};\nCOMMIT;\n")
    write(f"{d}/sqitch.plan", "\n".join(plan) + "\n")


def gen_floors(out: str, n: int) -> None:
    d = f"{out}/floor"
    # Same session settings as strata's SQLite driver (WAL, foreign keys) and
    # the same BEGIN IMMEDIATE, so the floor does the same work as strata minus strata.
    sqlite_head = "PRAGMA journal_mode = WAL;\nPRAGMA foreign_keys = ON;\n"
    sqlite_hist = (
        "CREATE TABLE IF NOT EXISTS bench_history (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
        "checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, "
        "execution_time_us INTEGER NOT NULL, success INTEGER NOT NULL);\n"
    )
    pg_hist = (
        "CREATE TABLE IF NOT EXISTS bench_history (version BIGINT PRIMARY KEY, description TEXT NOT NULL, "
        "checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
        "execution_time_us BIGINT NOT NULL, success BOOLEAN NOT NULL);\n"
    )
    for engine, head, hist, begin, true in (
        ("sqlite", sqlite_head, sqlite_hist, "BEGIN IMMEDIATE;\n", "1"),
        ("postgres", "", pg_hist, "BEGIN;\n", "true"),
    ):
        plain, with_history = [head], [head, hist]
        for i in range(1, n + 1):
            text = body(i)
            plain.append(begin + text + "COMMIT;\n")
            digest = hashlib.sha384(text.encode()).hexdigest()
            row = (
                "INSERT INTO bench_history (version, description, checksum, execution_time_us, success) "
                f"VALUES ({i}, 'create_t{i:05d}', '{digest}', 0, {true});\n"
            )
            with_history.append(begin + text + row + "COMMIT;\n")
        write(f"{d}/{engine}.sql", "".join(plain))
        write(f"{d}/{engine}_history.sql", "".join(with_history))
        write(f"{d}/{engine}_noop.sql", "SELECT version, checksum FROM bench_history ORDER BY version;\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="number of migrations (default 1000)")
    p.add_argument("--out", required=True, help="directory to write (replaced)")
    p.add_argument("--pg-client", default="/usr/lib/postgresql/15/bin/psql")
    p.add_argument("--sqlite-client", default="/usr/bin/sqlite3")
    a = p.parse_args()
    if a.n < 1 or a.n > 99999:
        p.error("--n must be between 1 and 99999")
    width = max(4, len(str(a.n)))
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    gen_strata(a.out, a.n, width)
    gen_dbmate(a.out, a.n)
    gen_alembic(a.out, a.n)
    gen_sqitch(a.out, a.n, a.pg_client, a.sqlite_client)
    gen_floors(a.out, a.n)


if __name__ == "__main__":
    main()
