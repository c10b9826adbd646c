SELECT 'a;b', 'it''s; fine', '';
SELECT '--not a comment', '/* nor this */';
SELECT "weird;""name""", 'multi
line; string';
INSERT INTO t VALUES ('''');
SELECT 'x' 'y';
