CREATE TABLE receipts (
    room_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    UNIQUE (room_id, user_id)
);
