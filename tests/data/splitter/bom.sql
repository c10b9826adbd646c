-- strata: no-transaction
SELECT 1;
SELECT 2;
