-- Filter rows by key and value now carry the entity id and the original
-- value, so filters (IN lists and per-entity EXISTS probes), counts and
-- facets are answered from the index without reading the table's rows.
-- (A first bulk load builds it from apply.go's bulkIndexes, which must match.)
DROP INDEX IF EXISTS search_key_value;
CREATE INDEX search_key_value ON search (key, value, entity_id, original_value);
