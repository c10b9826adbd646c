-- v2: Add a column
-- transaction: on
ALTER TABLE t ADD COLUMN x INTEGER;
