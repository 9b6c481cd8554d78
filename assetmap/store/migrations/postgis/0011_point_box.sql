-- Each asset's point as planar lon/lat geometry, for radius searches that take every asset
-- in the circle: they test the lon/lat box around it on this index, then the circle in
-- arithmetic, and measure exactly in Python, as SQLite does. ST_DWithin on the geography
-- index tested a geocentric box about 2.7 times the circle's area and measured each row in
-- it. Expression indexes, so no column is added and the table is not rewritten; the
-- queries spell the expression the same way (postgis._POINT_SQL). GiST on geometry is built
-- sorted, so `assetmap cluster` orders the table by it: neighbours share heap pages.
CREATE INDEX assets_point ON assets USING gist (ST_SetSRID(ST_MakePoint(lon, lat), 4326));
-- With a category, as assets_category_geog (migration 6) does for the nearest: without it
-- the planner joins the box to every published asset of the category in the country
-- (assets_status_category), 57,000 index entries for a library search in London.
CREATE INDEX assets_category_point ON assets
    USING gist (category, ST_SetSRID(ST_MakePoint(lon, lat), 4326));
