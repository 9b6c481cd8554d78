"""The Trafford JSAA demo, run once per session, for the map, report and publishing tests.

Assets: the Trafford demo (``load_demo``: data/assets/trafford; Trafford Council, Trafford
Data Lab, Sport England, OS and OSM open data). Needs: data/jsaa/trafford.toml (ONS LSOA 2011
boundaries, IoD2019, ONS mid-2024 population, NSPL postcodes).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

from assetmap.analysis.jsaa import JsaaResult, load_config, run_jsaa
from assetmap.domain.taxonomy import load_taxonomy
from assetmap.gazetteer.postcodes import load_default_index
from assetmap.services.importing import load_demo
from assetmap.settings import REPO_ROOT
from assetmap.store import Store, open_store

CONFIG = REPO_ROOT / "data" / "jsaa" / "trafford.toml"
VENDOR = REPO_ROOT / "web" / "static" / "vendor"
TRAFFORD_AREAS = 138


def load_demo_assets(store: Store) -> int:
    """Load the real Trafford demo into a store; returns the published count."""
    load_demo(store, taxonomy=load_taxonomy(), postcodes=load_default_index(), progress=False)
    return store.count_assets(status="published")


@cache
def demo_result() -> JsaaResult:
    """The Trafford config run on the demo assets (a scratch SQLite store), once."""
    with TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            load_demo_assets(store)
            taxonomy = load_taxonomy()
            return run_jsaa(load_config(CONFIG, taxonomy), store, taxonomy=taxonomy)
        finally:
            store.close()


RELEASE_DATE = "2026-11-23"


def publish_demo(maps_root: Path, *, on: str = RELEASE_DATE) -> Path:
    """Publish the demo run as ``maps_root/trafford/<on>/``; returns the release folder."""
    from assetmap.maps.publish import publish_release

    release = publish_release(
        demo_result(), maps_root, taxonomy=load_taxonomy(), vendor_dir=VENDOR, on=on
    )
    return release.path
