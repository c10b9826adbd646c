-- Nothing to do in this migration.
-- It only has comments.

/* and a block comment;
   with a semicolon */
