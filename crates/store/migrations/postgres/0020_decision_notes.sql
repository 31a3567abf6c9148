-- 0020: a rejection's reason, kept with the request it decides (plans, waivers, third-party
-- contacts, numbers); the ledger's decision event carries its SHA-256.
-- Append-only: never edit a migration that has shipped.
ALTER TABLE arrangements ADD COLUMN decision_note TEXT;
ALTER TABLE waivers ADD COLUMN decision_note TEXT;
ALTER TABLE third_party_requests ADD COLUMN decision_note TEXT;
ALTER TABLE number_proposals ADD COLUMN decision_note TEXT;
