-- SQL-standard function body: BEGIN ATOMIC ... END is one statement.
CREATE FUNCTION user_count() RETURNS bigint LANGUAGE sql
BEGIN ATOMIC
  SELECT count(*) FROM users;
END;
CREATE VIEW user_total AS SELECT user_count() AS n;
