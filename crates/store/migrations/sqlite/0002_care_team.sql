-- The care-team information-sharing system: patients, consent, teams, timeline.
-- Kept in lockstep with ../postgres/0002_care_team.sql. Nothing here is ever deleted.

CREATE TABLE patients (
    id BLOB PRIMARY KEY NOT NULL,
    municipality_id BLOB NOT NULL REFERENCES municipalities(id),
    created_by BLOB NOT NULL REFERENCES accounts(id),
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name_kana TEXT NOT NULL,
    given_name_kana TEXT NOT NULL,
    search_key TEXT NOT NULL,
    birth_date TEXT NOT NULL,
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
    outcome_date TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX patients_by_municipality ON patients(municipality_id, status);

CREATE TABLE consents (
    id BLOB PRIMARY KEY NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patients(id),
    given_on TEXT NOT NULL,
    method TEXT NOT NULL,
    proxy_name TEXT,
    proxy_relation TEXT,
    scope TEXT NOT NULL,
    recorded_by BLOB NOT NULL REFERENCES accounts(id),
    recorded_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawn_by BLOB REFERENCES accounts(id),
    withdrawal_reason TEXT
);
CREATE INDEX consents_by_patient ON consents(patient_id, recorded_at);

CREATE TABLE team_members (
    id BLOB PRIMARY KEY NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patients(id),
    account_id BLOB NOT NULL REFERENCES accounts(id),
    team_role TEXT NOT NULL,
    added_by BLOB NOT NULL REFERENCES accounts(id),
    joined_at TEXT NOT NULL,
    left_at TEXT,
    left_by BLOB REFERENCES accounts(id)
);
CREATE INDEX team_members_by_patient ON team_members(patient_id);
CREATE INDEX team_members_by_account ON team_members(account_id, left_at);

CREATE TABLE entries (
    id BLOB PRIMARY KEY NOT NULL,
    patient_id BLOB NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL,
    author_id BLOB NOT NULL REFERENCES accounts(id),
    reply_to BLOB REFERENCES entries(id),
    needs_reply INTEGER NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX entries_timeline ON entries(patient_id, created_at, id);

-- Every version of every entry: a correction adds a row and never changes one.
CREATE TABLE entry_versions (
    entry_id BLOB NOT NULL REFERENCES entries(id),
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    vitals TEXT NOT NULL,
    edited_by BLOB NOT NULL REFERENCES accounts(id),
    edited_at TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (entry_id, version)
);

CREATE TABLE entry_reads (
    entry_id BLOB NOT NULL REFERENCES entries(id),
    account_id BLOB NOT NULL REFERENCES accounts(id),
    read_at TEXT NOT NULL,
    PRIMARY KEY (entry_id, account_id)
);
CREATE INDEX entry_reads_by_account ON entry_reads(account_id);

CREATE TABLE entry_acknowledgements (
    entry_id BLOB NOT NULL REFERENCES entries(id),
    account_id BLOB NOT NULL REFERENCES accounts(id),
    acknowledged_at TEXT NOT NULL,
    PRIMARY KEY (entry_id, account_id)
);

CREATE TRIGGER entry_versions_no_update BEFORE UPDATE ON entry_versions
BEGIN SELECT RAISE(ABORT, 'entry versions are never changed'); END;
CREATE TRIGGER entry_versions_no_delete BEFORE DELETE ON entry_versions
BEGIN SELECT RAISE(ABORT, 'entry versions are never deleted'); END;
