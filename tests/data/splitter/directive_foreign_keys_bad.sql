-- strata: foreign-keys maybe
-- Strata: Foreign_Keys ON
SELECT 1;
