-- Keep notes.updated_at current. PostgreSQL needs a function; its body is dollar-quoted.
CREATE FUNCTION notes_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'); -- a ';' inside
    RETURN NEW;
END;
$$;
CREATE TRIGGER notes_touch BEFORE UPDATE OF title, body ON notes
    FOR EACH ROW EXECUTE FUNCTION notes_touch();
