-- Assets (current state, one row per asset) and their append-only revisions.
CREATE TABLE assets (
    pk BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    source_id TEXT NOT NULL DEFAULT '',
    revision INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Kept in step by the database itself, so no code path can leave the index stale.
    geog geography(Point, 4326)
        GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED
);
CREATE INDEX assets_status_category ON assets (status, category);
CREATE INDEX assets_source ON assets (source, source_id);
CREATE INDEX assets_name_norm ON assets (name_norm);
CREATE INDEX assets_geog ON assets USING gist (geog);

CREATE TABLE revisions (
    pk BIGSERIAL PRIMARY KEY,
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
CREATE FUNCTION revisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'revisions are append-only';
END;
$$;
CREATE TRIGGER revisions_no_update BEFORE UPDATE OR DELETE ON revisions
    FOR EACH ROW EXECUTE FUNCTION revisions_append_only();
CREATE TRIGGER revisions_no_truncate BEFORE TRUNCATE ON revisions
    FOR EACH STATEMENT EXECUTE FUNCTION revisions_append_only();
