-- Assets (current state, one row per asset) and their append-only revisions.
CREATE TABLE assets (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    source_id TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX assets_status_category ON assets (status, category);
CREATE INDEX assets_source ON assets (source, source_id);
CREATE INDEX assets_name_norm ON assets (name_norm);

CREATE TABLE revisions (
    pk INTEGER PRIMARY KEY,
    asset_id TEXT NOT NULL REFERENCES assets (id),
    number INTEGER NOT NULL,
    action TEXT NOT NULL,
    author TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    changed TEXT NOT NULL,
    state TEXT NOT NULL,
    UNIQUE (asset_id, number)
);

-- History is never rewritten: the database itself refuses, whatever the code does.
CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are append-only');
END;
CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
BEGIN
    SELECT RAISE(ABORT, 'revisions are append-only');
END;

-- R*Tree over asset points (degrees); radius and nearest queries start here, never a scan.
CREATE VIRTUAL TABLE asset_rtree USING rtree (pk, min_lon, max_lon, min_lat, max_lat);
