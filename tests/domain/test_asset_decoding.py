"""Rebuilding assets from the JSON states stores write: the fast path and its fallbacks.

The asset is Trafford Council's Sale Leisure Centre row from the demo data
(data/assets/trafford/council_assets_leisure_centres_trafford_leisure_centres.csv): its
real name, address, hours and location. Accessibility and cost are set here so that the
tuple fields and the cost field hold something to decode.
"""

from __future__ import annotations

import dataclasses
import json

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
    return dataclasses.replace(made, id="a0123456789ab", revision=3)


def stored(asset: Asset) -> dict[str, object]:
    """The state as a store writes and reads it back."""
    parsed: dict[str, object] = json.loads(json.dumps(asset.to_dict(), sort_keys=True))
    return parsed


@pytest.mark.parametrize(
    "reshape",
    [
        pytest.param(lambda s: s, id="as written"),
        pytest.param(lambda s: dict(reversed(list(s.items()))), id="keys in another order"),
    ],
)
def test_a_state_with_every_field_becomes_the_asset_without_a_copy(
    asset: Asset, reshape: object
) -> None:
    state = reshape(stored(asset))  # type: ignore[operator]
    read = Asset.adopt_stored(state)
    assert vars(read) is state  # the fast path: the parsed dict is the instance's own
    assert read == asset and hash(read.opening_times) == hash(asset.opening_times)
    assert read.accessibility == ("step_free", "accessible_toilet")
    assert read.opening_times.schedule == asset.opening_times.schedule
    assert read.opening_times.schedule.is_open("mon", "07:00")  # type: ignore[union-attr]
    assert not read.opening_times.schedule.is_open("mon", "21:45")  # type: ignore[union-attr]
    assert not read.opening_times.schedule.is_open("sun", "19:00")  # type: ignore[union-attr]
    assert read.to_dict() == asset.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
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
def test_any_other_state_falls_back_to_the_copying_decoder(asset: Asset, reshape: object) -> None:
    state = reshape(stored(asset))  # type: ignore[operator]
    read = Asset.adopt_stored(state)
    assert vars(read) is not state
    assert read == asset
    assert "dropped_field" not in vars(read)
    assert read.footprint is None


def test_a_state_without_hours_reads_as_unknown(asset: Asset) -> None:
    state = stored(dataclasses.replace(asset, footprint=None))
    state["opening_times"] = None
    read = Asset.adopt_stored(state)
    assert read.opening_times.schedule is None and read.opening_times.text == ""
    assert read.opening_times.status == "unknown" and read.opening_times == OpeningTimes(None, "")
    # Most listings' hours are unknown: they share one (frozen) instance instead of one each.
    blank = stored(dataclasses.replace(asset, opening_times=OpeningTimes(None, "")))
    assert blank["opening_times"] == {"schedule": None, "status": "unknown", "text": ""}
    assert Asset.adopt_stored(blank).opening_times is read.opening_times
