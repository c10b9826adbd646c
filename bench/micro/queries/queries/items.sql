-- name: ListItems :many
SELECT id, name, score FROM items ORDER BY id;
