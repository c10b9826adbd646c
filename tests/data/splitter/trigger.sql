CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, "end" INTEGER);
CREATE TRIGGER t_ins AFTER INSERT ON t
WHEN CASE WHEN NEW.a > 0 THEN 1 ELSE 0 END
BEGIN
  UPDATE t SET a = CASE WHEN a > 10 THEN 10 ELSE a END WHERE id = NEW.id;
  UPDATE t SET "end" = 1 WHERE id = NEW.id; -- a comment; here
  SELECT CASE WHEN NEW.a < 0 THEN RAISE(ABORT, 'negative; no') END;
  -- a comment between the last ';' and END
END;
create temp trigger if not exists t_upd before update of a on t begin
  select 1;
end ;
CREATE TEMPORARY TRIGGER t_del AFTER DELETE ON t BEGIN DELETE FROM t WHERE id = OLD.id; END
;
CREATE TABLE trigger_log (x);
SELECT 'after the triggers';
