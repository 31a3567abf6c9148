-- 0009: QC of calls. Append-only: never edit a migration that has shipped.

-- A call's transcript and what QC made of it, one per contact attempt. The transcript holds
-- what was said (names, amounts): it is shown only to those who may read cases, and the ledger
-- keeps its digest, not its text.
CREATE TABLE qc_calls (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attempt_id    BIGINT  NOT NULL REFERENCES attempts (id),
    case_id       TEXT    NOT NULL REFERENCES cases (id),
    call_id       TEXT    NOT NULL,
    rules         TEXT    NOT NULL,         -- the rules' name and version
    transcript    TEXT    NOT NULL,         -- the JSON as received
    promise_fen   BIGINT,                   -- the promise QC heard, if any
    promise_due   TIMESTAMPTZ,
    analysed_by   TEXT    NOT NULL,
    analysed_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX qc_calls_attempt ON qc_calls (attempt_id);
CREATE INDEX qc_calls_case ON qc_calls (case_id);
CREATE INDEX qc_calls_at ON qc_calls (analysed_at);

-- Each finding: the code, who said it, where (turn and character span), the words.
CREATE TABLE qc_findings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    qc_call_id  BIGINT  NOT NULL REFERENCES qc_calls (id),
    code        TEXT    NOT NULL,
    severity    TEXT    NOT NULL,           -- info | minor | major | critical
    speaker     TEXT    NOT NULL,           -- agent | debtor | other
    turn        BIGINT  NOT NULL,
    span_start  BIGINT  NOT NULL,
    span_end    BIGINT  NOT NULL,
    text        TEXT    NOT NULL
);
CREATE INDEX qc_findings_call ON qc_findings (qc_call_id);
CREATE INDEX qc_findings_code ON qc_findings (code);

-- A supervisor's QC review is a task about a contact attempt, with the reason.
ALTER TABLE tasks ADD COLUMN attempt_id BIGINT REFERENCES attempts (id);
ALTER TABLE tasks ADD COLUMN note TEXT;
CREATE UNIQUE INDEX tasks_attempt_kind ON tasks (attempt_id, kind);
