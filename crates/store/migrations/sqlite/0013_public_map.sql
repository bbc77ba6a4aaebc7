-- The public resource map: facilities near a point are found by a box of
-- latitudes and longitudes within a municipality, then by exact distance.
-- Lockstep with ../postgres.
CREATE INDEX facilities_by_location ON facilities(municipality_id, latitude, longitude);
