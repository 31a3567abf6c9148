-- 0008: the console's queues (tasks, third-party confirmations), complaints, and the indexes
-- the team lead's figures read by time. Append-only: never edit a migration that has shipped.

-- Work the system hands to people: a promise's reminder 24 h before it falls due (for the
-- case's collector), a broken promise's escalation (for the team lead). One task of a kind per
-- promise, so the sweep that makes them may run any number of times.
CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    case_id     TEXT    NOT NULL REFERENCES cases (id),
    kind        TEXT    NOT NULL,           -- promise_reminder | promise_broken
    audience    TEXT    NOT NULL,           -- collector | lead
    promise_id  INTEGER REFERENCES promises (id),
    due_at      TEXT    NOT NULL,
    status      TEXT    NOT NULL,           -- open | done
    created_at  TEXT    NOT NULL,
    done_by     TEXT,
    done_at     TEXT
) STRICT;
CREATE UNIQUE INDEX tasks_promise_kind ON tasks (promise_id, kind);
CREATE INDEX tasks_open ON tasks (status, due_at);
CREATE INDEX tasks_case ON tasks (case_id);

-- A collector's request to contact a third party (an emergency contact, a relative) and the
-- team lead's answer. An approved request is the operator's confirmation the gate asks for,
-- for that contact point, for a day from the decision.
CREATE TABLE third_party_requests (
    id               INTEGER PRIMARY KEY,
    case_id          TEXT    NOT NULL REFERENCES cases (id),
    contact_point_id TEXT    NOT NULL REFERENCES contact_points (id),
    reason           TEXT    NOT NULL,
    status           TEXT    NOT NULL,      -- requested | approved | rejected
    requested_by     TEXT    NOT NULL,
    requested_at     TEXT    NOT NULL,
    decided_by       TEXT,
    decided_at       TEXT
) STRICT;
CREATE INDEX third_party_requests_case ON third_party_requests (case_id, contact_point_id);
CREATE INDEX third_party_requests_status ON third_party_requests (status);

-- Complaints from debtors, third parties, the bank or a regulator, against a case and perhaps
-- one contact attempt.
CREATE TABLE complaints (
    id            INTEGER PRIMARY KEY,
    case_id       TEXT    NOT NULL REFERENCES cases (id),
    attempt_id    INTEGER REFERENCES attempts (id),
    source        TEXT    NOT NULL,         -- debtor | third_party | bank | regulator
    text          TEXT    NOT NULL,
    registered_by TEXT    NOT NULL,
    registered_at TEXT    NOT NULL
) STRICT;
CREATE INDEX complaints_case ON complaints (case_id);
CREATE INDEX complaints_at ON complaints (registered_at);

-- The team lead's figures read a period across all cases; the attempts and payments indexes
-- cover the columns they count, so the tables themselves are not read.
CREATE INDEX attempts_at ON attempts (at, case_id, outcome, recipient);
CREATE INDEX payments_paid_at ON payments (paid_at, account_id, amount);
CREATE INDEX promises_created_at ON promises (created_at);
CREATE INDEX promises_settled_at ON promises (settled_at);
CREATE INDEX bucket_moves_at ON bucket_moves (at);

-- The strategy a plan was made under, as text, so that the console shows its script library
-- without reading the plan's whole input (plans stored before 0008: NULL, read from the input).
ALTER TABLE plans ADD COLUMN strategy_source TEXT;
