"""Synthetic assets and query points spread over England in proportion to population.

Areas: the 32,844 LSOAs of England (../shared/data/boundaries/lsoa11_england.geojson.gz,
ONS LSOA 2011 via martinjc/UK-GeoJSON, OGL) with mid-2019 population
(../shared/data/population/mysociety_2019_population_lsoa_uk.csv, ONS via mySociety, OGL).

Every asset made here is SYNTHETIC: its name starts "SYNTHETIC", its source is
``synthetic-benchmark`` and its description says it is not a real place. The number of assets
in each LSOA is drawn in proportion to the LSOA's population and each one is placed uniformly
inside the polygon, so density follows people, as real community assets broadly do. The other
fields (opening times, cost, accessibility, audience, contact details, last verified) are
drawn to look like the real Trafford listings: mostly unknown hours, a few structured
schedules, some blanks. Everything comes from one seeded generator, drawn up front as arrays,
so asset ``i`` is the same whichever chunk it is built in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import geopandas as gpd
import pyogrio
import shapely

from assetmap.domain.asset import Asset
from assetmap.domain.opening_times import OpeningTimes, parse_opening_times
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, PROVIDER_TYPES

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
ENGLAND_LSOAS = SHARED / "boundaries" / "lsoa11_england.geojson.gz"
POPULATION = SHARED / "population" / "mysociety_2019_population_lsoa_uk.csv"

SOURCE = "synthetic-benchmark"
LICENCE = "SYNTHETIC benchmark data: not a real asset"
# Shares of the hours text, loosely after the Trafford demo (95 % unknown there; more
# structured here so the schedule decoding cost is not understated).
_HOURS_TEXTS = (
    "",
    "Mon-Fri 09:00-17:00",
    "Mon-Sat 9am-5:30pm, Sun 10am-4pm",
    "Tue, Thu 10:00-12:00",
    "Daily 07:00-22:00",
    "Wednesdays 13:30-15:30",
    "By appointment",
    "Term time only, ring for details",
)
_HOURS_SHARES = (0.70, 0.08, 0.05, 0.04, 0.04, 0.03, 0.03, 0.03)
_COSTS = (None, "free", "low_cost", "paid")
_COST_SHARES = (0.80, 0.12, 0.04, 0.04)
# Share of assets not published (pending, rejected or archived): the status filter must work.
_STATUSES = ("published", "pending", "archived", "rejected")
_STATUS_SHARES = (0.97, 0.01, 0.015, 0.005)
_LAST_VERIFIED_EPOCH = date(2022, 1, 1)


@dataclass(frozen=True)
class Areas:
    """England's LSOAs: codes, names, polygons (EPSG:4326) and mid-2019 population."""

    codes: NDArray[np.object_]
    names: NDArray[np.object_]
    geoms: NDArray[np.object_]
    population: NDArray[np.float64]

    def __len__(self) -> int:
        """Number of areas."""
        return len(self.codes)


def load_areas() -> Areas:
    """Read England's LSOA polygons and join their 2019 population (every LSOA has one)."""
    frame = pyogrio.read_dataframe(f"/vsigzip/{ENGLAND_LSOAS}", columns=["LSOA11CD", "LSOA11NM"])
    pop = pd.read_csv(POPULATION, thousands=",", encoding="utf-8-sig")
    joined = frame.merge(pop, left_on="LSOA11CD", right_on="lsoa", how="left")
    if joined["pop"].isna().any():
        missing = joined.loc[joined["pop"].isna(), "LSOA11CD"].iloc[0]
        raise SystemExit(f"no 2019 population for LSOA {missing}")
    geoms = gpd.GeoSeries(joined.geometry).to_numpy()
    shapely.prepare(geoms)
    return Areas(
        codes=joined["LSOA11CD"].to_numpy(dtype=object),
        names=joined["LSOA11NM"].to_numpy(dtype=object),
        geoms=geoms,
        population=joined["pop"].to_numpy(dtype=np.float64),
    )


def points_by_population(
    areas: Areas, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """``n`` points, each LSOA's count drawn in proportion to its population.

    Points are uniform inside their polygon (uniform in lon/lat degrees, which at LSOA size is
    uniform in area to well under 1 %). Returns (lon, lat, area index), WGS84 degrees, grouped
    by area in a random order.
    """
    counts = rng.multinomial(n, areas.population / areas.population.sum())
    area_of = np.repeat(np.arange(len(areas)), counts)
    rng.shuffle(area_of)
    bounds = shapely.bounds(areas.geoms)
    lon = np.empty(n)
    lat = np.empty(n)
    todo = np.arange(n)
    # Rejection sampling in each polygon's bounding box, all points at once, until every
    # point has landed inside its own polygon (LSOAs fill about half their box).
    while todo.size:
        box = bounds[area_of[todo]]
        x = rng.uniform(box[:, 0], box[:, 2])
        y = rng.uniform(box[:, 1], box[:, 3])
        inside = shapely.contains_xy(areas.geoms[area_of[todo]], x, y)
        lon[todo[inside]] = x[inside]
        lat[todo[inside]] = y[inside]
        todo = todo[~inside]
    return lon, lat, area_of


@dataclass(frozen=True)
class SyntheticAssets:
    """``n`` synthetic assets as columns; :meth:`assets` turns a slice into Asset objects."""

    seed: int
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    area: NDArray[np.int64]
    category: NDArray[np.object_]
    status: NDArray[np.object_]
    hours: NDArray[np.int64]
    cost: NDArray[np.int64]
    access_bits: NDArray[np.int64]
    audience: NDArray[np.int64]
    provider: NDArray[np.int64]
    contact: NDArray[np.int64]
    verified_days: NDArray[np.int64]
    area_names: NDArray[np.object_]
    category_labels: dict[str, str]

    def __len__(self) -> int:
        """Number of assets."""
        return len(self.lon)

    def source_id(self, i: int) -> str:
        """The import key of asset ``i`` (unique per seed)."""
        return f"s{self.seed}-{i:07d}"

    def assets(self, start: int, stop: int) -> Iterator[Asset]:
        """Assets ``start`` … ``stop - 1`` as unsaved Asset objects."""
        times = [OpeningTimes(None, "")] + [parse_opening_times(t) for t in _HOURS_TEXTS[1:]]
        access_ids = list(ACCESSIBILITY)
        audience_ids = [(), ("everyone",), *[(a,) for a in AUDIENCES if a != "everyone"]]
        providers = [None, *PROVIDER_TYPES]
        for i in range(start, stop):
            category = str(self.category[i])
            area_name = str(self.area_names[self.area[i]])
            access = tuple(a for bit, a in enumerate(access_ids) if self.access_bits[i] >> bit & 1)
            has_contact = int(self.contact[i])
            days = int(self.verified_days[i])
            yield Asset(
                name=f"SYNTHETIC {self.category_labels[category]} {i:07d}",
                category=category,
                lon=round(float(self.lon[i]), 6),
                lat=round(float(self.lat[i]), 6),
                description=(
                    f"SYNTHETIC benchmark asset {i} in {area_name}; not a real place."
                    " Generated to measure nearby search over England."
                ),
                address=f"{i} Synthetic Street, {area_name}",
                phone="0161 000 0000" if has_contact & 1 else "",
                email=f"synthetic{i}@example.invalid" if has_contact & 2 else "",
                website=f"https://example.invalid/synthetic/{i}" if has_contact & 4 else "",
                opening_times=times[int(self.hours[i])],
                cost=_COSTS[int(self.cost[i])],
                currencies=("cash",) if int(self.cost[i]) >= 2 else (),
                accessibility=access,
                audience=audience_ids[int(self.audience[i])],
                provider_type=providers[int(self.provider[i])],
                source=SOURCE,
                source_id=self.source_id(i),
                licence=LICENCE,
                status=str(self.status[i]),
                last_verified=(
                    None if days < 0 else (_LAST_VERIFIED_EPOCH + timedelta(days=days)).isoformat()
                ),
            )


def synthetic_assets(areas: Areas, taxonomy: Taxonomy, n: int, seed: int) -> SyntheticAssets:
    """Draw ``n`` synthetic assets over England (uniform categories from the taxonomy)."""
    rng = np.random.default_rng([seed, 1])
    lon, lat, area = points_by_population(areas, n, rng)
    ids = np.array(taxonomy.ids, dtype=object)
    # Each accessibility feature is listed for about one asset in eight.
    bits = (rng.random((n, len(ACCESSIBILITY))) < 0.125).astype(np.int64)
    access_bits = (bits << np.arange(len(ACCESSIBILITY))).sum(axis=1)
    verified = rng.integers(0, 4 * 365, n)
    verified[rng.random(n) < 0.3] = -1  # never verified
    return SyntheticAssets(
        seed=seed,
        lon=lon,
        lat=lat,
        area=area,
        category=rng.choice(ids, n),
        status=rng.choice(np.array(_STATUSES, dtype=object), n, p=_STATUS_SHARES),
        hours=rng.choice(len(_HOURS_TEXTS), n, p=_HOURS_SHARES),
        cost=rng.choice(len(_COSTS), n, p=_COST_SHARES),
        access_bits=access_bits,
        audience=rng.integers(0, len(AUDIENCES) + 1, n),
        provider=rng.integers(0, len(PROVIDER_TYPES) + 1, n),
        contact=rng.integers(0, 8, n),
        verified_days=verified,
        area_names=areas.names,
        category_labels={c.id: c.label for c in taxonomy},
    )


@dataclass(frozen=True)
class QueryPoints:
    """Query origins (WGS84 degrees) drawn by population, each with a category to filter on."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    category: NDArray[np.object_]

    def __len__(self) -> int:
        """Number of query points."""
        return len(self.lon)


def query_points(areas: Areas, taxonomy: Taxonomy, n: int, seed: int) -> QueryPoints:
    """``n`` query points where people live, from a generator independent of the assets'."""
    rng = np.random.default_rng([seed, 2])
    lon, lat, _ = points_by_population(areas, n, rng)
    category = rng.choice(np.array(taxonomy.ids, dtype=object), n)
    return QueryPoints(np.round(lon, 6), np.round(lat, 6), category)
