-- Foundation: municipalities, facilities, accounts, sign-in state, audit chain.
-- Kept in lockstep with ../sqlite/0001_foundation.sql.

CREATE TABLE municipalities (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE facilities (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_kana TEXT,
    medical_institution_code TEXT,
    care_provider_number TEXT,
    postal_code TEXT,
    address TEXT NOT NULL,
    phone TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX facilities_by_municipality ON facilities(municipality_id, kind, name);
CREATE UNIQUE INDEX facilities_medical_code ON facilities(municipality_id, medical_institution_code) WHERE medical_institution_code IS NOT NULL;
CREATE UNIQUE INDEX facilities_care_number ON facilities(municipality_id, care_provider_number) WHERE care_provider_number IS NOT NULL;

CREATE TABLE accounts (
    id UUID PRIMARY KEY,
    municipality_id UUID REFERENCES municipalities(id),
    login_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    display_name_kana TEXT,
    email TEXT,
    profession TEXT NOT NULL,
    roles TEXT NOT NULL,
    status TEXT NOT NULL,
    password_hash TEXT,
    totp_secret BYTEA,
    totp_last_step BIGINT,
    language TEXT NOT NULL DEFAULT 'ja',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX accounts_by_municipality ON accounts(municipality_id, login_id);

CREATE TABLE facility_memberships (
    account_id UUID NOT NULL REFERENCES accounts(id),
    facility_id UUID NOT NULL REFERENCES facilities(id),
    is_admin BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, facility_id)
);
CREATE INDEX memberships_by_facility ON facility_memberships(facility_id);

CREATE TABLE invitations (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    code_hash BYTEA NOT NULL UNIQUE,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX invitations_by_account ON invitations(account_id);

CREATE TABLE recovery_codes (
    account_id UUID NOT NULL REFERENCES accounts(id),
    code_hash BYTEA NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    stage TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    pending_totp_secret BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    source_ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_by_account ON sessions(account_id);

CREATE TABLE sign_in_failures (
    id UUID PRIMARY KEY,
    throttle_key TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures(throttle_key, at);

CREATE TABLE audit_chain_heads (
    chain UUID PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);

CREATE TABLE audit_events (
    id UUID PRIMARY KEY,
    chain UUID NOT NULL,
    seq BIGINT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_account_id UUID,
    actor_label TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id UUID,
    source_ip TEXT,
    details TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_events_by_target ON audit_events(target_id);

-- Append-only: the application never updates or deletes an audit event.
-- (Someone with direct database access can drop this; the hash chain is what detects that.)
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
