SELECT E'it\'s; here', e'back\\slash', E'quote '' doubled;';
SELECT E'\\';
SELECT 1 AS e, 'plain \' AS not_escaped;
SELECT typE'x';
