-- strata: no-transactions
-- strata: compatible-with
-- strata: compatible-with abc
-- strata: compatible-with 3
-- strata: compatible-with 4
-- strata:
-- strata: breaking change
-- transaction: maybe
SELECT 1;
