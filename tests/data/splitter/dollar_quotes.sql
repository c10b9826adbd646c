CREATE FUNCTION add_one(integer) RETURNS integer AS $$
  SELECT $1 + 1; -- a comment with 'quote'
$$ LANGUAGE sql;
CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $fn$
BEGIN
  RETURN $$it's; nested$$ || $other$ ; $other$ || 'x;y';
END;
$fn$;
SELECT $_tag1$ ;; $_tag1$, $Tag$ $tag$ ; $Tag$;
SELECT a$b$c, price$ FROM t WHERE x = $2 AND y = $10;
SELECT $a$one$a$$b$two$b$;
SELECT $1$$x;y$$;
SELECT 3 $ 4;
