-- Calls placed through Daylight's switch, and their recordings.

-- A call's recording: the ciphertext (age, to the vault's public key) kept in the vault
-- folder, named here relative to it; its SHA-256 is also in the attempt's ledger event.
CREATE TABLE recordings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attempt_id  BIGINT      NOT NULL UNIQUE REFERENCES attempts (id),
    case_id     TEXT        NOT NULL REFERENCES cases (id),
    path        TEXT        NOT NULL,
    sha256      TEXT        NOT NULL,
    bytes       BIGINT      NOT NULL,
    millis      BIGINT      NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX recordings_case ON recordings (case_id);
