ALTER TABLE background_updates ADD COLUMN ordering INT NOT NULL DEFAULT 0;
