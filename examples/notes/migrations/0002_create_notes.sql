-- Notes belong to a user; deleting the user deletes the notes.
CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',   -- may hold ';' and '' quotes
    updated_at  TEXT
);
CREATE INDEX notes_by_user ON notes (user_id);
