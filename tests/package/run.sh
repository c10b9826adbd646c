#!/usr/bin/env bash
# tests/package/run.sh SOURCE_DIR BUILD_DIR WORK_DIR GENERATOR
#
# Installs BUILD_DIR to a fresh prefix under WORK_DIR, then, against that
# copy only: builds tests/package with find_package(strata) and runs it;
# compiles it again with the flags from `pkg-config strata` and runs that;
# and runs the installed CLI. The consumer uses PostgreSQL too when
# STRATA_TEST_POSTGRES_URL is set (scripts/with-postgres sets it).
# CXXFLAGS/LDFLAGS from the environment reach both builds (sanitizers).
set -euo pipefail
src=$1 build=$2 work=$3 generator=$4
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
quiet() {  # quiet LOG CMD...: run, show the log only on failure
  local log=$1; shift
  "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "$*"; }
}

quiet "$work/install.log" cmake --install "$build" --prefix "$prefix"
for f in include/strata/pool.hpp include/strata/upgrade_table.hpp lib/cmake/strata/strataConfig.cmake \
  lib/cmake/strata/strataConfigVersion.cmake lib/cmake/strata/strataTargets.cmake \
  lib/cmake/strata/StrataEmbed.cmake lib/cmake/strata/StrataQueries.cmake lib/pkgconfig/strata.pc bin/strata; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done
ls "$prefix"/lib/libstrata.* >/dev/null 2>&1 || fail "not installed: lib/libstrata"

# find_package, with nothing of the source or build tree on the search path.
quiet "$work/configure.log" cmake -S "$src/tests/package" -B "$work/build" -G "$generator" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Debug
quiet "$work/build.log" cmake --build "$work/build"
"$work/build/consumer" "$src/tests/package/migrations"

# pkg-config, by hand (no embedding: that is the CMake function's job).
if command -v pkg-config >/dev/null 2>&1; then
  flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs strata)
  quiet "$work/pkgconfig.log" "${CXX:-c++}" -std=c++20 ${CXXFLAGS:-} "$src/tests/package/main.cpp" \
    -o "$work/consumer-pc" $flags ${LDFLAGS:-}
  "$work/consumer-pc" "$src/tests/package/migrations" >/dev/null
  echo "pkg-config build: ok"
fi

"$prefix/bin/strata" --help >/dev/null || fail "the installed CLI does not run"
echo "package: all checks passed"
