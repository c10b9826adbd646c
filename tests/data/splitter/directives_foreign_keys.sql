-- strata: foreign-keys off
-- strata: cannot change table t without a rebuild (column x: type TEXT -> BLOB)
-- strata: possible rename a -> b
CREATE TABLE b (id INTEGER);

-- strata: possible rename b.x -> b.y
ALTER TABLE b ADD COLUMN y TEXT;
