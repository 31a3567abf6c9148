-- Calls from the trunk (a debtor calling back a caller-ID number): matched by number, routed to
-- a collector, recorded. Not contact attempts: they count under no cap. The number is kept
-- masked with its SHA-256; the recording's ciphertext is in the vault, its hash here and in the
-- call's ledger event (call.inbound).
CREATE TABLE inbound_calls (
    id            INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    number_masked TEXT    NOT NULL,
    number_sha256 TEXT    NOT NULL,
    dialled       TEXT    NOT NULL,          -- the caller ID the debtor called
    case_id       TEXT    REFERENCES cases (id),
    contact_point TEXT,
    collector     TEXT,                      -- who answered (or was rung last)
    outcome       TEXT,                      -- answered | missed | abandoned | unmatched; NULL while live
    talk_secs     INTEGER NOT NULL DEFAULT 0,
    path          TEXT,                      -- the recording, relative to the vault
    sha256        TEXT,
    bytes         INTEGER,
    millis        INTEGER,
    ended_at      TEXT
) STRICT;
CREATE INDEX inbound_calls_case ON inbound_calls (case_id);
-- A caller is matched by number.
CREATE INDEX contact_points_value ON contact_points (value);
