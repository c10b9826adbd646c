-- only: mysql
SELECT 1;
-- only: postgres and something
SELECT 2;
-- only: sqlite for next two lines
SELECT 3;
-- end only postgres
SELECT 4;
-- only: postgres until "end only"
SELECT 5;
-- end only sqlite
SELECT 6;
-- only: sqlite until "end only"
SELECT 7;
