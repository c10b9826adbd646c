-- v4: SQLite-only upgrade
-- transaction: off
-- only: sqlite
PRAGMA foreign_keys = OFF;
VACUUM;
