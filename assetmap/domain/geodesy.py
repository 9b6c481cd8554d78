"""Distances on the WGS84 ellipsoid, in metres.

The one place that turns lon/lat pairs into metres, so every layer (store, search, JSAA)
measures the same way. Geodesic distances agree with British National Grid (EPSG:27700)
distances to within its scale factor (≤0.04 %), and stay right outside Great Britain.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pyproj import Geod

WGS84 = Geod(ellps="WGS84")
# Smallest metres-per-degree of latitude on the WGS84 ellipsoid (at the equator); used to size
# search boxes so they always contain the circle.
_M_PER_DEG_LAT_MIN = 110_574.0


def distances_m(lon: float, lat: float, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.float64]:
    """Geodesic distance in metres from one point to many (all WGS84 degrees)."""
    lons_a = np.asarray(lons, dtype=np.float64)
    lats_a = np.asarray(lats, dtype=np.float64)
    if lons_a.size == 0:
        return np.empty(0, dtype=np.float64)
    _, _, dist = WGS84.inv(np.full_like(lons_a, lon), np.full_like(lats_a, lat), lons_a, lats_a)
    return np.asarray(dist, dtype=np.float64)


def bbox_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box (min_lon, min_lat, max_lon, max_lat) that contains the circle of radius_m.

    Deliberately a little loose (1 % margin): callers filter exactly by distance afterwards.
    """
    dlat = radius_m / _M_PER_DEG_LAT_MIN * 1.01
    # Widest longitude span of the circle is at the box's pole-ward edge.
    edge_lat = min(89.9, abs(lat) + dlat)
    m_per_deg_lon = 111_320.0 * math.cos(math.radians(edge_lat))
    dlon = min(180.0, radius_m / max(m_per_deg_lon, 1e-9) * 1.01)
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat
