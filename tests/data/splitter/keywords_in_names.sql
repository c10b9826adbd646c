CREATE TABLE begin_end (case_id INTEGER, trigger_name TEXT, atomic INTEGER);
CREATE TABLE "trigger" (x);
SELECT begin, end FROM t;
CREATE VIEW v AS SELECT 1 AS atomic;
