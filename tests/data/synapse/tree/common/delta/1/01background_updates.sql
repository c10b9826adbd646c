/* Tables every physical database has. */
CREATE TABLE background_updates (
    update_name TEXT NOT NULL,
    progress_json TEXT NOT NULL,
    CONSTRAINT background_updates_uniqueness UNIQUE (update_name)
);
