-- The public list in furigana order, a page at a time: these indexes give
-- the order (with or without a kind), so the first page is read, not sorted
-- out of every facility; the kind's count is read from the index alone.
-- The expression must match the query's ORDER BY exactly
-- (store/src/public_map.rs). Lockstep with ../sqlite.
CREATE INDEX facilities_public_order ON facilities(municipality_id, COALESCE(name_kana, name), name, id)
    WHERE closed_at IS NULL;
CREATE INDEX facilities_public_kind_order ON facilities(municipality_id, kind, COALESCE(name_kana, name), name, id)
    WHERE closed_at IS NULL;
