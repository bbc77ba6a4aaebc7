-- The vital-signs trend beside the timeline (the newest measurements of a
-- patient) is one index range, not a walk through every entry of the
-- patient's history looking for measurements. Lockstep with the other backend.
CREATE INDEX entries_by_kind ON entries(patient_id, kind, created_at, id);
