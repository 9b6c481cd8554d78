"""The 0.01-degree grid of SQLite's asset_cells (migration 0006), in Python and in SQL.

A cell id is ``row * CELL_ROW + column``, with ``row = floor((lat + 90) * 100)`` and
``column = floor((lon + 180) * 100)``: ids grow with longitude along a grid row, so the
cells of a box are one id range per row it touches. The SQL and the Python compute the
same numbers (same double arithmetic); tests/store/test_nearby_paths.py checks it.
"""

from __future__ import annotations

CELLS_PER_DEGREE = 100
CELL_ROW = 65_536
# Cell id of an asset row, in SQL.
CELL_SQL = (
    f"CAST((lat + 90.0) * {CELLS_PER_DEGREE} AS INTEGER) * {CELL_ROW}"
    f" + CAST((lon + 180.0) * {CELLS_PER_DEGREE} AS INTEGER)"
)
_LAST_ROW = 180 * CELLS_PER_DEGREE


def grid_row(lat: float) -> int:
    """The grid row of a latitude."""
    return int((lat + 90.0) * CELLS_PER_DEGREE)


def grid_column(lon: float) -> int:
    """The grid column of a longitude."""
    return int((lon + 180.0) * CELLS_PER_DEGREE)


def cell_of(lon: float, lat: float) -> int:
    """The asset_cells cell id of a WGS84 point (the same arithmetic as the SQL)."""
    return grid_row(lat) * CELL_ROW + grid_column(lon)


def cell_ranges(box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """Inclusive cell id ranges, one per grid row, holding every point of the box.

    ``box`` is (min_lon, min_lat, max_lon, max_lat), as :func:`bbox_around` gives it; the
    parts beyond the grid's edges are left out.
    """
    min_lon, min_lat, max_lon, max_lat = box
    first = max(grid_column(min_lon), 0)
    last = min(grid_column(max_lon), grid_column(180.0))
    rows = range(max(grid_row(min_lat), 0), min(grid_row(max_lat), _LAST_ROW) + 1)
    return [(row * CELL_ROW + first, row * CELL_ROW + last) for row in rows]
