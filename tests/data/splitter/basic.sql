CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);

INSERT INTO users (id, name) VALUES (1, 'alice');
  INSERT INTO users (id, name) VALUES (2, 'bob');
SELECT count(*) FROM users
