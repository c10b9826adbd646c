-- Users; with CRLF line endings and no final semicolon.
-- It's a comment with a quote ' and a ; in it.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL /* ; ' */
);
INSERT INTO users (id, name) VALUES (1, 'O''Brien; Jr.'), (2, 'zoë ünïcödé')