-- v3 -> v5 (compatible with v4+): Add things
-- transaction: off
CREATE INDEX CONCURRENTLY i ON t (x);
