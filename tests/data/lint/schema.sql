-- The schema every corpus case starts from: applied as migration 1, so its
-- tables are existing (in use) tables when a case runs as migration 2.
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, created_at TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total INTEGER);
CREATE INDEX orders_user ON orders(user_id);
