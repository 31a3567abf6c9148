-- Calls in join the vault: their recordings are listed, played, exported and purged with those
-- of dialled calls (a recording belongs to an attempt or to a call in, never both); a call in
-- names the switch (`node`) carrying it, so that switch's restart ends it as interrupted.

CREATE TABLE recordings_v17 (
    id          INTEGER PRIMARY KEY,
    attempt_id  INTEGER UNIQUE REFERENCES attempts (id),
    inbound_id  INTEGER UNIQUE REFERENCES inbound_calls (id),
    case_id     TEXT    NOT NULL REFERENCES cases (id),
    path        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    bytes       INTEGER NOT NULL,
    millis      INTEGER NOT NULL,     -- audio length
    recorded_at TEXT    NOT NULL,
    purged_at   TEXT,
    CHECK ((attempt_id IS NULL) <> (inbound_id IS NULL))
) STRICT;
INSERT INTO recordings_v17 (id, attempt_id, case_id, path, sha256, bytes, millis, recorded_at, purged_at)
    SELECT id, attempt_id, case_id, path, sha256, bytes, millis, recorded_at, purged_at FROM recordings;
DROP TABLE recordings;
ALTER TABLE recordings_v17 RENAME TO recordings;
CREATE INDEX recordings_case ON recordings (case_id);

INSERT INTO recordings (inbound_id, case_id, path, sha256, bytes, millis, recorded_at)
    SELECT id, case_id, path, sha256, bytes, millis, ended_at FROM inbound_calls
    WHERE path IS NOT NULL AND case_id IS NOT NULL AND ended_at IS NOT NULL;

ALTER TABLE inbound_calls ADD COLUMN node TEXT;
CREATE INDEX inbound_calls_live ON inbound_calls (node) WHERE outcome IS NULL;
