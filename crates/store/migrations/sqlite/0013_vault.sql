-- Calls in progress on a switch, recordings purged under the retention period, legal holds.

-- A call a switch has placed and not yet finished: at restart the switch (`node`) finishes
-- its own as interrupted, so no call is lost with the process that carried it.
CREATE TABLE live_calls (
    started_id INTEGER PRIMARY KEY REFERENCES attempts_started (id) ON DELETE CASCADE,
    node       TEXT    NOT NULL,
    recording  TEXT    NOT NULL,   -- where its recording was going, relative to the vault
    placed_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX live_calls_node ON live_calls (node);

-- When the purge deleted the recording's audio (its hash stays, as in the ledger).
ALTER TABLE recordings ADD COLUMN purged_at TEXT;

-- A case under a legal hold (诉讼保全, a complaint, a regulator's request): its recordings are
-- not purged while the hold stands.
CREATE TABLE legal_holds (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    reason  TEXT NOT NULL,
    held_by TEXT NOT NULL,
    held_at TEXT NOT NULL
) STRICT;
