-- Foundation: municipalities, facilities, accounts, sign-in state, audit chain.
-- Kept in lockstep with ../postgres/0001_foundation.sql.

CREATE TABLE municipalities (
    id BLOB PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE facilities (
    id BLOB PRIMARY KEY NOT NULL,
    municipality_id BLOB NOT NULL REFERENCES municipalities(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_kana TEXT,
    medical_institution_code TEXT,
    care_provider_number TEXT,
    postal_code TEXT,
    address TEXT NOT NULL,
    phone TEXT,
    latitude REAL,
    longitude REAL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX facilities_by_municipality ON facilities(municipality_id, kind, name);
CREATE UNIQUE INDEX facilities_medical_code ON facilities(municipality_id, medical_institution_code) WHERE medical_institution_code IS NOT NULL;
CREATE UNIQUE INDEX facilities_care_number ON facilities(municipality_id, care_provider_number) WHERE care_provider_number IS NOT NULL;

CREATE TABLE accounts (
    id BLOB PRIMARY KEY NOT NULL,
    municipality_id BLOB REFERENCES municipalities(id),
    login_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    display_name_kana TEXT,
    email TEXT,
    profession TEXT NOT NULL,
    roles TEXT NOT NULL,
    status TEXT NOT NULL,
    password_hash TEXT,
    totp_secret BLOB,
    totp_last_step INTEGER,
    language TEXT NOT NULL DEFAULT 'ja',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX accounts_by_municipality ON accounts(municipality_id, login_id);

CREATE TABLE facility_memberships (
    account_id BLOB NOT NULL REFERENCES accounts(id),
    facility_id BLOB NOT NULL REFERENCES facilities(id),
    is_admin INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (account_id, facility_id)
);
CREATE INDEX memberships_by_facility ON facility_memberships(facility_id);

CREATE TABLE invitations (
    id BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    code_hash BLOB NOT NULL UNIQUE,
    created_by BLOB,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX invitations_by_account ON invitations(account_id);

CREATE TABLE recovery_codes (
    account_id BLOB NOT NULL REFERENCES accounts(id),
    code_hash BLOB NOT NULL,
    used_at TEXT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    stage TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    pending_totp_secret BLOB,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    source_ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_by_account ON sessions(account_id);

CREATE TABLE sign_in_failures (
    id BLOB PRIMARY KEY NOT NULL,
    throttle_key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures(throttle_key, at);

CREATE TABLE audit_chain_heads (
    chain BLOB PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);

CREATE TABLE audit_events (
    id BLOB PRIMARY KEY NOT NULL,
    chain BLOB NOT NULL,
    seq INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    actor_account_id BLOB,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id BLOB,
    source_ip TEXT,
    details TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_events_by_target ON audit_events(target_id);

-- Append-only: the application never updates or deletes an audit event.
-- (Someone with direct database access can drop these; the hash chain is what detects that.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
