CREATE TABLE rooms (
    room_id TEXT PRIMARY KEY,
    creator TEXT REFERENCES users (name),
    is_public BOOLEAN
);
