-- The nearest search reads only the facilities inside its box: the box's
-- latitudes become a run of bands ~1.1 km high (lat_cell), and in each band
-- the index gives the box's longitudes as one range. Before this, a box read
-- every facility of the municipality in its latitude band, whatever the
-- longitude (all of Japan's width on a national registry).
-- lat_cell = floor((latitude + 90) * 100). Lockstep with ../sqlite and with
-- `tsunagu_store::public_map::lat_cell`.
ALTER TABLE facilities ADD COLUMN lat_cell INTEGER
    GENERATED ALWAYS AS (floor((latitude + 90) * 100)::integer) STORED;
DROP INDEX facilities_by_location;
CREATE INDEX facilities_by_location ON facilities(municipality_id, lat_cell, longitude, latitude)
    WHERE closed_at IS NULL;
