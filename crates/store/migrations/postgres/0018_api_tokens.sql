-- API tokens (issue 6): a person's token for an EHR or a device, acting as
-- that person and narrowed by its scopes. Only the SHA-256 of the token is
-- kept. Revoked tokens stay, for the audit trail. Lockstep with ../sqlite.
CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    revoked_by UUID REFERENCES accounts(id)
);
CREATE INDEX api_tokens_by_account ON api_tokens(account_id, created_at);
