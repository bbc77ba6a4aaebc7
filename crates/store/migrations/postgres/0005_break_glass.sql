-- Break-glass: time-limited access for a clinician outside the team, with a stated reason. Lockstep with ../sqlite.
CREATE TABLE break_glass_grants (
    id UUID PRIMARY KEY,
    patient_id UUID NOT NULL REFERENCES patients(id),
    account_id UUID NOT NULL REFERENCES accounts(id),
    reason_kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX break_glass_by_patient ON break_glass_grants(patient_id, expires_at);
CREATE INDEX patients_by_birth_date ON patients(municipality_id, birth_date);
