-- The timeline says of each entry whether it has attachments, so that a read
-- of the timeline fetches attachments only when one of its entries has some.
-- Lockstep with the other backend.
CREATE INDEX attachments_by_entry ON attachments(entry_id);
