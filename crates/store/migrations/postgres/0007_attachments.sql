-- Attachments: the bytes live in files outside the database; this is their index. Lockstep with ../sqlite.
CREATE TABLE attachments (
    id UUID PRIMARY KEY,
    entry_id UUID NOT NULL REFERENCES entries(id),
    patient_id UUID NOT NULL REFERENCES patients(id),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_by_patient ON attachments(patient_id, created_at);
