-- Advance care planning (人生会議): every revision kept. Lockstep with ../sqlite.
CREATE TABLE advance_care_plans (
    id UUID PRIMARY KEY,
    patient_id UUID NOT NULL REFERENCES patients(id),
    discussed_on DATE NOT NULL,
    participants TEXT NOT NULL,
    place_of_care TEXT NOT NULL,
    place_of_death TEXT NOT NULL,
    treatment TEXT NOT NULL,
    proxy_name TEXT,
    proxy_relation TEXT,
    wishes TEXT,
    recorded_by UUID NOT NULL REFERENCES accounts(id),
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX advance_care_plans_by_patient ON advance_care_plans(patient_id, recorded_at);
CREATE FUNCTION advance_care_plans_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'advance care plan revisions are never changed or deleted';
END;
$$;
CREATE TRIGGER advance_care_plans_no_change BEFORE UPDATE OR DELETE ON advance_care_plans
FOR EACH ROW EXECUTE FUNCTION advance_care_plans_immutable();
