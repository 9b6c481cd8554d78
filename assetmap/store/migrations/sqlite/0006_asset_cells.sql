-- Asset points clustered on a 0.01-degree grid (about 1.1 km by 0.7 km in England), with what
-- a radius search filters on. Rows sharing a cell sit together on disk, so a search reads one
-- short key range per grid row of its box instead of one scattered asset row per candidate
-- (the R*Tree holds only boxes, so every candidate cost a random read of the asset row).
-- cell = row * 65536 + column; row = floor((lat + 90) * 100), column = floor((lon + 180) * 100).
-- assetmap/store/sqlite.py computes the same numbers in Python (same double arithmetic).
CREATE TABLE asset_cells (
    cell INTEGER NOT NULL,
    pk INTEGER NOT NULL,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    status TEXT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (cell, pk)
) WITHOUT ROWID;
CREATE UNIQUE INDEX asset_cells_pk ON asset_cells (pk);
INSERT INTO asset_cells (cell, pk, lon, lat, status, category)
SELECT CAST((lat + 90.0) * 100 AS INTEGER) * 65536 + CAST((lon + 180.0) * 100 AS INTEGER),
       pk, lon, lat, status, category
FROM assets;
