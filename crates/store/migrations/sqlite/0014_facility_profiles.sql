-- What a facility says about itself in the registry (services, hours,
-- accepting new patients and when that was confirmed, contact, languages).
-- Changes are kept in facility_history. Lockstep with ../postgres.
CREATE TABLE facility_profiles (
    facility_id BLOB PRIMARY KEY NOT NULL REFERENCES facilities(id),
    services TEXT NOT NULL,
    opening_hours TEXT,
    accepting TEXT,
    accepting_confirmed_on TEXT,
    contact_person TEXT,
    languages TEXT,
    note TEXT,
    updated_by BLOB NOT NULL REFERENCES accounts(id),
    updated_at TEXT NOT NULL
);
CREATE INDEX facility_profiles_accepting ON facility_profiles(accepting);
