CREATE TABLE events (
    stream_ordering INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    room_id TEXT NOT NULL,
    type TEXT NOT NULL
);
CREATE INDEX events_room ON events (room_id, stream_ordering);
