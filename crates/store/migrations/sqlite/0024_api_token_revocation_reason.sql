-- Why a token was revoked (its owner, or the end of the credentials that made
-- it: reissue, password change, disabling, signing out everywhere), so that the
-- owner is told which tokens ended and why. Lockstep with the other backend.
ALTER TABLE api_tokens ADD COLUMN revoked_reason TEXT;
