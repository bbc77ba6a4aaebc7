-- Family participation: who each entry is for. Lockstep with ../postgres.
ALTER TABLE entries ADD COLUMN audience TEXT NOT NULL DEFAULT 'team';
