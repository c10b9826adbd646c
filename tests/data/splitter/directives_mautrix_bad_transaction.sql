-- v1: x
-- transaction: bogus
SELECT 1;
