-- In-app notifications (mentions, urgent entries, being added to a team). Lockstep with ../sqlite.
CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    patient_id UUID NOT NULL REFERENCES patients(id),
    entry_id UUID REFERENCES entries(id),
    kind TEXT NOT NULL,
    actor_id UUID NOT NULL REFERENCES accounts(id),
    created_at TIMESTAMPTZ NOT NULL,
    read_at TIMESTAMPTZ
);
CREATE INDEX notifications_unread ON notifications(account_id, read_at, created_at);
