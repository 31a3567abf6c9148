-- Calls in join the vault: their recordings are listed, played, exported and purged with those
-- of dialled calls (a recording belongs to an attempt or to a call in, never both); a call in
-- names the switch (`node`) carrying it, so that switch's restart ends it as interrupted.

ALTER TABLE recordings ALTER COLUMN attempt_id DROP NOT NULL;
ALTER TABLE recordings ADD COLUMN inbound_id BIGINT UNIQUE REFERENCES inbound_calls (id);
ALTER TABLE recordings ADD CONSTRAINT recordings_one_call
    CHECK ((attempt_id IS NULL) <> (inbound_id IS NULL));

INSERT INTO recordings (inbound_id, case_id, path, sha256, bytes, millis, recorded_at)
    SELECT id, case_id, path, sha256, bytes, millis, ended_at FROM inbound_calls
    WHERE path IS NOT NULL AND case_id IS NOT NULL AND ended_at IS NOT NULL;

ALTER TABLE inbound_calls ADD COLUMN node TEXT;
CREATE INDEX inbound_calls_live ON inbound_calls (node) WHERE outcome IS NULL;
