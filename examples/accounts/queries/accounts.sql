-- The queries of the accounts repository, prepared on both engines
-- (sqlite/.strata/queries.json, postgres/.strata/queries.json).

-- name: CreateAccount :one
INSERT INTO accounts (email, display_name, balance_cents, created_at)
VALUES ($1, $2, $3, $4)
RETURNING id, email, display_name, balance_cents, created_at;

-- name: FindAccount :one
SELECT id, email, display_name, balance_cents, created_at FROM accounts WHERE id = $1;

-- name: FindAccountByEmail :one
SELECT id, email, display_name, balance_cents, created_at FROM accounts WHERE email = $1;

-- name: ListAccounts :many
SELECT id, email, display_name, balance_cents, created_at FROM accounts ORDER BY id LIMIT $1;

-- name: RenameAccount :execrows
UPDATE accounts SET display_name = $1 WHERE id = $2;

-- name: AdjustBalance :execrows
-- SQLite cannot tell the type of a parameter inside an expression: the CAST says it.
UPDATE accounts SET balance_cents = balance_cents + CAST($1 AS BIGINT) WHERE id = $2;

-- name: AddTransfer :exec
INSERT INTO transfers (from_id, to_id, amount_cents) VALUES ($1, $2, $3);

-- name: OutgoingTransfers :many
-- A LEFT JOIN: an account without transfers still gives one row, with NULLs.
SELECT a.email, t.id AS transfer_id, t.amount_cents
FROM accounts a LEFT JOIN transfers t ON t.from_id = a.id
WHERE a.id = $1
ORDER BY t.id;

-- name: CountAccounts :one
SELECT count(*) AS n FROM accounts;

-- name: TotalBalance :one
SELECT CAST(coalesce(sum(balance_cents), 0) AS BIGINT) AS "total!" FROM accounts;
