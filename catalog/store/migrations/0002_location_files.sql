-- Fingerprints of files whose last read was clean (valid entities only, no
-- placeholders, no Location targets): an unchanged fingerprint lets the next
-- crawl keep the file's entities without parsing it again.
CREATE TABLE location_files (
    root_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (root_id, key)
);
