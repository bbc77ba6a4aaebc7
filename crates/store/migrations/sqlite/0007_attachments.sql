-- Attachments: the bytes live in files outside the database; this is their index. Lockstep with ../postgres.
CREATE TABLE attachments (
    id BLOB PRIMARY KEY NOT NULL,
    entry_id BLOB NOT NULL REFERENCES entries(id),
    patient_id BLOB NOT NULL REFERENCES patients(id),
    content_type TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_by_patient ON attachments(patient_id, created_at);
