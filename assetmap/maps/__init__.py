"""Folium map builders: assets and taxonomy in, ``folium.Map`` out (no Flask here)."""

from __future__ import annotations

from assetmap.maps.assets import AssetMap, asset_feature, assets_map
from assetmap.maps.embed import MapParts, map_parts, standalone_map_parts
from assetmap.maps.nearby import distance_text, handout_map, nearby_map, result_feature
from assetmap.maps.resources import (
    CDN_ORIGINS,
    LEAFLET_VERSION,
    MARKERCLUSTER_VERSION,
    resource_urls,
    use_resources,
)

__all__ = [
    "CDN_ORIGINS",
    "LEAFLET_VERSION",
    "MARKERCLUSTER_VERSION",
    "AssetMap",
    "MapParts",
    "asset_feature",
    "assets_map",
    "distance_text",
    "handout_map",
    "map_parts",
    "nearby_map",
    "resource_urls",
    "result_feature",
    "standalone_map_parts",
    "use_resources",
]
