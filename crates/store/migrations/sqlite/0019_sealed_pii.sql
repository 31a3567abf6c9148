-- 0019: personal data sealed at rest (see crates/store/src/keys.rs and docs/security.md).
-- Append-only: never edit a migration that has shipped.

-- The data keys (AES-256-GCM) and the index key (HMAC-SHA-256), each wrapped by the master key,
-- which is held outside the database. The active data key seals new values; the others still
-- open what they sealed until a rotation has re-sealed it.
CREATE TABLE data_keys (
    id      INTEGER PRIMARY KEY,   -- 0 is the index key; data keys count from 1
    purpose TEXT    NOT NULL CHECK (purpose IN ('data', 'index')),
    master  TEXT    NOT NULL,      -- which master key wrapped it
    wrapped TEXT    NOT NULL,      -- base64
    active  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Blind indexes (keyed hashes) of the values exact search and the gate's same-number checks
-- compare: equality on these never needs the clear value. `daylight init` seals the rows an
-- earlier version wrote in clear and fills these.
ALTER TABLE customers ADD COLUMN name_bidx TEXT;
ALTER TABLE customers ADD COLUMN resident_id_bidx TEXT;
ALTER TABLE contact_points ADD COLUMN value_bidx TEXT;
ALTER TABLE number_proposals ADD COLUMN number_bidx TEXT;
-- SQLite cannot drop the column's inline UNIQUE: it stays, harmless (no two sealed values are
-- ever equal); the blind index below is what now keeps one customer per person.
CREATE UNIQUE INDEX customers_resident_bidx ON customers (resident_id_bidx);
CREATE INDEX customers_name_bidx ON customers (name_bidx);
-- The (kind, value) index finds nothing in ciphertext: the number's index replaces it.
DROP INDEX contact_points_number;
CREATE INDEX contact_points_bidx ON contact_points (kind, value_bidx);
