-- The scanned consent form, when one was attached: the timeline entry that carries it.
ALTER TABLE consents ADD COLUMN document_entry_id UUID REFERENCES entries(id);
