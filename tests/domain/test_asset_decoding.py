"""Rebuilding assets from the JSON states stores write: the fast path and its fallbacks.

The asset is Trafford Council's Sale Leisure Centre row from the demo data
(data/assets/trafford/council_assets_leisure_centres_trafford_leisure_centres.csv): its
real name, address, hours and location. Accessibility and cost are set here so that the
tuple fields and the cost field hold something to decode.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from assetmap.domain.asset import Asset, build_asset
from assetmap.domain.opening_times import OpeningTimes
from assetmap.domain.taxonomy import load_taxonomy
from tests.maps.trafford import OTHERS

# The row as tests/maps/trafford.py copies it, with its hours from the same CSV row.
ROW = {
    **next(row for row in OTHERS if row["name"] == "Sale Leisure Centre"),
    "opening_times": "Mon-Fri: 6:30am-9:30pm, Sat-Sun: 8:00am-6:00pm",
    "accessibility": "step_free;accessible_toilet",
    "cost": "paid",
}


@pytest.fixture(scope="module")
def asset() -> Asset:
    made = build_asset(ROW, load_taxonomy())
    assert made.opening_times.schedule is not None  # the hours parsed: a real schedule
    return made.with_changes(id="a0123456789ab", revision=3)


def stored(asset: Asset) -> dict[str, Any]:
    """The state as a store writes and reads it back."""
    parsed: dict[str, Any] = json.loads(written(asset.to_dict()))
    return parsed


def written(state: dict[str, Any]) -> str:
    """A state as a store writes it."""
    return json.dumps(state, sort_keys=True)


def check_read(read: Asset, asset: Asset) -> None:
    assert read == asset and hash(read.opening_times) == hash(asset.opening_times)
    assert read.accessibility == ("step_free", "accessible_toilet")
    assert read.opening_times.schedule == asset.opening_times.schedule
    assert read.opening_times.schedule.is_open("mon", "07:00")  # type: ignore[union-attr]
    assert not read.opening_times.schedule.is_open("mon", "21:45")  # type: ignore[union-attr]
    assert not read.opening_times.schedule.is_open("sun", "19:00")  # type: ignore[union-attr]
    assert read.to_dict() == asset.to_dict()


@pytest.mark.parametrize(
    "reshape",
    [
        pytest.param(lambda s: s, id="as written"),
        pytest.param(lambda s: dict(reversed(list(s.items()))), id="keys in another order"),
    ],
)
def test_a_stored_state_decodes_into_the_asset(asset: Asset, reshape: Any) -> None:
    text = written(reshape(stored(asset)))
    read = Asset.from_stored_json(text)
    check_read(read, asset)
    assert Asset.from_stored_json(text.encode()) == asset  # bytes, as a BLOB would give
    with pytest.raises(AttributeError):
        read.name = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    "reshape",
    [
        pytest.param(lambda s: {**s, "dropped_field": 1}, id="a field since dropped"),
        pytest.param(
            lambda s: {k: v for k, v in s.items() if k != "footprint"}, id="a field added later"
        ),
    ],
)
def test_a_state_of_another_version_decodes_too(asset: Asset, reshape: Any) -> None:
    state = reshape(stored(asset))
    before = json.dumps(state, sort_keys=True)
    for read in (Asset.from_stored(state), Asset.from_stored_json(written(state))):
        check_read(read, asset)
        assert not hasattr(read, "dropped_field")
        assert read.footprint is None
    assert json.dumps(state, sort_keys=True) == before  # the caller's dict is left alone


def test_a_state_without_hours_reads_as_unknown(asset: Asset) -> None:
    state = stored(asset.with_changes(footprint=None))
    state["opening_times"] = None
    for read in (Asset.from_stored(state), Asset.from_stored_json(written(state))):
        assert read.opening_times.schedule is None and read.opening_times.text == ""
        assert read.opening_times.status == "unknown"
        assert read.opening_times == OpeningTimes(None, "")
    # Most listings' hours are unknown: they share one (frozen) instance instead of one each.
    blank = stored(asset.with_changes(opening_times=OpeningTimes(None, "")))
    assert blank["opening_times"] == {"schedule": None, "status": "unknown", "text": ""}
    shared = Asset.from_stored_json(written(state)).opening_times
    assert Asset.from_stored_json(written(blank)).opening_times is shared
    assert Asset(name="Hub", category="library", lon=-2.3, lat=53.4).opening_times is shared


def test_a_state_json_dumps_wrote_with_nan_still_reads(asset: Asset) -> None:
    # json.dumps writes NaN, which strict JSON (msgspec, orjson) refuses.
    shape = {"type": "Point", "coordinates": [float("nan"), 53.42]}
    text = written({**stored(asset), "footprint": shape})
    assert "NaN" in text
    read = Asset.from_stored_json(text)
    assert math.isnan(read.footprint["coordinates"][0])  # type: ignore[index]
    assert read.with_changes(footprint=None) == asset


def test_a_value_of_another_type_is_read_as_stored(asset: Asset) -> None:
    # This version never writes one; a hand-edited or very old row still shows, unchecked.
    text = written({**stored(asset), "footprint": []})
    read = Asset.from_stored_json(text)
    assert isinstance(read.footprint, list) and not read.footprint
    assert read.with_changes(footprint=None) == asset
    assert isinstance(Asset.from_stored({**stored(asset), "footprint": []}).footprint, list)
    # The tuple fields stay tuples, and a null one is empty.
    old = Asset.from_stored_json(written({**stored(asset), "footprint": [], "audience": None}))
    assert old.audience == () and old.accessibility == ("step_free", "accessible_toilet")
    assert old.opening_times.schedule == asset.opening_times.schedule
