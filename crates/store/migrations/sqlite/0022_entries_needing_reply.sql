-- A patient list counts, per patient, the entries that ask for a reply and
-- have none: a partial index holds only those, so the count does not walk the
-- patient's whole history. Lockstep with the other backend.
CREATE INDEX entries_needing_reply ON entries(patient_id, created_at) WHERE needs_reply;
