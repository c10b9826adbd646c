SELECT 1;
SELECT 'last'   -- no terminator, and a trailing comment without a newline