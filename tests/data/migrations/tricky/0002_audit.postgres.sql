-- A dollar-quoted function holding ';', quotes and another dollar tag.
CREATE TABLE audit (user_id INTEGER, what TEXT);
CREATE FUNCTION users_audit() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO audit (user_id, what)
    VALUES (NEW.id, CASE WHEN NEW.name LIKE '%;%' THEN 'semi;colon' ELSE 'plain' END);
  INSERT INTO audit (user_id, what) VALUES (NEW.id, $q$second; statement$q$);
  RETURN NEW;
END;
$fn$;
CREATE TRIGGER users_audit AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_audit();
INSERT INTO users (id, name) VALUES (3, E'trigger; test');
