-- Relation indexes now carry every column a lookup reads, so they are
-- answered from the index alone, not a table row per relation:
-- by source (walking a hierarchy such as a group and the groups below it,
-- and stitching) and by type and target (relations.<type> filters: the
-- entities a set of groups owns).
-- (A first bulk load builds them from apply.go's bulkIndexes, which must match.)
DROP INDEX IF EXISTS relations_source;
CREATE INDEX relations_source ON relations (source_ref, type, target_ref);
DROP INDEX IF EXISTS relations_type_target;
CREATE INDEX relations_type_target ON relations (lower(type), target_ref, source_ref);
