-- What a facility says about itself in the registry (services, hours,
-- accepting new patients and when that was confirmed, contact, languages).
-- Changes are kept in facility_history. Lockstep with ../sqlite.
CREATE TABLE facility_profiles (
    facility_id UUID PRIMARY KEY REFERENCES facilities(id),
    services TEXT NOT NULL,
    opening_hours TEXT,
    accepting TEXT,
    accepting_confirmed_on DATE,
    contact_person TEXT,
    languages TEXT,
    note TEXT,
    updated_by UUID NOT NULL REFERENCES accounts(id),
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX facility_profiles_accepting ON facility_profiles(accepting);
