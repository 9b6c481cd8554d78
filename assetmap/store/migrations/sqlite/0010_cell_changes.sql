-- Every change to asset_cells, numbered, so a process holding the points in memory (see
-- assetmap/store/point_grid.py) can tell, with one probe of this table's last number, whether
-- any connection has changed them, and read only the points that changed. Triggers, not the
-- store's code, write it: no path that touches asset_cells can forget to.
-- AUTOINCREMENT: a number is never used twice, even after the pruning below.
CREATE TABLE cell_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pk INTEGER NOT NULL
);
CREATE TRIGGER asset_cells_inserted AFTER INSERT ON asset_cells
BEGIN
    INSERT INTO cell_changes (pk) VALUES (NEW.pk);
END;
CREATE TRIGGER asset_cells_updated AFTER UPDATE ON asset_cells
BEGIN
    INSERT INTO cell_changes (pk) VALUES (NEW.pk);
    INSERT INTO cell_changes (pk) SELECT OLD.pk WHERE OLD.pk <> NEW.pk;
END;
CREATE TRIGGER asset_cells_deleted AFTER DELETE ON asset_cells
BEGIN
    INSERT INTO cell_changes (pk) VALUES (OLD.pk);
END;
-- Keep the latest 20,000 changes, pruning every 1,000th. A process further behind than that
-- finds its last number gone and reloads the whole table, which it would do anyway: catching
-- up on that many changes one by one is no cheaper.
CREATE TRIGGER cell_changes_pruned AFTER INSERT ON cell_changes WHEN NEW.seq % 1000 = 0
BEGIN
    DELETE FROM cell_changes WHERE seq <= NEW.seq - 20000;
END;
