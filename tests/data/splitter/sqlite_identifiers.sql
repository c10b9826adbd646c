CREATE TABLE [my;table] ([a;b] INTEGER, `c;d` TEXT, `e``;f` TEXT);
SELECT [my;table].[a;b] FROM [my;table];
SELECT `x;y`;
