SELECT 1;
-- strata: no-transaction
SELECT 2; -- strata: breaking
SELECT 3; -- only: postgres
SELECT 4;
