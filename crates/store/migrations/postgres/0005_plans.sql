-- 0005: daily contact plans and debtor tags. Append-only: never edit a migration that has shipped.

-- Every plan made, as a version per date: the planner's whole input (so that `plan --replay`
-- rebuilds it bit for bit) and the plan, each with its SHA-256.
CREATE TABLE plans (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_date    DATE    NOT NULL,
    version      BIGINT  NOT NULL,
    strategy     TEXT    NOT NULL,   -- the strategy's name
    input        TEXT    NOT NULL,   -- PlanInput, JSON
    input_sha256 TEXT    NOT NULL,
    plan         TEXT    NOT NULL,   -- Plan, JSON
    plan_sha256  TEXT    NOT NULL,
    actions      BIGINT  NOT NULL,
    skipped      TEXT    NOT NULL,   -- JSON: reason code → count
    created_by   TEXT    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (plan_date, version)
);

-- What a collector or QC reported of a debtor that changes their treatment: hardship (the
-- negotiation queue, no pressure) and abusive (another channel mix). Cleared tags are deleted;
-- the ledger keeps the history.
CREATE TABLE debtor_tags (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    tag         TEXT NOT NULL,       -- hardship | abusive
    note        TEXT NOT NULL,
    set_by      TEXT NOT NULL,
    set_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, tag)
);
