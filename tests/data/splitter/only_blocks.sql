-- only: sqlite until "end only"
CREATE TRIGGER test AFTER INSERT ON foo WHEN NEW.data->>'action' = 'delete' BEGIN
	DELETE FROM test WHERE key <= NEW.data->>'index';
END;
-- end only sqlite
-- only: postgres until "end only"
CREATE FUNCTION delete_data() RETURNS TRIGGER LANGUAGE plpgsql AS $$ BEGIN
	DELETE FROM test WHERE key <= NEW.data->>'index';
	RETURN NEW;
END $$;
-- end only postgres
-- only: postgres for next 2 lines
CREATE INDEX a ON foo (data);
CREATE INDEX b ON foo (data);
SELECT 'both';
