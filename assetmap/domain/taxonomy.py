"""The category taxonomy shipped in data/taxonomy.toml."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assetmap.domain.errors import ValidationError

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Category:
    """One asset category: id, label, description, map colour and OSM tags that mean it."""

    id: str
    label: str
    description: str
    colour: str
    osm: tuple[str, ...]


class Taxonomy:
    """An ordered, read-only set of categories looked up by id."""

    def __init__(self, categories: list[Category]) -> None:
        self._by_id = {c.id: c for c in categories}
        if len(self._by_id) != len(categories):
            raise ValidationError("duplicate category id in taxonomy", field="id")

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        """Category ids in taxonomy order."""
        return tuple(self._by_id)

    def get(self, category_id: str) -> Category:
        """Return the category with this id.

        Raises
        ------
        ValidationError
            When the id is unknown; the message lists the valid ids.
        """
        try:
            return self._by_id[category_id]
        except KeyError:
            raise ValidationError(
                f"unknown category '{category_id}'; valid categories are: {', '.join(self.ids)}",
                field="category",
            ) from None


def default_taxonomy_path() -> Path:
    """Path of the taxonomy shipped with Assetmap (data/taxonomy.toml)."""
    return Path(__file__).resolve().parents[2] / "data" / "taxonomy.toml"


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a taxonomy TOML file (``[[category]]`` tables).

    Parameters
    ----------
    path
        The TOML file; the shipped ``data/taxonomy.toml`` when None.

    Returns
    -------
    Taxonomy
        Categories in file order.
    """
    with open(path or default_taxonomy_path(), "rb") as f:
        raw = tomllib.load(f)
    categories = []
    for i, item in enumerate(raw.get("category", []), start=1):
        cid = str(item.get("id", ""))
        if not _ID.match(cid):
            raise ValidationError(f"category id '{cid}' is not snake_case", field="id", row=i)
        colour = str(item.get("colour", ""))
        if not _COLOUR.match(colour):
            raise ValidationError(f"colour '{colour}' is not #RRGGBB", field="colour", row=i)
        categories.append(
            Category(
                id=cid,
                label=str(item["label"]),
                description=str(item.get("description", "")),
                colour=colour,
                osm=tuple(item.get("osm", ())),
            )
        )
    return Taxonomy(categories)
