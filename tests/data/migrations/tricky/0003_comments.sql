/* A block comment; with ' quotes " and ; semicolons */
CREATE TABLE "odd;name" (v TEXT); -- trailing comment; it's fine
INSERT INTO "odd;name" (v) VALUES ('a -- not a comment'), ('b /* not a comment */');
;;
INSERT INTO "odd;name" (v) VALUES ('c')
;
