"""A coordinator's shortlist: the assets ticked in a nearby search, for a printed handout.

The shortlist lives only in the request that asks for it (the ids are in the URL): nothing
here writes to the store, so nothing about the person the handout is for is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from assetmap.analysis.nearby import NearbyQuery, describe_hit
from assetmap.domain.asset import DEFAULT_STALE_AFTER_DAYS
from assetmap.domain.errors import NotFound, ValidationError
from assetmap.domain.geodesy import distances_m
from assetmap.domain.opening_times import WeeklySchedule
from assetmap.domain.taxonomy import Taxonomy
from assetmap.store import NearbyHit, Store

MAX_SHORTLIST = 30
# Asset ids are short tokens ("a" + 12 hex digits today); anything else cannot be one, so it
# is never sent to the database.
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Shortlist:
    """The assets of a handout, in the order they were chosen.

    Attributes
    ----------
    results : list of dict
        :func:`~assetmap.analysis.nearby.describe_hit` records, distances measured from the
        search origin (geodesic, metres and miles). When the search asked for places open
        at a time (``open_on``), each also has ``open_then``: True or False by its
        structured opening times, None when those are not known.
    missing : int
        How many chosen ids are no longer published (or never were); they are left out and
        not named, so a handout cannot reveal unpublished listings.
    """

    results: list[dict[str, Any]]
    missing: int


def parse_ids(values: Iterable[str]) -> tuple[str, ...]:
    """Read the chosen ids: repeated values and/or comma-separated lists, first choice kept.

    Parameters
    ----------
    values : iterable of str
        Raw ``ids`` parameter values, e.g. ``["a1,a2", "a3"]``.

    Returns
    -------
    tuple of str
        Distinct ids in the order first given.

    Raises
    ------
    ValidationError
        (``field="ids"``) when none is given or more than :data:`MAX_SHORTLIST`.
    """
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            item = part.strip()
            if item and item not in out:
                out.append(item)
    if not out:
        raise ValidationError("select at least one place for the handout", field="ids")
    if len(out) > MAX_SHORTLIST:
        raise ValidationError(
            f"select at most {MAX_SHORTLIST} places for one handout, not {len(out)}",
            field="ids",
        )
    return tuple(out)


def shortlist(
    store: Store,
    query: NearbyQuery,
    ids: Iterable[str],
    *,
    taxonomy: Taxonomy,
    today: date,
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS,
) -> Shortlist:
    """Describe the chosen published assets, with distances from the query's origin.

    Only reads the store. The query's filters and radius are not applied again: an asset the
    coordinator chose stays on the handout even if it lies just outside a changed radius.
    Opening times are checked against ``open_on`` instead, so that a place chosen from the
    search's "hours not known" list, or whose hours changed since, can say so on paper.

    Parameters
    ----------
    store : Store
        Where the assets are.
    query : NearbyQuery
        The search the assets were chosen from; its origin (WGS84) is measured from.
    ids : iterable of str
        Asset ids, as from :func:`parse_ids`; their order is kept.
    taxonomy : Taxonomy
        For category labels.
    today : date
        The date staleness is measured from.
    stale_after_days : int, optional
        See :func:`~assetmap.analysis.nearby.is_stale`.

    Returns
    -------
    Shortlist
    """
    found = []
    missing = 0
    for asset_id in ids:
        try:
            asset = store.get_asset(asset_id) if _ID.fullmatch(asset_id) else None
        except NotFound:
            asset = None
        if asset is None or asset.status != "published":
            missing += 1
        else:
            found.append(asset)
    distances = distances_m(query.lon, query.lat, [a.lon for a in found], [a.lat for a in found])
    results = [
        describe_hit(
            NearbyHit(asset=asset, distance_m=float(distance)),
            taxonomy=taxonomy,
            today=today,
            stale_after_days=stale_after_days,
        )
        for asset, distance in zip(found, distances, strict=True)
    ]
    if query.open_on is not None:
        for record in results:
            schedule = record["opening_times"]["schedule"]
            record["open_then"] = (
                None
                if schedule is None
                else WeeklySchedule.from_dict(schedule).is_open(*query.open_on)
            )
    return Shortlist(results=results, missing=missing)
