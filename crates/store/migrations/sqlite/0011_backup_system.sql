-- The backup system (item ウ): physician groups, absences, on-call rosters,
-- hospital backup beds, urgent requests and their escalation steps (whose
-- due_at are the timers), and the outgoing webhook's outbox. Lockstep with ../postgres.
CREATE TABLE physician_groups (
    id BLOB PRIMARY KEY NOT NULL,
    municipality_id BLOB NOT NULL REFERENCES municipalities(id),
    name TEXT NOT NULL,
    area TEXT NOT NULL,
    coordinator_id BLOB REFERENCES accounts(id),
    created_at TEXT NOT NULL
);
CREATE INDEX physician_groups_by_municipality ON physician_groups(municipality_id, name);

CREATE TABLE physician_group_members (
    group_id BLOB NOT NULL REFERENCES physician_groups(id),
    account_id BLOB NOT NULL REFERENCES accounts(id),
    phone TEXT,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX physician_group_members_by_account ON physician_group_members(account_id);

CREATE TABLE absences (
    id BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts(id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by BLOB NOT NULL REFERENCES accounts(id),
    created_at TEXT NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX absences_by_account ON absences(account_id, ends_at);

CREATE TABLE on_call_shifts (
    group_id BLOB NOT NULL REFERENCES physician_groups(id),
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    account_id BLOB REFERENCES accounts(id),
    updated_by BLOB NOT NULL REFERENCES accounts(id),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (group_id, starts_at)
);

CREATE TABLE backup_hospitals (
    facility_id BLOB PRIMARY KEY NOT NULL REFERENCES facilities(id),
    municipality_id BLOB NOT NULL REFERENCES municipalities(id),
    participates BOOLEAN NOT NULL,
    beds_available BIGINT NOT NULL,
    note TEXT NOT NULL,
    updated_by BLOB NOT NULL REFERENCES accounts(id),
    updated_at TEXT NOT NULL
);

CREATE TABLE patient_backup_hospitals (
    patient_id BLOB PRIMARY KEY NOT NULL REFERENCES patients(id),
    facility_id BLOB NOT NULL REFERENCES facilities(id),
    set_by BLOB NOT NULL REFERENCES accounts(id),
    set_at TEXT NOT NULL
);

CREATE TABLE urgent_requests (
    id BLOB PRIMARY KEY NOT NULL,
    municipality_id BLOB NOT NULL REFERENCES municipalities(id),
    patient_id BLOB NOT NULL REFERENCES patients(id),
    kind TEXT NOT NULL,
    note TEXT NOT NULL,
    raised_by BLOB NOT NULL REFERENCES accounts(id),
    raised_at TEXT NOT NULL,
    state TEXT NOT NULL,
    acknowledged_by BLOB REFERENCES accounts(id),
    acknowledged_at TEXT,
    accepted_facility_id BLOB REFERENCES facilities(id),
    accepted_at TEXT,
    outcome TEXT,
    outcome_note TEXT,
    outcome_by BLOB REFERENCES accounts(id),
    outcome_at TEXT
);
CREATE INDEX urgent_requests_by_patient ON urgent_requests(patient_id, raised_at);
CREATE INDEX urgent_requests_by_state ON urgent_requests(municipality_id, state, raised_at);

CREATE TABLE escalation_steps (
    id BLOB PRIMARY KEY NOT NULL,
    request_id BLOB NOT NULL REFERENCES urgent_requests(id),
    seq BIGINT NOT NULL,
    role TEXT NOT NULL,
    account_id BLOB REFERENCES accounts(id),
    facility_id BLOB REFERENCES facilities(id),
    due_at TEXT NOT NULL,
    fired_at TEXT,
    fired_by TEXT,
    answer TEXT,
    answered_at TEXT,
    answered_by BLOB REFERENCES accounts(id),
    answer_reason TEXT,
    UNIQUE (request_id, seq)
);
CREATE INDEX escalation_steps_due ON escalation_steps(due_at) WHERE fired_at IS NULL AND answer IS NULL;
CREATE INDEX escalation_steps_by_account ON escalation_steps(account_id, fired_at);
CREATE INDEX escalation_steps_by_facility ON escalation_steps(facility_id, fired_at);

CREATE TABLE webhook_outbox (
    id BLOB PRIMARY KEY NOT NULL,
    municipality_id BLOB NOT NULL REFERENCES municipalities(id),
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_status BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_outbox_by_municipality ON webhook_outbox(municipality_id, created_at);
CREATE INDEX webhook_outbox_pending ON webhook_outbox(next_attempt_at) WHERE delivered_at IS NULL;
