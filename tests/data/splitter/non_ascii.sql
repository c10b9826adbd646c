-- Données: «café»; naïve
INSERT INTO café (naïve, 名前) VALUES ('crème; brûlée', '日本語;テキスト');
SELECT "ünïcödé;" FROM t; SELECT 'ok' AS 名前;
SELECT $é$ ; $é$;
