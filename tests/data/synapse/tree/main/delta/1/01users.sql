CREATE TABLE users (
    name TEXT PRIMARY KEY,
    password_hash TEXT,   -- may be NULL; it's "fine"
    creation_ts BIGINT
);
