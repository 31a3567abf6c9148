-- 0007: users, sessions, and the indexes that scope cases by team and agency.
-- Append-only: never edit a migration that has shipped.

-- People who log in. The login is the employee number; the mobile is a second way in.
-- The password is kept only as an argon2id PHC string.
CREATE TABLE users (
    login           TEXT PRIMARY KEY,
    name            TEXT    NOT NULL,
    mobile          TEXT UNIQUE,
    role            TEXT    NOT NULL,   -- admin | compliance_officer | strategy_analyst | team_lead | collector | agency_manager | agency_collector | auditor
    team            TEXT,
    agency          TEXT,
    password_hash   TEXT    NOT NULL,
    must_change     INTEGER NOT NULL,   -- 1: a one-time password set by an admin
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    password_set_at TEXT    NOT NULL,
    created_by      TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

-- Open sessions, by the SHA-256 of the cookie's token (a copy of the database opens none).
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    login        TEXT NOT NULL REFERENCES users (login),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_login ON sessions (login);

-- A team lead's and an agency's views of their cases.
CREATE INDEX cases_team ON cases (team);
CREATE INDEX cases_agency ON cases (agency);
