-- Break-glass: time-limited access for a clinician outside the team, with a stated reason. Lockstep with ../postgres.
CREATE TABLE break_glass_grants (
    id BLOB PRIMARY KEY NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patients(id),
    account_id BLOB NOT NULL REFERENCES accounts(id),
    reason_kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX break_glass_by_patient ON break_glass_grants(patient_id, expires_at);
CREATE INDEX patients_by_birth_date ON patients(municipality_id, birth_date);
