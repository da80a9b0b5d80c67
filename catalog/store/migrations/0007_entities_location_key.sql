-- Webhooks refresh the locations that read a pushed file: finding them by
-- the file (an entity's location_key) must not scan the catalog.
CREATE INDEX entities_location_key ON entities (location_key);
