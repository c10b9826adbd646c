-- Accounts and the transfers between them. The identity column differs per
-- engine; everything else is the same SQL.
CREATE TABLE accounts (
-- only: sqlite
  id INTEGER PRIMARY KEY,
-- only: postgres
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  display_name TEXT,
  balance_cents BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP NOT NULL
);

CREATE TABLE transfers (
-- only: sqlite
  id INTEGER PRIMARY KEY,
-- only: postgres
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  from_id BIGINT NOT NULL REFERENCES accounts (id),
  to_id BIGINT NOT NULL REFERENCES accounts (id),
  amount_cents BIGINT NOT NULL CHECK (amount_cents > 0)
);
