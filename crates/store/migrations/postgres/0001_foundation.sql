-- Daylight foundation schema (PostgreSQL).
--
-- Migrations are append-only: never edit a file once released; add a new one. sqlx records a
-- checksum of every applied file and refuses to run against a database whose history differs.
--
-- Conventions, kept identical to the PostgreSQL schema so one set of queries serves both:
--   * money is BIGINT minor units (fen) with a currency column beside it, never REAL;
--   * instants are TIMESTAMPTZ (microseconds, as the ledger keeps them); dates are DATE;
--   * records from the bank keep the bank's key (external id) as primary key, so a re-import
--     updates in place; records Daylight creates get an integer id;
--   * vocabulary columns hold the stable words of the domain crate ('robot_call', 'M6+').

-- The evidence chain. hash = SHA-256(prev_hash || canonical bytes of the other columns); see
-- docs/ledger.md. Rows are only ever inserted, in the same transaction as the change they record.
CREATE TABLE ledger (
    seq       BIGINT PRIMARY KEY,         -- 1, 2, 3 … without gaps
    at        TIMESTAMPTZ    NOT NULL,            -- canonical UTC time of the change
    actor     TEXT    NOT NULL,            -- login, 'system', robot id
    kind      TEXT    NOT NULL,            -- 'import.batch', 'attempt.recorded', …
    subject   TEXT    NOT NULL,            -- case, account, batch or key the event is about
    payload   TEXT    NOT NULL,            -- canonical JSON (sorted keys)
    prev_hash TEXT    NOT NULL,            -- hex; 64 zeros for seq 1
    hash      TEXT    NOT NULL             -- hex
);
CREATE INDEX ledger_subject ON ledger (subject);

-- The chain's head, one row. Appends lock and advance it, which serialises appends; verification
-- compares it with the last row, so removing rows from the end is caught too.
CREATE TABLE ledger_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Settings a bank may change (bucket scheme, …). Every change is a ledger event.
CREATE TABLE config (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- One row per import file stored (all-or-nothing or --partial).
CREATE TABLE import_batches (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT    NOT NULL,        -- customers | contacts | accounts | transactions | payments
    file_name     TEXT    NOT NULL,
    file_sha256   TEXT    NOT NULL,        -- of the file's bytes as read
    actor         TEXT    NOT NULL,
    started_at    TIMESTAMPTZ    NOT NULL,
    rows_total    BIGINT NOT NULL DEFAULT 0,
    rows_inserted BIGINT NOT NULL DEFAULT 0,
    rows_updated  BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    partial       BOOLEAN NOT NULL DEFAULT FALSE,  -- stored with --partial
    ledger_seq    BIGINT                      -- the import.batch event
);

CREATE TABLE customers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    resident_id TEXT NOT NULL UNIQUE,      -- one customer per person
    gender      TEXT NOT NULL CHECK (gender IN ('M', 'F')),
    birth_date  DATE NOT NULL,
    employer    TEXT,
    address     TEXT,
    region      TEXT,
    time_zone   TEXT NOT NULL,             -- IANA name; calling hours are judged in it
    batch_id    BIGINT NOT NULL REFERENCES import_batches (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE contact_points (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    role        TEXT NOT NULL,             -- debtor | guarantor | emergency_contact | relative | colleague | other
    kind        TEXT NOT NULL,             -- phone | email | address
    value       TEXT NOT NULL,
    name        TEXT,                      -- the owner's name when not the debtor
    status      TEXT NOT NULL,             -- unknown | valid | invalid | suspended | powered_off
    time_zone   TEXT,                      -- the owner's zone when it differs from the debtor's
    batch_id    BIGINT REFERENCES import_batches (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX contact_points_customer ON contact_points (customer_id);

CREATE TABLE accounts (
    id                TEXT PRIMARY KEY,
    customer_id       TEXT    NOT NULL REFERENCES customers (id),
    pan_masked        TEXT    NOT NULL,    -- first 6 + last 4; the full number is never stored
    currency          TEXT    NOT NULL,
    credit_limit      BIGINT NOT NULL,
    balance           BIGINT NOT NULL,
    minimum_payment   BIGINT NOT NULL,
    statement_day     BIGINT NOT NULL CHECK (statement_day BETWEEN 1 AND 31),
    due_date          DATE    NOT NULL,
    cycles_delinquent BIGINT NOT NULL,
    days_past_due     BIGINT NOT NULL CHECK (days_past_due >= 0),
    overdue_principal BIGINT NOT NULL,
    overdue_interest  BIGINT NOT NULL,
    overdue_fees      BIGINT NOT NULL,
    overdue_late_fees BIGINT NOT NULL,
    bucket            TEXT    NOT NULL,    -- M0 … M6+ under the configured scheme
    batch_id          BIGINT NOT NULL REFERENCES import_batches (id),
    created_at        TIMESTAMPTZ    NOT NULL,
    updated_at        TIMESTAMPTZ    NOT NULL
);
-- Covers the case roll-up (worst days past due per customer) without reading the table.
CREATE INDEX accounts_customer ON accounts (customer_id, days_past_due);

-- Every move of an account from one bucket to another. An account's first bucket is not a move:
-- it is the account's bucket from created_at until its first move (from_bucket of that move).
CREATE TABLE bucket_moves (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  TEXT    NOT NULL REFERENCES accounts (id),
    at          TIMESTAMPTZ    NOT NULL,
    from_bucket TEXT    NOT NULL,
    to_bucket   TEXT    NOT NULL,
    dpd         BIGINT NOT NULL,
    cause       TEXT    NOT NULL,          -- 'import' or 'scheme' (the bucket scheme changed)
    batch_id    BIGINT REFERENCES import_batches (id)
);
CREATE INDEX bucket_moves_account ON bucket_moves (account_id, at);

CREATE TABLE transactions (
    id               TEXT PRIMARY KEY,
    account_id       TEXT    NOT NULL REFERENCES accounts (id),
    transaction_date DATE    NOT NULL,
    posting_date     DATE    NOT NULL,
    kind             TEXT    NOT NULL,
    amount           BIGINT NOT NULL,     -- debits above zero, credits below
    currency         TEXT    NOT NULL,
    description      TEXT,
    batch_id         BIGINT NOT NULL REFERENCES import_batches (id),
    created_at       TIMESTAMPTZ    NOT NULL
);
CREATE INDEX transactions_account ON transactions (account_id, posting_date);

CREATE TABLE payments (
    id         TEXT PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES accounts (id),
    paid_at    TIMESTAMPTZ    NOT NULL,
    amount     BIGINT NOT NULL CHECK (amount > 0),
    currency   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    reference  TEXT,
    batch_id   BIGINT NOT NULL REFERENCES import_batches (id),
    created_at TIMESTAMPTZ    NOT NULL
);
CREATE INDEX payments_account ON payments (account_id, paid_at);

-- One case per customer. Imports open, reopen and close it from the accounts' days past due;
-- people move it to legal or written-off.
CREATE TABLE cases (
    id          TEXT PRIMARY KEY,          -- 'CASE-' || customer_id
    customer_id TEXT    NOT NULL REFERENCES customers (id),  -- unique: id is derived from it
    status      TEXT    NOT NULL,          -- open | closed | legal | written_off
    bucket      TEXT    NOT NULL,          -- worst bucket of the customer's accounts
    max_dpd     BIGINT NOT NULL,
    team        TEXT,
    collector   TEXT,
    agency      TEXT,
    opened_at   TIMESTAMPTZ    NOT NULL,
    updated_at  TIMESTAMPTZ    NOT NULL
);
CREATE INDEX cases_status_bucket ON cases (status, bucket);
CREATE INDEX cases_collector ON cases (collector);

-- Every contact attempt, failed or not (催记 are in notes, linked by attempt_id).
CREATE TABLE attempts (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          TEXT    NOT NULL REFERENCES cases (id),
    account_id       TEXT    REFERENCES accounts (id),
    at               TIMESTAMPTZ    NOT NULL,
    channel          TEXT    NOT NULL,
    recipient        TEXT    NOT NULL,     -- debtor | guarantor | third_party
    contact_point_id TEXT    REFERENCES contact_points (id),
    agent            TEXT    NOT NULL,     -- collector:LOGIN | robot:ID | agency:AGENCY/LOGIN
    outcome          TEXT    NOT NULL,
    duration_secs    BIGINT NOT NULL,
    recorded_by      TEXT    NOT NULL,
    recorded_at      TIMESTAMPTZ    NOT NULL
);
CREATE INDEX attempts_case_at ON attempts (case_id, at);

CREATE TABLE notes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id    TEXT    NOT NULL REFERENCES cases (id),
    attempt_id BIGINT REFERENCES attempts (id),
    author     TEXT    NOT NULL,
    at         TIMESTAMPTZ    NOT NULL,
    text       TEXT    NOT NULL
);
CREATE INDEX notes_case_at ON notes (case_id, at);

CREATE TABLE promises (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id    TEXT    NOT NULL REFERENCES cases (id),
    account_id TEXT    REFERENCES accounts (id),
    attempt_id BIGINT REFERENCES attempts (id),
    amount     BIGINT NOT NULL CHECK (amount > 0),
    currency   TEXT    NOT NULL,
    due_at     TIMESTAMPTZ    NOT NULL,
    status     TEXT    NOT NULL,           -- pending | kept | broken | cancelled
    created_by TEXT    NOT NULL,
    created_at TIMESTAMPTZ    NOT NULL,
    settled_by TEXT,
    settled_at TIMESTAMPTZ
);
CREATE INDEX promises_case ON promises (case_id);
CREATE INDEX promises_due ON promises (status, due_at);

-- Personalised instalment plans (≤ 60 instalments) and their schedules.
CREATE TABLE arrangements (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id        TEXT    NOT NULL REFERENCES cases (id),
    account_id     TEXT    REFERENCES accounts (id),
    total          BIGINT NOT NULL CHECK (total > 0),
    currency       TEXT    NOT NULL,
    instalments    BIGINT NOT NULL CHECK (instalments BETWEEN 1 AND 60),
    monthly_fee_bp BIGINT NOT NULL,
    first_due      DATE    NOT NULL,
    status         TEXT    NOT NULL,       -- proposed | approved | rejected | completed | broken | cancelled
    proposed_by    TEXT    NOT NULL,
    proposed_at    TIMESTAMPTZ    NOT NULL,
    decided_by     TEXT,
    decided_at     TIMESTAMPTZ
);
CREATE INDEX arrangements_case ON arrangements (case_id);

CREATE TABLE arrangement_instalments (
    arrangement_id BIGINT NOT NULL REFERENCES arrangements (id),
    number         BIGINT NOT NULL,
    due_date       DATE    NOT NULL,
    principal      BIGINT NOT NULL,
    fee            BIGINT NOT NULL,
    PRIMARY KEY (arrangement_id, number)
);

CREATE TABLE waivers (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      TEXT    NOT NULL REFERENCES cases (id),
    account_id   TEXT    NOT NULL REFERENCES accounts (id),
    component    TEXT    NOT NULL,         -- principal | interest | fees | late_fees
    amount       BIGINT NOT NULL CHECK (amount > 0),
    currency     TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    status       TEXT    NOT NULL,         -- requested | approved | rejected
    requested_by TEXT    NOT NULL,
    requested_at TIMESTAMPTZ    NOT NULL,
    decided_by   TEXT,
    decided_at   TIMESTAMPTZ
);
CREATE INDEX waivers_case ON waivers (case_id);
