-- Registered root locations: from config (source 'config') or the API ('api').
CREATE TABLE locations (
    id            TEXT PRIMARY KEY,
    type          TEXT NOT NULL,
    target        TEXT NOT NULL,
    source        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_crawl_at TEXT,
    last_crawl_ms INTEGER,
    UNIQUE (type, target)
);

-- Final entities as the API serves them, with their provenance: the root
-- location that owns them, the file or URL they were read from
-- (location_key, which decides conflicts) and the entity that emitted them.
CREATE TABLE entities (
    id           INTEGER PRIMARY KEY,
    uid          TEXT NOT NULL UNIQUE,
    ref          TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    name         TEXT NOT NULL,
    root_id      TEXT NOT NULL,
    location_key TEXT NOT NULL,
    parent_ref   TEXT,
    hash         TEXT NOT NULL,
    etag         TEXT NOT NULL,
    orphan       INTEGER NOT NULL DEFAULT 0,
    final        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX entities_root ON entities (root_id);
CREATE INDEX entities_kind ON entities (kind);

-- Relations by the entity whose processing emitted them; an entity serves
-- the rows whose source_ref is its ref.
CREATE TABLE relations (
    originating_id INTEGER NOT NULL,
    source_ref     TEXT NOT NULL,
    type           TEXT NOT NULL,
    target_ref     TEXT NOT NULL
);
CREATE INDEX relations_source ON relations (source_ref);
CREATE INDEX relations_origin ON relations (originating_id);

-- Flattened, lower-cased key/value rows the API filters, sorts and facets on
-- (relations.<type> filters are answered from the relations table).
CREATE TABLE search (
    entity_id      INTEGER NOT NULL,
    key            TEXT NOT NULL,
    value          TEXT,
    original_value TEXT
);
CREATE INDEX search_key_value ON search (key, value);
CREATE INDEX search_entity ON search (entity_id);

-- Errors of the last crawl of each root location: unreadable files, invalid
-- entities, conflicts. entity_ref is set when the error concerns an entity.
CREATE TABLE errors (
    id          INTEGER PRIMARY KEY,
    root_id     TEXT NOT NULL,
    location    TEXT NOT NULL,
    entity_ref  TEXT,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX errors_root ON errors (root_id);
CREATE INDEX errors_ref ON errors (entity_ref);
