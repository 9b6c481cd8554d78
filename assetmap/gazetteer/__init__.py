"""Offline gazetteer: turns postcodes, sectors and districts into WGS84 lon/lat points."""

from assetmap.gazetteer.postcodes import (
    STUDY_AREAS,
    PostcodeIndex,
    PostcodePoint,
    UnknownPostcode,
    default_postcode_path,
    load_default_index,
)

__all__ = [
    "STUDY_AREAS",
    "PostcodeIndex",
    "PostcodePoint",
    "UnknownPostcode",
    "default_postcode_path",
    "load_default_index",
]
