DELETE FROM users WHERE name = 'demo';
DROP TABLE tags;
