-- In-app notifications (mentions, urgent entries, being added to a team). Lockstep with ../postgres.
CREATE TABLE notifications (
    id BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    patient_id BLOB NOT NULL REFERENCES patients(id),
    entry_id BLOB REFERENCES entries(id),
    kind TEXT NOT NULL,
    actor_id BLOB NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_unread ON notifications(account_id, read_at, created_at);
