"""Revisions: the append-only history of every asset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ACTIONS = ("create", "update", "status", "revert", "import")


@dataclass(frozen=True)
class Revision:
    """One change to an asset: who made it, when, why, which fields changed and the full state.

    ``number`` counts from 1 per asset. ``state`` is the asset's complete ``to_dict()`` after
    the change, so any revision can be shown or restored without replaying earlier ones.
    """

    asset_id: str
    number: int
    action: str
    author: str
    reason: str
    created_at: str
    changed: tuple[str, ...]
    state: dict[str, Any]
