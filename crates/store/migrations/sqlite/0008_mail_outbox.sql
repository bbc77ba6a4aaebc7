-- E-mail notifications (opt-in per account) and their outbox. A pending row is
-- written in the same transaction as the in-app notification, so none is lost;
-- one pending row per account at most, so a burst of notifications is one mail.
-- Lockstep with ../postgres.
ALTER TABLE accounts ADD COLUMN email_notifications BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE mail_outbox (
    id BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL,
    sent_at TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX mail_outbox_pending ON mail_outbox(sent_at, created_at);
CREATE INDEX mail_outbox_by_account ON mail_outbox(account_id, sent_at);
