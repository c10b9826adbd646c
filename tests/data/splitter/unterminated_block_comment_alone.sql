SELECT 1;
/* not closed /* nested */
SELECT 3;
