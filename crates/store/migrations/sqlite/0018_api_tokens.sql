-- API tokens (issue 6): a person's token for an EHR or a device, acting as
-- that person and narrowed by its scopes. Only the SHA-256 of the token is
-- kept. Revoked tokens stay, for the audit trail. Lockstep with ../postgres.
CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by BLOB REFERENCES accounts(id)
);
CREATE INDEX api_tokens_by_account ON api_tokens(account_id, created_at);
