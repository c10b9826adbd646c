CREATE FUNCTION add(a integer, b integer) RETURNS integer
    LANGUAGE SQL
    IMMUTABLE
    RETURNS NULL ON NULL INPUT
    BEGIN ATOMIC
        SELECT CASE WHEN a > 0 THEN a + b ELSE b END;
    END;
CREATE OR REPLACE PROCEDURE insert_data(a integer, b integer)
LANGUAGE SQL
BEGIN ATOMIC
  INSERT INTO tbl VALUES (a);
  INSERT INTO tbl VALUES (b);
END;
create function nothing() returns void language sql begin atomic end;
CREATE FUNCTION g() RETURNS int RETURN 1;
SELECT 'after';
