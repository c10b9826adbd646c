/*
 * Copyright header; with a semicolon.
 */
;
-- strata: no-transaction
SELECT 1;
