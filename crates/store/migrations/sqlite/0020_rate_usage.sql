-- What each instance used of a rate limit (requests per client address or per
-- API token) in one minute, so that several instances limit a client together.
-- Rows of past minutes are deleted. Lockstep with ../postgres.
CREATE TABLE rate_usage (
    limiter TEXT NOT NULL,
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    instance BLOB NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (limiter, key, window_start, instance)
);
