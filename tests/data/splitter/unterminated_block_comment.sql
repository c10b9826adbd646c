SELECT 1;
SELECT 2 /* not closed;
SELECT 3;
