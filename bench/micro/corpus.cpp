#include "corpus.hpp"

#include <string>

namespace strata::bench {
namespace {

// One block of statements, numbered by `i` so no two blocks are identical.
void append_block(std::string& out, std::size_t i) {
  const std::string n = std::to_string(i);
  out += "-- Migration block " + n + ": accounts, their events and a trigger.\n";
  out += "/* Block comments may span lines;\n   they may hold ; and 'quotes' and $$ too. */\n";
  out += "CREATE TABLE account_" + n +
         " (\n"
         "  id BIGSERIAL PRIMARY KEY,\n"
         "  email TEXT NOT NULL UNIQUE, -- login name; case-folded\n"
         "  display_name TEXT NOT NULL DEFAULT 'anonymous',\n"
         "  note TEXT DEFAULT 'it''s; not a terminator',\n"
         "  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
         "  \"Quoted;Column\" INTEGER CHECK (\"Quoted;Column\" >= 0)\n"
         ");\n";
  out += "CREATE INDEX account_" + n + "_created_idx ON account_" + n + " (created_at DESC);\n";
  out += "INSERT INTO account_" + n + " (email, display_name, note) VALUES\n";
  for (int r = 0; r < 10; ++r) {
    out += "  ('user" + std::to_string(r) + "@example.org', 'User O''Brien " + std::to_string(r) +
           "', E'line one\\nline two; \\'quoted\\'')";
    out += r == 9 ? ";\n" : ",\n";
  }
  out += "UPDATE account_" + n + " SET display_name = upper(display_name) WHERE id % 2 = 0; -- trailing comment\n";
  out += "ALTER TABLE account_" + n + " ADD COLUMN score NUMERIC(10, 2) NOT NULL DEFAULT 0;\n";
  out += "CREATE OR REPLACE FUNCTION account_" + n +
         "_touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
         "BEGIN\n"
         "  -- a comment inside the body; with a semicolon\n"
         "  NEW.note := coalesce(NEW.note, 'none; really');\n"
         "  IF NEW.score < 0 THEN\n"
         "    RAISE EXCEPTION 'score must not be negative: %', NEW.score;\n"
         "  END IF;\n"
         "  RETURN NEW;\n"
         "END;\n"
         "$$;\n";
  out += "CREATE TRIGGER account_" + n + "_touch BEFORE INSERT OR UPDATE ON account_" + n +
         " FOR EACH ROW EXECUTE FUNCTION account_" + n + "_touch();\n";
  out += "CREATE FUNCTION account_" + n +
         "_total() RETURNS numeric LANGUAGE sql STABLE AS $fn$\n"
         "  SELECT sum(score) FROM account_" + n + " WHERE display_name <> '$$ not a tag $$';\n"
         "$fn$;\n";
  out += "COMMENT ON TABLE account_" + n + " IS 'Accounts, block " + n + "; see the docs';\n\n";
}

}  // namespace

std::string realistic_script(std::size_t bytes) {
  std::string out;
  out.reserve(bytes + 4096);
  out += "-- strata: compatible-with 1\n";
  for (std::size_t i = 1; out.size() < bytes; ++i) append_block(out, i);
  return out;
}

std::string huge_dollar_body(std::size_t bytes) {
  std::string out;
  out.reserve(bytes + 4096);
  out += "CREATE FUNCTION big() RETURNS void LANGUAGE plpgsql AS $body$\nBEGIN\n";
  for (std::size_t i = 0; out.size() < bytes; ++i) {
    out += "  PERFORM 'it''s $$ $x$ ; \"q\" -- not a comment " + std::to_string(i) + "';  /* nor this; */\n";
  }
  out += "END;\n$body$;\n";
  return out;
}

}  // namespace strata::bench
