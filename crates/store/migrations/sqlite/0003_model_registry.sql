-- 0003: the model registry. Append-only: never edit a migration that has shipped.

-- Every version of every named model (propensity, contactability, …), with its file and
-- held-out metrics. Status: challenger (registered), champion (in use; at most one per name),
-- retired (replaced).
CREATE TABLE models (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    source     TEXT    NOT NULL,   -- daylight | xgboost | lightgbm
    status     TEXT    NOT NULL,   -- challenger | champion | retired
    sha256     TEXT    NOT NULL,   -- of the document
    metrics    TEXT    NOT NULL,   -- JSON, {} when the file carries none
    document   TEXT    NOT NULL,   -- the model file as registered
    created_by TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    UNIQUE (name, version)
) STRICT;
CREATE UNIQUE INDEX models_one_champion ON models (name) WHERE status = 'champion';
