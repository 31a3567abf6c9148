-- 0004: champion / challenger experiments. Append-only: never edit a migration that has shipped.

-- An experiment's arms and salt fix every customer's arm for good (a SHA-256 of salt and
-- customer id, cut by the arms' weights), so the row is written once and never changed.
CREATE TABLE experiments (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    arms       TEXT NOT NULL,   -- name:weight,name:weight,… in cut order
    salt       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
