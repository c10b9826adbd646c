# A Synapse-style Python delta. strata runs it only through a registered C++
# step bound to "13/01backfill_guests.py" (or skips it with --skip-code-deltas).
def run_upgrade(cur, database_engine, *args, **kwargs):
    cur.execute("UPDATE users SET is_guest = 0 WHERE is_guest IS NULL")
