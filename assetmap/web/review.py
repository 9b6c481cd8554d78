"""What staff pages show when reviewing changes: field-by-field diffs, and times.

States are ``Asset.to_dict()`` dicts (a revision's ``state``), optionally overlaid with a
submission's proposed changes. Every value becomes plain text here; templates escape it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assetmap.domain.asset import CONTENT_FIELDS
from assetmap.domain.geodesy import distances_m
from assetmap.domain.taxonomy import Taxonomy
from assetmap.domain.vocab import (
    ACCESSIBILITY,
    AUDIENCES,
    COSTS,
    CURRENCIES,
    PROVIDER_TYPES,
    STATUSES,
)

LABELS = {
    "name": "Name",
    "category": "Category",
    "description": "Description",
    "address": "Address",
    "postcode": "Postcode",
    "location": "Location",
    "phone": "Phone",
    "email": "Email",
    "website": "Website",
    "opening_times": "Opening times",
    "cost": "Cost",
    "currencies": "Ways to pay",
    "accessibility": "Accessibility",
    "audience": "Who it is for",
    "provider_type": "Run by",
    "status": "Status",
    "last_verified": "Last checked",
    "source": "Source",
    "source_id": "Source id",
    "licence": "Licence",
    "footprint": "Outline",
}
# Display order: lon and lat are shown together as one "location" row.
ROW_FIELDS = tuple(LABELS)
_VOCABS: dict[str, Mapping[str, str]] = {
    "cost": COSTS,
    "currencies": CURRENCIES,
    "accessibility": ACCESSIBILITY,
    "audience": AUDIENCES,
    "provider_type": PROVIDER_TYPES,
    "status": STATUSES,
}


@dataclass(frozen=True)
class FieldRow:
    """One field before and after, as display text; ``changed`` marks a difference."""

    field: str
    label: str
    before: str
    after: str
    changed: bool


def _times_text(value: object) -> str:
    if isinstance(value, Mapping):
        return str(value.get("text") or "")
    return "" if value is None else str(value)


def _location(state: Mapping[str, Any]) -> str:
    lon, lat = state.get("lon"), state.get("lat")
    if not isinstance(lon, int | float) or not isinstance(lat, int | float):
        return ""
    return f"latitude {lat:.6f}, longitude {lon:.6f}"


def display_value(name: str, state: Mapping[str, Any], taxonomy: Taxonomy) -> str:
    """One field of a state as text: labels for vocabulary ids, opening times as written."""
    if name == "location":
        return _location(state)
    value = state.get(name)
    if value is None or value in ("", [], ()):
        return ""
    if name == "category":
        return taxonomy.get(value).label if value in taxonomy else str(value)
    if name == "opening_times":
        return _times_text(value)
    if name == "footprint":
        return "An outline of the site" if value else ""
    vocab = _VOCABS.get(name)
    if isinstance(value, list | tuple):
        return "; ".join(vocab.get(v, str(v)) if vocab else str(v) for v in value)
    if vocab is not None:
        return vocab.get(str(value), str(value))
    return str(value)


def _same(name: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    if name == "location":
        return (before.get("lon"), before.get("lat")) == (after.get("lon"), after.get("lat"))
    if name == "opening_times":
        # The text as written is what people see; the parsed schedule follows from it.
        return _times_text(before.get(name)) == _times_text(after.get(name))
    old, new = before.get(name), after.get(name)
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return list(old) == list(new)
    return bool(old == new)


def moved_m(before: Mapping[str, Any], after: Mapping[str, Any]) -> float | None:
    """How far the point moved between two states, in geodesic metres (None if unknown)."""
    try:
        lon0, lat0 = float(before["lon"]), float(before["lat"])
        lon1, lat1 = float(after["lon"]), float(after["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    return float(distances_m(lon0, lat0, [lon1], [lat1])[0])


def field_rows(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    taxonomy: Taxonomy,
    *,
    only_changed: bool = True,
) -> list[FieldRow]:
    """Rows comparing two states field by field.

    ``before`` None means there was nothing before (a new asset): every filled-in field of
    ``after`` is listed as changed. With ``only_changed`` the unchanged fields are left out.
    A moved point says by how many metres.
    """
    rows: list[FieldRow] = []
    old = before or {}
    for name in ROW_FIELDS:
        then = display_value(name, old, taxonomy) if before is not None else ""
        now = display_value(name, after, taxonomy)
        changed = (bool(now) or bool(then)) if before is None else not _same(name, old, after)
        if name == "location" and changed and before is not None:
            distance = moved_m(old, after)
            if distance is not None:
                now = f"{now} (moved {distance:,.0f} m)"
        if changed or (not only_changed and (then or now)):
            rows.append(FieldRow(name, LABELS[name], then, now, changed))
    return rows


def changed_labels(changed: tuple[str, ...] | list[str]) -> list[str]:
    """Labels of a revision's changed field names (lon and lat shown as Location)."""
    names = ["location" if n in {"lon", "lat"} else n for n in changed if n in CONTENT_FIELDS]
    seen: list[str] = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return [LABELS.get(n, n) for n in seen]
