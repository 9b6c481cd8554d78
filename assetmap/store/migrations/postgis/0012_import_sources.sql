-- What each asset's source said when an import last changed it (its content as Asset.to_dict
-- gives it). A re-import compares the source's rows with this, not with the asset as staff
-- have since corrected it: only the fields the source itself changed are taken, so a re-run
-- of an unchanged file never undoes a moderator's edit. Assets imported before this table
-- existed have no row; their last import revision holds the same thing.
CREATE TABLE import_sources (
    pk BIGSERIAL PRIMARY KEY,
    asset_id TEXT NOT NULL UNIQUE REFERENCES assets(id),
    state TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
