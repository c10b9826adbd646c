-- v4: Postgres-only upgrade
-- only: postgres
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX t_trgm ON t USING gin (name gin_trgm_ops);
