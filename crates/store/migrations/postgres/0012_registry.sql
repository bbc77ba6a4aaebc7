-- The resource registry's imports (item ア): where each facility's data came
-- from, status flags with the dates they started and ended (the indicators ask
-- "how many support clinics were there in April 2016"), every change kept as
-- a snapshot, and a report per import run. Lockstep with ../sqlite.
ALTER TABLE facilities ADD COLUMN fax TEXT;
ALTER TABLE facilities ADD COLUMN service TEXT;
ALTER TABLE facilities ADD COLUMN closed_at TIMESTAMPTZ;

CREATE TABLE facility_sources (
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    scope TEXT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (municipality_id, source, source_id)
);
CREATE INDEX facility_sources_by_facility ON facility_sources(facility_id);

CREATE TABLE facility_flags (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    flag TEXT NOT NULL,
    since DATE,
    source TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);
CREATE INDEX facility_flags_by_facility ON facility_flags(facility_id, flag);
CREATE INDEX facility_flags_by_flag ON facility_flags(flag, since);

CREATE TABLE facility_history (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    changed_at TIMESTAMPTZ NOT NULL,
    changed_by TEXT NOT NULL,
    change TEXT NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX facility_history_by_facility ON facility_history(facility_id, changed_at);

CREATE TABLE import_runs (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL,
    imported_by TEXT NOT NULL,
    added BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    elsewhere BIGINT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX import_runs_by_municipality ON import_runs(municipality_id, imported_at);
