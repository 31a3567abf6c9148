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
