-- a comment before the first statement; with 'quotes' and "dq"
/* a block comment ; ' " */
SELECT 1 -- a trailing comment; with a semicolon
;
SELECT /* inside; kept */ 2;  -- after the semicolon: belongs to nothing
-- leading comment of the third statement
SELECT 3
  -- a comment before the terminator
  /* and another */ ;
SELECT 4 - -1, 4/2, 4 /2, 5--3
;
SELECT 5 /* last statement, comment at the end of the input */