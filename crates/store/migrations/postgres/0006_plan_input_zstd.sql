-- 0006: a plan's input is stored zstd-compressed. Append-only: never edit a migration that has
-- shipped.
--
-- The planner's input for a million open cases is about 450 MB of JSON; compressed it is a
-- tenth of that and is written in a fraction of the time. Plans stored before this migration
-- keep their JSON in `input`; new ones have `input` NULL and the same JSON, compressed, in
-- `input_zstd`. `input_sha256` is always the digest of the JSON itself.
ALTER TABLE plans ALTER COLUMN input DROP NOT NULL;
ALTER TABLE plans ADD COLUMN input_zstd BYTEA;
ALTER TABLE plans ADD CONSTRAINT plans_one_input CHECK ((input IS NULL) <> (input_zstd IS NULL));
