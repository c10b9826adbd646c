SELECT $$$$;
SELECT $$a$$E'x\'y;';
SELECT $q$ $Q$ ; $q$;
SELECT 1 FROM t WHERE a = $1;SELECT $2;
SELECT $x$$;
$x$;
SELECT $%AUTO;
SELECT E'\\\\'';';
