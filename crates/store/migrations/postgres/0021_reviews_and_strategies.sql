-- 0021: a QC review closes with an outcome (upheld or dismissed) and the reviewer's reason; an
-- upheld finding goes to the call's collector, who accepts it or appeals; an appeal is decided by
-- compliance (granted or refused). Each step is a task with its outcome; the ledger's task.done
-- event carries the outcome and the reason's SHA-256. One chain per call: (attempt_id, kind) is
-- unique since 0009.
-- Append-only: never edit a migration that has shipped.
ALTER TABLE tasks ADD COLUMN outcome TEXT;
ALTER TABLE tasks ADD COLUMN outcome_note TEXT;
-- The task this one follows from (an upheld review's finding, a finding's appeal).
ALTER TABLE tasks ADD COLUMN follows BIGINT REFERENCES tasks (id);

-- Strategies edited in the console (or saved with `daylight strategy save`): every version kept;
-- `daylight plan` without --strategy plans under the latest. Checked before they are stored.
CREATE TABLE strategies (
    version  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name     TEXT NOT NULL,
    text     TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    note     TEXT,
    saved_by TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL
);
