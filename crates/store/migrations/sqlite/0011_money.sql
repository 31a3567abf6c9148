-- 0011: money that adds up. Append-only: never edit a migration that has shipped.

-- A waiver above the money policy's threshold needs two approvers: the first is kept here
-- while the waiver waits for the second.
ALTER TABLE waivers ADD COLUMN first_approved_by TEXT;
ALTER TABLE waivers ADD COLUMN first_approved_at TEXT;

-- Approved waivers and plans are adjustments to what the bank's figures say is owed: each
-- names the accounts batch its account was last stated in when it was approved, and stays an
-- adjustment until a later accounts file restates the account (the bank has booked it). A
-- plan's adjustment (its declared fees) sits on the account it names, or the case's account
-- with most overdue.
ALTER TABLE waivers ADD COLUMN figures_batch INTEGER;
ALTER TABLE arrangements ADD COLUMN adjust_account TEXT REFERENCES accounts (id);
ALTER TABLE arrangements ADD COLUMN figures_batch INTEGER;
CREATE INDEX waivers_account ON waivers (account_id, status);
CREATE INDEX arrangements_adjust ON arrangements (adjust_account, status);

-- What is owed on top of (or off) an account's overdue figures, until the bank books it.
CREATE VIEW account_adjustments AS
    SELECT w.account_id AS account_id, 'waiver' AS source, w.id AS source_id, w.component AS component,
           -w.amount AS amount
      FROM waivers w JOIN accounts a ON a.id = w.account_id
     WHERE w.status = 'approved' AND w.figures_batch = a.batch_id
    UNION ALL
    SELECT r.adjust_account, 'plan', r.id, 'fees',
           (SELECT COALESCE(SUM(i.fee), 0) FROM arrangement_instalments i WHERE i.arrangement_id = r.id)
      FROM arrangements r JOIN accounts a ON a.id = r.adjust_account
     WHERE r.status = 'approved' AND r.figures_batch = a.batch_id;

-- A pending promise edited (amount, due time) or cancelled, with the reason: the promise row
-- holds the terms in force, this table every earlier version.
CREATE TABLE promise_changes (
    id          INTEGER PRIMARY KEY,
    promise_id  INTEGER NOT NULL REFERENCES promises (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('amended', 'cancelled')),
    old_amount  INTEGER NOT NULL,
    old_due_at  TEXT    NOT NULL,
    new_amount  INTEGER,
    new_due_at  TEXT,
    reason      TEXT    NOT NULL,
    changed_by  TEXT    NOT NULL,
    changed_at  TEXT    NOT NULL
) STRICT;
CREATE INDEX promise_changes_promise ON promise_changes (promise_id, changed_at);

-- Waivers approved before this migration and not yet restated by an accounts file keep
-- adjusting their account.
UPDATE waivers SET figures_batch = (
    SELECT a.batch_id FROM accounts a WHERE a.id = waivers.account_id AND waivers.decided_at >= a.updated_at
) WHERE status = 'approved';

-- Numbers a collector proposes (a new number, or a correction of a case's phone point) and
-- the team lead's decision; a confirmation adds or corrects the contact point.
CREATE TABLE number_proposals (
    id               INTEGER PRIMARY KEY,
    case_id          TEXT    NOT NULL REFERENCES cases (id),
    replaces         TEXT REFERENCES contact_points (id),
    role             TEXT    NOT NULL,
    number           TEXT    NOT NULL,      -- normalised, as contact_points.value
    name             TEXT,
    source           TEXT    NOT NULL,      -- debtor | third_party | bank | repair | field
    status           TEXT    NOT NULL,      -- requested | approved | rejected
    requested_by     TEXT    NOT NULL,
    requested_at     TEXT    NOT NULL,
    decided_by       TEXT,
    decided_at       TEXT,
    contact_point_id TEXT
) STRICT;
CREATE INDEX number_proposals_case ON number_proposals (case_id, status);
CREATE INDEX number_proposals_status ON number_proposals (status);
