#!/usr/bin/env bash
# tests/embed/run.sh SOURCE_DIR WORK_DIR GENERATOR
#
# Checks that strata_embed_migrations embeds a directory byte for byte and
# regenerates when a file changes, is added or is removed, and only then.
set -euo pipefail
src=$1 work=$2 generator=$3
rm -rf "$work"
mkdir -p "$work/project/migrations"
cp "$src/tests/embed/CMakeLists.txt" "$work/project/"
m=$work/project/migrations
build=$work/build

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect "<line>"...: the probe's output
  local got want
  got=$("$build/probe")
  want=$(printf '%s\n' "$@")
  [[ "$got" == "$want" ]] || fail "expected:"$'\n'"$want"$'\n'"got:"$'\n'"$got"
}
rebuild() { cmake --build "$build" >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build failed"; }; }

printf 'SELECT 1;' >"$m/0001_a.sql"
printf 'ignored' >"$m/.hidden"
: >"$m/0002_empty.sql"
cmake -S "$work/project" -B "$build" -G "$generator" -DSTRATA_SOURCE_DIR="$src" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; fail "configure failed"; }
rebuild
expect "migrations" "0001_a.sql 9 SELECT 1;" "0002_empty.sql 0 "

# Nothing changed: the generator does not run again.
rebuild
if grep -q "Embedding migrations" "$work/build.log"; then fail "regenerated without a change"; fi
# Nor when CMake re-runs for another reason: the file list is rewritten only when it changes.
touch "$work/project/CMakeLists.txt"
rebuild
if grep -q "Embedding migrations" "$work/build.log"; then fail "regenerated after an unrelated re-configure"; fi

sleep 1  # coarse file-system timestamps
printf 'SELECT 11;' >"$m/0001_a.sql"
rebuild
grep -q "Embedding migrations" "$work/build.log" || fail "an edit did not regenerate"
expect "migrations" "0001_a.sql 10 SELECT 11;" "0002_empty.sql 0 "

printf 'SELECT "3";\n' >"$m/0003_c.sql"
rebuild
expect "migrations" "0001_a.sql 10 SELECT 11;" "0002_empty.sql 0 " '0003_c.sql 12 SELECT "3";'

rm "$m/0001_a.sql"
rebuild
expect "migrations" "0002_empty.sql 0 " '0003_c.sql 12 SELECT "3";'

# Every byte value survives.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >"$m/0004_bytes.sql"
rm "$m/0002_empty.sql" "$m/0003_c.sql"
rebuild
size=$("$build/probe" | head -c 1000 | sed -n 2p | cut -d' ' -f2)
[[ "$size" == 256 ]] || fail "a 256-byte file embedded as $size bytes"
cmp <(python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))') \
  <("$build/probe" | tail -c +$((1 + $(printf 'migrations\n0004_bytes.sql 256 ' | wc -c))) | head -c 256) ||
  fail "bytes changed on the way"
echo "embed: all checks passed"
