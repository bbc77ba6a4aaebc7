-- The care-team information-sharing system: patients, consent, teams, timeline.
-- Kept in lockstep with ../sqlite/0002_care_team.sql. Nothing here is ever deleted.

CREATE TABLE patients (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    created_by UUID NOT NULL REFERENCES accounts(id),
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name_kana TEXT NOT NULL,
    given_name_kana TEXT NOT NULL,
    search_key TEXT NOT NULL,
    birth_date DATE NOT NULL,
    sex TEXT NOT NULL,
    address TEXT NOT NULL,
    daily_living_area TEXT,
    phone TEXT,
    key_person TEXT,
    key_person_phone TEXT,
    care_level TEXT NOT NULL,
    main_diagnoses TEXT,
    allergies TEXT,
    special_care TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    outcome_date DATE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX patients_by_municipality ON patients(municipality_id, status);

CREATE TABLE consents (
    id UUID PRIMARY KEY,
    patient_id UUID NOT NULL REFERENCES patients(id),
    given_on DATE NOT NULL,
    method TEXT NOT NULL,
    proxy_name TEXT,
    proxy_relation TEXT,
    scope TEXT NOT NULL,
    recorded_by UUID NOT NULL REFERENCES accounts(id),
    recorded_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawn_by UUID REFERENCES accounts(id),
    withdrawal_reason TEXT
);
CREATE INDEX consents_by_patient ON consents(patient_id, recorded_at);

CREATE TABLE team_members (
    id UUID PRIMARY KEY,
    patient_id UUID NOT NULL REFERENCES patients(id),
    account_id UUID NOT NULL REFERENCES accounts(id),
    team_role TEXT NOT NULL,
    added_by UUID NOT NULL REFERENCES accounts(id),
    joined_at TIMESTAMPTZ NOT NULL,
    left_at TIMESTAMPTZ,
    left_by UUID REFERENCES accounts(id)
);
CREATE INDEX team_members_by_patient ON team_members(patient_id);
CREATE INDEX team_members_by_account ON team_members(account_id, left_at);

CREATE TABLE entries (
    id UUID PRIMARY KEY,
    patient_id UUID NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL,
    author_id UUID NOT NULL REFERENCES accounts(id),
    reply_to UUID REFERENCES entries(id),
    needs_reply BOOLEAN NOT NULL,
    latest_version BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX entries_timeline ON entries(patient_id, created_at, id);

-- Every version of every entry: a correction adds a row and never changes one.
CREATE TABLE entry_versions (
    entry_id UUID NOT NULL REFERENCES entries(id),
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    vitals TEXT NOT NULL,
    edited_by UUID NOT NULL REFERENCES accounts(id),
    edited_at TIMESTAMPTZ NOT NULL,
    reason TEXT,
    PRIMARY KEY (entry_id, version)
);

CREATE TABLE entry_reads (
    entry_id UUID NOT NULL REFERENCES entries(id),
    account_id UUID NOT NULL REFERENCES accounts(id),
    read_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX entry_reads_by_account ON entry_reads(account_id);

CREATE TABLE entry_acknowledgements (
    entry_id UUID NOT NULL REFERENCES entries(id),
    account_id UUID NOT NULL REFERENCES accounts(id),
    acknowledged_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entry_id, account_id)
);

CREATE FUNCTION entry_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'entry versions are never changed or deleted';
END;
$$;
CREATE TRIGGER entry_versions_no_change BEFORE UPDATE OR DELETE ON entry_versions
FOR EACH ROW EXECUTE FUNCTION entry_versions_immutable();
