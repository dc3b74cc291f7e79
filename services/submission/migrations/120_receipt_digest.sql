-- Receipts are looked up by a SHA-256 of the whole code: one index probe, no slow
-- hash (a code carries 100 random bits, so a fast hash of all of it cannot be
-- searched). Rows stored before keep their argon2id hash and public half until
-- their first look-up moves them over (or they expire with their story).
ALTER TABLE stories ADD COLUMN receipt_digest bytea UNIQUE;
ALTER TABLE stories ALTER COLUMN receipt_lookup DROP NOT NULL;
ALTER TABLE stories ALTER COLUMN receipt_hash DROP NOT NULL;
