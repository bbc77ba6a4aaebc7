-- Identifiers that other systems give what they post (an Observation's or a
-- Communication's identifier, e.g. a device's measurement id), so that a
-- retried post is recognised (FHIR conditional create, If-None-Exist) and
-- never makes a second entry. Unique per patient. Lockstep with ../postgres.
CREATE TABLE entry_identifiers (
    patient_id BLOB NOT NULL REFERENCES patients(id),
    system TEXT NOT NULL,
    value TEXT NOT NULL,
    entry_id BLOB NOT NULL REFERENCES entries(id),
    PRIMARY KEY (patient_id, system, value)
);
