-- 0006: a plan's input is stored zstd-compressed. Append-only: never edit a migration that has
-- shipped.
--
-- The planner's input for a million open cases is about 450 MB of JSON; compressed it is a
-- tenth of that and is written in a fraction of the time. Plans stored before this migration
-- keep their JSON in `input`; new ones have `input` NULL and the same JSON, compressed, in
-- `input_zstd`. `input_sha256` is always the digest of the JSON itself.
CREATE TABLE plans_0006 (
    id           INTEGER PRIMARY KEY,
    plan_date    TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    strategy     TEXT    NOT NULL,   -- the strategy's name
    input        TEXT,               -- PlanInput, JSON (plans stored before 0006)
    input_zstd   BLOB,               -- PlanInput, JSON, zstd-compressed
    input_sha256 TEXT    NOT NULL,   -- of the JSON
    plan         TEXT    NOT NULL,   -- Plan, JSON
    plan_sha256  TEXT    NOT NULL,
    actions      INTEGER NOT NULL,
    skipped      TEXT    NOT NULL,   -- JSON: reason code → count
    created_by   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    UNIQUE (plan_date, version),
    CHECK ((input IS NULL) <> (input_zstd IS NULL))
) STRICT;

INSERT INTO plans_0006 (id, plan_date, version, strategy, input, input_zstd, input_sha256, plan,
                        plan_sha256, actions, skipped, created_by, created_at)
SELECT id, plan_date, version, strategy, input, NULL, input_sha256, plan, plan_sha256, actions,
       skipped, created_by, created_at
FROM plans;

DROP TABLE plans;
ALTER TABLE plans_0006 RENAME TO plans;
