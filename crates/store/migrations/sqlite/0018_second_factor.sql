-- 0018: a second factor (TOTP, RFC 6238) with recovery codes, password history, and what this
-- database is (a demo or a test database may run on a rehearsal clock; production may not).
-- Append-only: never edit a migration that has shipped.

ALTER TABLE users ADD COLUMN totp_secret TEXT;        -- base32; set once enrolment is confirmed
ALTER TABLE users ADD COLUMN totp_pending TEXT;       -- base32; an enrolment not yet confirmed
ALTER TABLE users ADD COLUMN totp_last_step INTEGER;  -- the last 30-second step used: no replay

-- A session opened by a password whose user has a second factor: it may do nothing but give
-- the code (then a new session replaces it).
ALTER TABLE sessions ADD COLUMN second_factor_pending INTEGER NOT NULL DEFAULT 0;

-- One-time recovery codes, by their SHA-256.
CREATE TABLE recovery_codes (
    login       TEXT NOT NULL REFERENCES users (login),
    code_sha256 TEXT NOT NULL,
    used_at     TEXT,
    PRIMARY KEY (login, code_sha256)
) STRICT, WITHOUT ROWID;

-- Passwords a user had (argon2id PHC strings), so that a new one cannot be an old one.
CREATE TABLE password_history (
    id     INTEGER PRIMARY KEY,
    login  TEXT NOT NULL REFERENCES users (login),
    hash   TEXT NOT NULL,
    set_at TEXT NOT NULL
) STRICT;
CREATE INDEX password_history_login ON password_history (login, id);

-- Facts about this database: `purpose` is `demo`, `test` or (unset) production.
CREATE TABLE instance (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
