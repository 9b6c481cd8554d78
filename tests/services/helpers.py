"""Real-data helpers for the import and export tests (no fixtures here)."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from assetmap.gazetteer.postcodes import default_postcode_path
from assetmap.settings import REPO_ROOT

TRAFFORD = REPO_ROOT / "data" / "assets" / "trafford"
MANIFEST = TRAFFORD / "manifest.toml"
SPORT_CSV = TRAFFORD / "sport_facilities_sports_facilities.csv"
PLAIN_HEADER = ["name", "category", "address", "postcode", "lat", "lon", "website", "description"]


def postcode_centroids(wanted: set[str]) -> dict[str, tuple[float, float]]:
    """Postcode -> (lon, lat) for the wanted postcodes, read straight from the shipped file."""
    compact = {"".join(p.split()).upper(): p for p in wanted}
    found: dict[str, tuple[float, float]] = {}
    with gzip.open(default_postcode_path(), "rt", encoding="utf-8", newline="") as f:
        # The file mixes spellings ("WA157UG", "M1 1AA"), so compare without spaces.
        for r in csv.DictReader(f):
            key = r["postcode"].replace(" ", "").upper()
            if key in compact:
                found[compact[key]] = (float(r["long"]), float(r["lat"]))
    return found


def real_site_rows(n: int) -> list[dict[str, str]]:
    """The first n sites of Sport England Active Places for Trafford, as plain import rows.

    Source: data/assets/trafford/sport_facilities_sports_facilities.csv (Sport England Active
    Places via Trafford Data Lab, OGL). One row per site_id, in file order.
    """
    with open(SPORT_CSV, encoding="utf-8", newline="") as f:
        facilities = list(csv.DictReader(f))
    sites: dict[str, dict[str, str]] = {}
    for r in facilities:
        if r["site_id"] in sites:
            sites[r["site_id"]]["description"] += f"; {r['facility_type']}"
            continue
        sites[r["site_id"]] = {
            "name": r["site_name"],
            "category": "leisure_centre",
            "address": f"{r['street']}, {r['town']}",
            "postcode": r["postcode"],
            "lat": r["lat"],
            "lon": r["lon"],
            "website": r["website"],
            "description": f"Facilities: {r['facility_type']}",
        }
    return list(sites.values())[:n]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=PLAIN_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


# Rows (1-based data rows) broken in the 100-row file, and how.
BAD_ROWS = {12: "postcode", 40: "lat", 77: "name"}
UNKNOWN_POSTCODE = "M99 9ZZ"  # well formed, not in the directory
