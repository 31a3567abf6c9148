-- 0002: the contact gate (compliance). Append-only: never edit a migration that has shipped.

-- The gate reads every attempt of a debtor, across all their cases.
CREATE INDEX cases_customer ON cases (customer_id);

-- Attempts a dialer has started and not yet finished. Each holds its place under the caps
-- from the moment it is allowed; `daylight contact finish` moves it into `attempts`.
CREATE TABLE attempts_started (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          TEXT    NOT NULL REFERENCES cases (id),
    account_id       TEXT    REFERENCES accounts (id),
    at               TIMESTAMPTZ NOT NULL,
    channel          TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,
    contact_point_id TEXT    REFERENCES contact_points (id),
    agent            TEXT    NOT NULL,
    started_by       TEXT    NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX attempts_started_case ON attempts_started (case_id);

-- What a debtor asked for: stop (cease), not on these channels (opt_out), other hours.
CREATE TABLE contact_flags (
    customer_id     TEXT    PRIMARY KEY REFERENCES customers (id),
    cease           BOOLEAN NOT NULL DEFAULT FALSE,
    opt_out         TEXT    NOT NULL DEFAULT '',  -- comma-separated channels
    consented_hours BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by      TEXT    NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
