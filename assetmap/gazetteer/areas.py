"""Which local authority district a point lies in, from the shipped LSOA 2011 polygons.

A staff moderator looks after one or more areas, named by ONS local authority district (LAD)
codes such as ``E08000009`` (Trafford). The shipped boundary file
(``data/boundaries/lsoa11_study_las.geojson.gz``) holds the LSOA 2011 polygons of the study
authorities, each carrying its ``LAD_CODE`` and ``LAD_NAME``; a point's area is the LAD of the
LSOA polygon that contains it (WGS84 lon/lat, EPSG:4326). A point in no polygon has no area.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

import shapely

from assetmap.domain.errors import ValidationError

# An ONS GSS code: a letter for the country, two digits for the entity type, six more digits.
AREA_CODE_PATTERN = re.compile(r"[EWSN]\d{8}")


@dataclass(frozen=True, slots=True)
class Area:
    """A local authority district: its ONS code and name."""

    code: str
    name: str

    @property
    def label(self) -> str:
        """``E08000009 Trafford``: the code and the name, for lists and messages."""
        return f"{self.code} {self.name}"


def default_areas_path() -> Path:
    """Return the path of the LSOA 2011 boundaries shipped in the repository.

    Returns
    -------
    Path
        ``<repo>/data/boundaries/lsoa11_study_las.geojson.gz``: 2,480 LSOA polygons of the
        study authorities (17 districts), with ``LAD_CODE`` and ``LAD_NAME``.
    """
    return (
        Path(__file__).resolve().parents[2] / "data" / "boundaries" / "lsoa11_study_las.geojson.gz"
    )


class AreaIndex:
    """Point-in-polygon look-up of local authority districts over LSOA polygons."""

    def __init__(
        self,
        lsoa_codes: Iterable[str],
        lad_codes: Iterable[str],
        lad_names: Iterable[str],
        polygons: Iterable[Any],
    ) -> None:
        """Index LSOA polygons by the district each belongs to.

        Parameters
        ----------
        lsoa_codes : iterable of str
            Each polygon's LSOA code; on a shared edge the smallest code wins, so a point
            on a boundary always gets the same answer.
        lad_codes, lad_names : iterable of str
            The district code and name of each polygon.
        polygons : iterable of shapely geometries
            WGS84 lon/lat (EPSG:4326) polygons; invalid ones are repaired with
            ``shapely.make_valid``.
        """
        self._lsoa = np.asarray(list(lsoa_codes), dtype=object)
        self._lad = np.asarray(list(lad_codes), dtype=object)
        names = list(lad_names)
        geoms = np.asarray(list(polygons), dtype=object)
        if not len(self._lsoa) == len(self._lad) == len(names) == len(geoms):
            raise ValidationError("codes, names and polygons must have the same length")
        # A few published polygons self-intersect; repaired, a point inside is found inside.
        invalid = ~shapely.is_valid(geoms)
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        self._tree = shapely.STRtree(geoms)
        self._geoms = geoms
        self.areas: dict[str, Area] = {
            code: Area(code, name) for code, name in sorted(set(zip(self._lad, names, strict=True)))
        }

    @classmethod
    def from_geojson(cls, path: str | Path) -> AreaIndex:
        """Load a GeoJSON (optionally gzipped) of LSOA polygons with LAD properties.

        Parameters
        ----------
        path
            A FeatureCollection whose features have ``LSOA11CD``, ``LAD_CODE`` and
            ``LAD_NAME`` properties and WGS84 polygons.
        """
        path = Path(path)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            features = json.load(fh)["features"]
        props = [f["properties"] for f in features]
        try:
            return cls(
                [p["LSOA11CD"] for p in props],
                [p["LAD_CODE"] for p in props],
                [p["LAD_NAME"] for p in props],
                shapely.from_geojson([json.dumps(f["geometry"]) for f in features]),
            )
        except KeyError as err:
            raise ValidationError(f"{path.name}: a feature has no {err} property") from None

    def get(self, code: str) -> Area | None:
        """The district with this code, or None."""
        return self.areas.get(code.strip().upper())

    def area_at(self, lon: float, lat: float) -> Area | None:
        """The district containing a WGS84 point (lon, lat degrees); None outside them all."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        first = min(hits, key=lambda i: self._lsoa[i])
        return self.areas[self._lad[first]]

    def check_codes(self, codes: Iterable[str]) -> tuple[str, ...]:
        """Normalise area codes and check each is a known district.

        Returns
        -------
        tuple of str
            The codes upper-cased, without repeats, sorted.

        Raises
        ------
        ValidationError
            Naming the first unknown code and listing the known ones (field ``area``).
        """
        out: set[str] = set()
        for raw in codes:
            code = raw.strip().upper()
            if code not in self.areas:
                known = ", ".join(a.label for a in self.areas.values())
                raise ValidationError(
                    f"'{raw}' is not a known area: use a local authority district code"
                    f" (known: {known})",
                    field="area",
                )
            out.add(code)
        return tuple(sorted(out))


@lru_cache(maxsize=1)
def load_default_areas() -> AreaIndex:
    """The shipped districts (:func:`default_areas_path`), loaded once per process."""
    return AreaIndex.from_geojson(default_areas_path())
