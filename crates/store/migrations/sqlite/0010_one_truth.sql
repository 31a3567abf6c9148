-- 0010: one truth for every contact. Append-only: never edit a migration that has shipped.

-- When a contact point's status was last set by an outcome or a screening: a switched-off
-- number is retried from the next local day (NUMBER_POWERED_OFF).
ALTER TABLE contact_points ADD COLUMN status_at TEXT;

-- A physical number is the same phone whoever's record carries it: the gate counts and locks
-- the per-number rules across every contact point holding it (phones are stored normalised,
-- so the value is the number).
CREATE INDEX contact_points_number ON contact_points (kind, value);
CREATE INDEX attempts_point_at ON attempts (contact_point_id, at);
CREATE INDEX attempts_started_point ON attempts_started (contact_point_id);

-- Every change of a case's status, with its reason: the case's timeline shows closures and
-- reopenings; a closure names a reason from a fixed list (paid_in_full, settled, written_off,
-- deceased, dispute_upheld, placed, legal). Closures by an import (every account current
-- again) are not listed here: the import batch is their record.
CREATE TABLE case_status_changes (
    id           INTEGER PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id),
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    close_reason TEXT,
    note         TEXT NOT NULL,
    owed         INTEGER NOT NULL,        -- what the accounts owed (fen) when it changed
    changed_by   TEXT NOT NULL,
    changed_at   TEXT NOT NULL
) STRICT;
CREATE INDEX case_status_changes_case ON case_status_changes (case_id, changed_at);
