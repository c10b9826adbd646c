-- strata: breaking
CREATE TABLE t (
    id INTEGER, -- comment
    v TEXT
);

INSERT INTO t VALUES (1, 'two
lines');
-- only: postgres
CREATE INDEX CONCURRENTLY t_v ON t (v);
   SELECT 'end'
