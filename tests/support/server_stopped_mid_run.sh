#!/usr/bin/env bash
# tests/support/server_stopped_mid_run.sh STRATA WORKDIR
#
# Run by scripts/with-postgres on a cluster of its own (the suite's shared
# server must not stop): starts `STRATA up` in WORKDIR, whose second migration
# sleeps, stops the server with an immediate shutdown (a crash, as far as the
# client can tell) while that migration runs, waits for strata, restarts the
# server and writes what the test checks into WORKDIR:
#   strata.code, strata.out, strata.err   strata's exit status and output
#   history   the versions recorded as applied, comma-separated
#   tables    whether tables a and b exist ("t,f")
set -u
strata=$1
work=$2
url=$STRATA_TEST_POSTGRES_URL
bindir=$STRATA_TEST_POSTGRES_BINDIR
data=$STRATA_TEST_POSTGRES_DATA
as_pg=()
[[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)
psql=("$bindir/psql" -X -q -A -t -d "$url")
cd "$work" || exit 1
# with-postgres starts the server with synchronous_commit off, with which a
# crash loses the last commits: the cluster's doing, not strata's. The
# database's own setting overrides the server's command line.
"${psql[@]}" -c "ALTER DATABASE postgres SET synchronous_commit = on" >/dev/null

"$strata" up -d "$url" >"$work/strata.out" 2>"$work/strata.err" &
pid=$!
running=
for _ in $(seq 400); do
  n=$("${psql[@]}" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()")
  if [[ "$n" == 1 ]]; then running=1; break; fi
  sleep 0.05
done
[[ -n "$running" ]] || echo "server_stopped_mid_run: the migration never started" >&2
"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w -s stop
wait "$pid"
echo $? >"$work/strata.code"
# restart reads the options of the last start (port, listen address).
"${as_pg[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/../restart.log" -w -t 60 -s restart >/dev/null 2>&1 ||
  echo "server_stopped_mid_run: the server did not restart" >&2
"${psql[@]}" -c "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') FROM strata_migrations WHERE success" >"$work/history"
"${psql[@]}" -c "SELECT (to_regclass('a') IS NOT NULL)::text || ',' || (to_regclass('b') IS NOT NULL)::text" >"$work/tables"
