/* outer /* inner */ still a comment on postgres; */ SELECT 1;
SELECT 2 /* /* two deep */ */;
SELECT 3 /*/ not closed by the slash */;
SELECT 4 /**/;
SELECT 5 /* ** */;
