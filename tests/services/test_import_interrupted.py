"""An import killed mid-write leaves the store exactly as it was (one transaction per file)."""

from __future__ import annotations

import csv
import gzip
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from assetmap.gazetteer.postcodes import default_postcode_path
from assetmap.store import open_store
from tests.services.helpers import real_site_rows, write_rows

ASSETMAP = Path(sys.executable).parent / "assetmap"
ROWS = 15_000


def _scale_csv(path: Path) -> None:
    """Synthetic asset rows placed at real postcode points, for a scale test.

    Names and descriptions are made up; each point is a real Trafford postcode centroid from
    the shipped NSPL-derived directory (11,267 postcodes, reused in turn).
    """
    with gzip.open(default_postcode_path(), "rt", encoding="utf-8", newline="") as f:
        points = [r for r in csv.DictReader(f) if r["lad_name"] == "Trafford"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["name", "category", "address", "postcode", "lat", "lon", "description"])
        for i in range(ROWS):
            p = points[i % len(points)]
            writer.writerow(
                [
                    f"Scale test asset {i + 1:05d}",
                    "community_centre",
                    f"{i + 1} Test Street",
                    p["postcode"],
                    p["lat"],
                    p["long"],
                    "Synthetic asset placed at a real postcode point for a scale test. " * 4,
                ]
            )


def _counts(db: Path) -> tuple[int, int]:
    store = open_store(f"sqlite:///{db}", migrate=False)
    try:
        return store.count_assets(), store.count_revisions()
    finally:
        store.close()


def test_sigkill_during_import_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    url = f"sqlite:///{db}"
    big = tmp_path / "big.csv"
    _scale_csv(big)
    # Some real assets first, so "unchanged" is not just "empty".
    small = write_rows(tmp_path / "sites.csv", real_site_rows(20))
    subprocess.run([str(ASSETMAP), "--db", url, "init"], check=True, capture_output=True)
    subprocess.run(
        [str(ASSETMAP), "--db", url, "import", str(small), "--no-progress"],
        check=True,
        capture_output=True,
    )
    before = _counts(db)
    assert before == (20, 20)

    wal = Path(f"{db}-wal")
    wal_start = wal.stat().st_size if wal.exists() else 0
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(ASSETMAP), "--db", url, "import", str(big), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until the one write transaction is under way: uncommitted pages spilling into
        # the WAL. Reading and validating 15,000 rows comes first and takes a few seconds.
        while proc.poll() is None and time.monotonic() - started < 60:
            if wal.exists() and wal.stat().st_size > wal_start + 64_000:
                break
            time.sleep(0.02)
        time.sleep(0.2)
        assert proc.poll() is None, "the import finished before it could be interrupted"
        writing_after_s = time.monotonic() - started
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert writing_after_s > 1.0

    assert _counts(db) == before
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM asset_rtree").fetchone() == (20,)
    finally:
        conn.close()
