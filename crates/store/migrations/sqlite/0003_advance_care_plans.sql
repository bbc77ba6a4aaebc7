-- Advance care planning (人生会議): every revision kept. Lockstep with ../postgres.
CREATE TABLE advance_care_plans (
    id BLOB PRIMARY KEY NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patients(id),
    discussed_on TEXT NOT NULL,
    participants TEXT NOT NULL,
    place_of_care TEXT NOT NULL,
    place_of_death TEXT NOT NULL,
    treatment TEXT NOT NULL,
    proxy_name TEXT,
    proxy_relation TEXT,
    wishes TEXT,
    recorded_by BLOB NOT NULL REFERENCES accounts(id),
    recorded_at TEXT NOT NULL
);
CREATE INDEX advance_care_plans_by_patient ON advance_care_plans(patient_id, recorded_at);
CREATE TRIGGER advance_care_plans_no_update BEFORE UPDATE ON advance_care_plans
BEGIN SELECT RAISE(ABORT, 'advance care plan revisions are never changed'); END;
CREATE TRIGGER advance_care_plans_no_delete BEFORE DELETE ON advance_care_plans
BEGIN SELECT RAISE(ABORT, 'advance care plan revisions are never deleted'); END;
