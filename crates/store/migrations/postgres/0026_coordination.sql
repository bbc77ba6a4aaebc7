-- The coordination centre's desk (items オ and ウ): cases (consultations and
-- hospitals' discharge requests), their tasks and log, and the requests to
-- candidate facilities for the future care team. Lockstep with ../sqlite.
CREATE TABLE coordination_cases (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    channel TEXT NOT NULL,
    requester_kind TEXT NOT NULL,
    requester_name TEXT NOT NULL,
    requester_contact TEXT,
    -- The hospital account (and its hospital) that sent a discharge request.
    requester_account_id UUID REFERENCES accounts(id),
    requester_facility_id UUID REFERENCES facilities(id),
    subject_name TEXT,
    subject_area TEXT,
    -- Topic codes, comma-separated.
    topics TEXT NOT NULL,
    urgency TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- A discharge request's handover (JSON), and its planned discharge.
    handover TEXT,
    planned_discharge_on DATE,
    assignee_id UUID REFERENCES accounts(id),
    outcome TEXT,
    closing_note TEXT,
    -- The patient the case's team was created for.
    patient_id UUID REFERENCES patients(id),
    -- The public form's sender, as a keyed hash of the address (rate limit).
    source_key TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    first_response_at TIMESTAMPTZ,
    team_completed_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX coordination_cases_queue ON coordination_cases(municipality_id, closed_at, created_at);
CREATE INDEX coordination_cases_by_requester ON coordination_cases(requester_account_id, created_at);
CREATE INDEX coordination_cases_by_source ON coordination_cases(municipality_id, source_key, created_at);

CREATE TABLE case_tasks (
    id UUID PRIMARY KEY,
    case_id UUID NOT NULL REFERENCES coordination_cases(id),
    title TEXT NOT NULL,
    due_on DATE,
    created_by UUID NOT NULL REFERENCES accounts(id),
    created_at TIMESTAMPTZ NOT NULL,
    done_at TIMESTAMPTZ,
    done_by UUID REFERENCES accounts(id)
);
CREATE INDEX case_tasks_by_case ON case_tasks(case_id, created_at);

CREATE TABLE case_log (
    id UUID PRIMARY KEY,
    case_id UUID NOT NULL REFERENCES coordination_cases(id),
    kind TEXT NOT NULL,
    note TEXT NOT NULL,
    written_by UUID REFERENCES accounts(id),
    written_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_log_by_case ON case_log(case_id, written_at);

CREATE TABLE case_candidates (
    id UUID PRIMARY KEY,
    case_id UUID NOT NULL REFERENCES coordination_cases(id),
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    facility_id UUID NOT NULL REFERENCES facilities(id),
    seat TEXT NOT NULL,
    requested_by UUID NOT NULL REFERENCES accounts(id),
    requested_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    accepted BOOLEAN,
    decline_reason TEXT,
    note TEXT,
    answered_by UUID REFERENCES accounts(id),
    answered_at TIMESTAMPTZ,
    -- When the facility was reminded of the deadline (once).
    reminded_at TIMESTAMPTZ,
    UNIQUE (case_id, facility_id, seat)
);
CREATE INDEX case_candidates_by_facility ON case_candidates(facility_id, answered_at);

-- The municipality's discharge rules, one row per adopted version (rules as JSON).
CREATE TABLE discharge_rule_sets (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    version BIGINT NOT NULL,
    rules TEXT NOT NULL,
    note TEXT,
    adopted_by UUID NOT NULL REFERENCES accounts(id),
    adopted_at TIMESTAMPTZ NOT NULL,
    UNIQUE (municipality_id, version)
);

-- A discharge case's pre-discharge conference (退院前カンファレンス).
CREATE TABLE discharge_conferences (
    case_id UUID PRIMARY KEY REFERENCES coordination_cases(id),
    starts_at TIMESTAMPTZ NOT NULL,
    place TEXT,
    online BOOLEAN NOT NULL,
    participants TEXT NOT NULL,
    minutes TEXT,
    decisions TEXT,
    updated_by UUID NOT NULL REFERENCES accounts(id),
    updated_at TIMESTAMPTZ NOT NULL
);

-- Files of a case (a referral letter, a scanned form): stored like a record's attachments.
CREATE TABLE case_attachments (
    id UUID PRIMARY KEY,
    case_id UUID NOT NULL REFERENCES coordination_cases(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 BYTEA NOT NULL,
    uploaded_by UUID NOT NULL REFERENCES accounts(id),
    uploaded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_attachments_by_case ON case_attachments(case_id, uploaded_at);

-- The consultation topics a municipality offers (tsunagu's defaults until it has its own).
-- Cases keep the code: a topic is retired, never removed.
CREATE TABLE consultation_topics (
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    position BIGINT NOT NULL,
    retired BOOLEAN NOT NULL,
    PRIMARY KEY (municipality_id, code)
);
