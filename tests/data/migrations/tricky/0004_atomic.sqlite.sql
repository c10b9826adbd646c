CREATE VIEW user_total AS SELECT count(*) AS n FROM users;
