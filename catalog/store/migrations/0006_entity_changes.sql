-- A log of which entities changed, for readers that follow the catalog
-- (the search index): every insert, every change of an entity's served
-- JSON, every delete appends its ref. Readers remember the last seq they
-- handled and prune what every reader has seen. (seq is the rowid: pruning
-- keeps the newest row, so seqs never go back; AUTOINCREMENT would cost a
-- write of sqlite_sequence per change.)
CREATE TABLE entity_changes (
    seq INTEGER PRIMARY KEY,
    ref TEXT NOT NULL
);
CREATE TRIGGER entity_changes_insert AFTER INSERT ON entities
BEGIN INSERT INTO entity_changes (ref) VALUES (new.ref); END;
CREATE TRIGGER entity_changes_update AFTER UPDATE OF final, ref ON entities
WHEN old.final IS NOT new.final OR old.ref IS NOT new.ref
BEGIN
    INSERT INTO entity_changes (ref) VALUES (new.ref);
    INSERT INTO entity_changes (ref) SELECT old.ref WHERE old.ref IS NOT new.ref;
END;
CREATE TRIGGER entity_changes_delete AFTER DELETE ON entities
BEGIN INSERT INTO entity_changes (ref) VALUES (old.ref); END;
