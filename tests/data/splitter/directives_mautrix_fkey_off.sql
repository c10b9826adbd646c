-- v7 (compatible with v6+): Rebuild a table
-- transaction: sqlite-fkey-off
CREATE TABLE t2 (id INTEGER PRIMARY KEY);
