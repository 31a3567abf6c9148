-- 0020: teams and agencies as records; a rejection's reason, kept with the request it decides (plans, waivers, third-party
-- contacts, numbers); the ledger's decision event carries its SHA-256.
-- Append-only: never edit a migration that has shipped.
ALTER TABLE arrangements ADD COLUMN decision_note TEXT;
ALTER TABLE waivers ADD COLUMN decision_note TEXT;
ALTER TABLE third_party_requests ADD COLUMN decision_note TEXT;
ALTER TABLE number_proposals ADD COLUMN decision_note TEXT;

-- Teams and agencies as records: a user's team or agency must be one of them (a typo no longer
-- makes a new team). Seeded from the teams and agencies users and cases name today.
CREATE TABLE org_units (
    kind TEXT NOT NULL,            -- team | agency
    id   TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
INSERT INTO org_units (kind, id, name)
    SELECT 'team', team, team FROM users WHERE team IS NOT NULL
    UNION SELECT 'team', team, team FROM cases WHERE team IS NOT NULL
    UNION SELECT 'agency', agency, agency FROM users WHERE agency IS NOT NULL
    UNION SELECT 'agency', agency, agency FROM cases WHERE agency IS NOT NULL;
