-- A trigger whose body holds several statements and a CASE ... END.
CREATE TABLE audit (user_id INTEGER, what TEXT);
CREATE TRIGGER users_audit AFTER INSERT ON users
BEGIN
  INSERT INTO audit (user_id, what) VALUES (NEW.id, CASE WHEN NEW.name LIKE '%;%' THEN 'semi;colon' ELSE 'plain' END);
  INSERT INTO audit (user_id, what) VALUES (NEW.id, 'second; statement');
END;
INSERT INTO users (id, name) VALUES (3, 'trigger; test');
