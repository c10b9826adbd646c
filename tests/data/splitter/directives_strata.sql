-- strata: no-transaction
--STRATA:Breaking
--   Strata :  compatible-with   42
-- an ordinary comment
CREATE INDEX CONCURRENTLY i ON t (x);
