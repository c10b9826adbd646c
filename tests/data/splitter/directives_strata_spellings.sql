-- strata: No_Transaction
-- strata: compatible with 7
SELECT 1;
