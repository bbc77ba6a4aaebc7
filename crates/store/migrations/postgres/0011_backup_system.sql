-- The backup system (item ウ): physician groups, absences, on-call rosters,
-- hospital backup beds, urgent requests and their escalation steps (whose
-- due_at are the timers), and the outgoing webhook's outbox. Lockstep with ../sqlite.
CREATE TABLE physician_groups (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    name TEXT NOT NULL,
    area TEXT NOT NULL,
    coordinator_id UUID REFERENCES accounts(id),
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX physician_groups_by_municipality ON physician_groups(municipality_id, name);

CREATE TABLE physician_group_members (
    group_id UUID NOT NULL REFERENCES physician_groups(id),
    account_id UUID NOT NULL REFERENCES accounts(id),
    phone TEXT,
    joined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX physician_group_members_by_account ON physician_group_members(account_id);

CREATE TABLE absences (
    id UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts(id),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES accounts(id),
    created_at TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ
);
CREATE INDEX absences_by_account ON absences(account_id, ends_at);

CREATE TABLE on_call_shifts (
    group_id UUID NOT NULL REFERENCES physician_groups(id),
    starts_at TIMESTAMPTZ NOT NULL,
    ends_at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    account_id UUID REFERENCES accounts(id),
    updated_by UUID NOT NULL REFERENCES accounts(id),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, starts_at)
);

CREATE TABLE backup_hospitals (
    facility_id UUID PRIMARY KEY REFERENCES facilities(id),
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    participates BOOLEAN NOT NULL,
    beds_available BIGINT NOT NULL,
    note TEXT NOT NULL,
    updated_by UUID NOT NULL REFERENCES accounts(id),
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE patient_backup_hospitals (
    patient_id UUID PRIMARY KEY REFERENCES patients(id),
    facility_id UUID NOT NULL REFERENCES facilities(id),
    set_by UUID NOT NULL REFERENCES accounts(id),
    set_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE urgent_requests (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    patient_id UUID NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL,
    note TEXT NOT NULL,
    raised_by UUID NOT NULL REFERENCES accounts(id),
    raised_at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL,
    acknowledged_by UUID REFERENCES accounts(id),
    acknowledged_at TIMESTAMPTZ,
    accepted_facility_id UUID REFERENCES facilities(id),
    accepted_at TIMESTAMPTZ,
    outcome TEXT,
    outcome_note TEXT,
    outcome_by UUID REFERENCES accounts(id),
    outcome_at TIMESTAMPTZ
);
CREATE INDEX urgent_requests_by_patient ON urgent_requests(patient_id, raised_at);
CREATE INDEX urgent_requests_by_state ON urgent_requests(municipality_id, state, raised_at);

CREATE TABLE escalation_steps (
    id UUID PRIMARY KEY,
    request_id UUID NOT NULL REFERENCES urgent_requests(id),
    seq BIGINT NOT NULL,
    role TEXT NOT NULL,
    account_id UUID REFERENCES accounts(id),
    facility_id UUID REFERENCES facilities(id),
    due_at TIMESTAMPTZ NOT NULL,
    fired_at TIMESTAMPTZ,
    fired_by TEXT,
    answer TEXT,
    answered_at TIMESTAMPTZ,
    answered_by UUID REFERENCES accounts(id),
    answer_reason TEXT,
    UNIQUE (request_id, seq)
);
CREATE INDEX escalation_steps_due ON escalation_steps(due_at) WHERE fired_at IS NULL AND answer IS NULL;
CREATE INDEX escalation_steps_by_account ON escalation_steps(account_id, fired_at);
CREATE INDEX escalation_steps_by_facility ON escalation_steps(facility_id, fired_at);

CREATE TABLE webhook_outbox (
    id UUID PRIMARY KEY,
    municipality_id UUID NOT NULL REFERENCES municipalities(id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    last_status BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_outbox_by_municipality ON webhook_outbox(municipality_id, created_at);
CREATE INDEX webhook_outbox_pending ON webhook_outbox(next_attempt_at) WHERE delivered_at IS NULL;
