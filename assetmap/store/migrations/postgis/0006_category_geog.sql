-- "The nearest libraries": a GiST index on (category, geog) lets one KNN scan walk a single
-- category outwards in distance order, instead of walking every nearby asset and dropping
-- the other categories (a city centre has thousands within a mile). btree_gist gives GiST
-- its text operators; it is a trusted extension, so the database owner may create it. It
-- goes in public so that dropping one store's schema never takes it from another.
CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public;
CREATE INDEX assets_category_geog ON assets USING gist (category, geog);
