#!/usr/bin/env bash
# Times `strata lint` over 1,000 migration files (target: <= 1 s), on each
# engine. Each file creates a table, adds a column, indexes it and updates
# rows: about 4 statements, ~300 bytes. Usage: bench/lint_1000.sh [build dir]
set -euo pipefail
build=${1:-build}
strata=$(realpath "$build/strata")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/migrations"
for i in $(seq 1 1000); do
  v=$(printf '%04d' "$i")
  cat > "$dir/migrations/${v}_step.sql" <<SQL
-- migration $i
CREATE TABLE t$i (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT);
ALTER TABLE t$i ADD COLUMN note TEXT;
CREATE INDEX t${i}_name ON t$i (name);
UPDATE t$i SET note = 'x' WHERE name = 'y';
SQL
done
cd "$dir"
# The floor on SQLite: the sqlite3 client executing the same 4,000 statements
# on an empty in-memory database (what strata's scratch database does, minus
# the authorizer, the second prepare and the findings). Each ALTER TABLE makes
# SQLite re-parse the whole schema, so this floor grows with the square of
# the number of tables.
cat migrations/*.sql > all.sql
# CPU time (user + sys) as well as wall time: the wall clock of a shared
# machine says more about its other tenants than about strata.
TIMEFORMAT='%R s wall, %U s user, %S s sys'
echo "floor: sqlite3 :memory: executing all 4000 statements:"
time sqlite3 :memory: < all.sql > /dev/null
grep -v '^ALTER' all.sql > all-no-alter.sql
echo "floor: the same without the 1000 ALTER TABLE statements:"
time sqlite3 :memory: < all-no-alter.sql > /dev/null 2>&1 || true
for engine in postgres sqlite; do
  echo "$engine: lint of 1000 files (4000 statements, all pending):"
  time "$strata" lint --engine "$engine" > /dev/null
  echo "$engine: lint of 1000 files, 500 applied (replayed) and 500 pending:"
  time "$strata" lint --engine "$engine" --since 500 > /dev/null
done
