"""The real Trafford demo assets for search tests, and a brute-force search to check against.

Source: ``assetmap.services.importing.load_demo`` (data/assets/trafford/manifest.toml; Trafford
Council, Trafford Data Lab, Sport England, OS and OSM open data, OGL v3 / ODbL). The demo is
imported once per session into a scratch SQLite store and copied into each test's store.

The open data rarely says who an asset is for, what it costs, how accessible it is or when it
was checked, so where a row leaves one of those blank it is filled from a fixed cycle (by the
row's position in source order), and a few rows are archived or pending. Names, places,
descriptions and every published value are kept as they are.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

from pyproj import Geod

from assetmap.domain.asset import Asset, normalise_name
from assetmap.domain.opening_times import parse_opening_times
from assetmap.domain.taxonomy import load_taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.store import Store, open_store

GEOD = Geod(ellps="WGS84")
# Fixed so that staleness (relative to the test's `today`) covers fresh, stale and never.
ENRICHED_ON = date.today()

_HOURS = ("", "Mon-Fri 9am-5pm", "Tues & Thurs 10am-2pm", "By appointment", "Daily 8am-8pm")
_COSTS = (None, "free", "low_cost", "paid", "free")
_CURRENCIES: tuple[tuple[str, ...], ...] = (
    (),
    ("personal_budget",),
    ("time_credits",),
    ("cash", "personal_budget"),
    ("cash",),
    ("personal_budget", "time_credits"),
)
_ACCESS: tuple[tuple[str, ...], ...] = (
    (),
    ("step_free",),
    ("step_free", "hearing_loop"),
    ("accessible_toilet", "step_free", "quiet_space"),
    ("hearing_loop",),
    ("bsl", "easy_read", "step_free"),
    ("changing_places", "accessible_toilet", "step_free"),
)
_AUDIENCES: tuple[tuple[str, ...], ...] = (
    (),
    ("everyone",),
    ("older_people",),
    ("carers", "learning_disabilities"),
    ("young_people",),
    (),
    ("older_people", "mental_health"),
)
_EXTRA_TEXT = ("", " Café on site.", " Warm space in winter.", " CAFE and quiet room.", "")


def _enrich(index: int, asset: Asset) -> Asset:
    changes: dict[str, object] = {}
    if asset.opening_times.status == "unknown":
        changes["opening_times"] = parse_opening_times(_HOURS[index % len(_HOURS)])
    if asset.cost is None:
        changes["cost"] = _COSTS[index % len(_COSTS)]
    if not asset.currencies:
        changes["currencies"] = _CURRENCIES[index % len(_CURRENCIES)]
    if not asset.accessibility:
        changes["accessibility"] = _ACCESS[index % len(_ACCESS)]
    if not asset.audience:
        changes["audience"] = _AUDIENCES[index % len(_AUDIENCES)]
    if asset.last_verified is None and index % 3:
        days = (index * 53) % 900
        changes["last_verified"] = (ENRICHED_ON - timedelta(days=days)).isoformat()
    if index % 4 == 1:
        changes["description"] = asset.description + _EXTRA_TEXT[index % len(_EXTRA_TEXT)]
    if index % 19 == 7:
        changes["status"] = "archived"
    elif index % 19 == 13:
        changes["status"] = "pending"
    return asset.with_changes(**changes)


@cache
def demo_assets() -> tuple[Asset, ...]:
    """Every demo asset (ids kept), enriched as the module docstring says; once per session."""
    with TemporaryDirectory() as tmp:
        scratch = open_store(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            load_demo(
                scratch,
                taxonomy=load_taxonomy(),
                postcodes=load_default_index(),
                progress=False,
            )
            assets = scratch.list_assets(status=None)
        finally:
            scratch.close()
    assets.sort(key=lambda a: (a.source, a.source_id, a.name))
    return tuple(_enrich(i, a) for i, a in enumerate(assets))


def load_trafford(store: Store) -> list[Asset]:
    """Copy the enriched demo into a store (same ids); returns what was stored."""
    store.import_batch(list(demo_assets()), author="test:trafford")
    return store.list_assets(status=None)


# --- brute force: written apart from assetmap.analysis.nearby on purpose ---------------------


def _fold(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return "".join(c if c.isalnum() else " " for c in plain).split()


@dataclass(frozen=True)
class Expected:
    """Brute-force answer: ids in order with distances, for results and unknown hours."""

    results: list[tuple[str, float]]
    hours_unknown: list[tuple[str, float]]


def brute_force(
    assets: Iterable[Asset],
    *,
    lon: float,
    lat: float,
    radius_m: float,
    categories: Sequence[str] = (),
    q: str = "",
    cost: Sequence[str] = (),
    access: Sequence[str] = (),
    audience: str | None = None,
    open_on: tuple[str, str] | None = None,
    today: date,
    stale_after_days: int = 365,
) -> Expected:
    """Every published asset checked one by one with pyproj Geod; same ranking rules."""
    terms = _fold(q)
    found: list[tuple[tuple[object, ...], str, float]] = []
    unknown: list[tuple[tuple[object, ...], str, float]] = []
    for a in assets:
        if a.status != "published":
            continue
        _, _, dist = GEOD.inv(lon, lat, a.lon, a.lat)
        if dist > radius_m:
            continue
        if categories and a.category not in categories:
            continue
        words = _fold(f"{a.name} {a.description}")
        if any(not any(w.startswith(t) for w in words) for t in terms):
            continue
        pays = ({"free"} if a.cost == "free" else set()) | set(a.currencies)
        if cost and not pays & set(cost):
            continue
        if any(feature not in a.accessibility for feature in access):
            continue
        restricted = bool(a.audience) and "everyone" not in a.audience
        if audience is not None and restricted and audience not in a.audience:
            continue
        stale = a.last_verified is None or (
            (today - date.fromisoformat(a.last_verified)).days > stale_after_days
        )
        key = (math.floor(dist / 400), stale, dist, normalise_name(a.name), a.id)
        bucket = found
        if open_on is not None:
            schedule = a.opening_times.schedule
            if schedule is None:
                bucket = unknown
            elif not schedule.is_open(*open_on):
                continue
        bucket.append((key, a.id, dist))
    found.sort()
    unknown.sort()
    return Expected(
        results=[(i, d) for _, i, d in found],
        hours_unknown=[(i, d) for _, i, d in unknown],
    )
