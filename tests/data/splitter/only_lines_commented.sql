-- v8: Commented lines
-- only: postgres until "end only" (lines commented)
--CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
--CREATE INDEX pg_only ON t (x);
-- end only postgres
-- only: sqlite for next 1 line (line commented)
--CREATE INDEX lite_only ON t (x);
-- only: postgres (lines commented)
--SELECT 'pg';
SELECT 'both';
-- only: sqlite until "end only" (lines commented)
not commented;
-- end only sqlite
