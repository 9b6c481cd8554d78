#!/usr/bin/env python3
"""Copy the front-end files Assetmap serves from web/node_modules into web/static/vendor.

Run after ``cd web && npm ci`` (``make setup`` does both). Standard library only, so it runs
with the system python3 before the virtual environment exists.

What it writes (web/static/vendor is generated and git-ignored):

- ``leaflet/``, ``leaflet.markercluster/``: the dist files Folium's maps load, at the versions
  folium 0.20.0 links to (pinned in web/package.json).
- ``axe-core/axe.min.js``: injected by the browser accessibility tests.
- ``assetmap/assetmap.css``: web/static/scss/assetmap.scss compiled with Dart Sass from
  node_modules (GOV.UK Frontend configured for a service outside GOV.UK: Arial, no crown).
- ``manifest.json``: package name -> installed version, which the tests check.

The new folder is built under node_modules (git-ignored, same file system) and swapped in at
the end, so a failed run leaves the previous copy intact.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

WEB = Path(__file__).resolve().parents[1] / "web"
NODE_MODULES = WEB / "node_modules"
VENDOR = WEB / "static" / "vendor"
SCSS = WEB / "static" / "scss" / "assetmap.scss"

# package -> files to copy, as (path in the package, path under vendor/<package>/).
# A path ending in "/" copies that folder's files.
FILES: dict[str, list[tuple[str, str]]] = {
    "leaflet": [
        ("dist/leaflet.js", "leaflet.js"),
        ("dist/leaflet.css", "leaflet.css"),
        ("dist/images/", "images/"),
        ("LICENSE", "LICENSE"),
    ],
    "leaflet.markercluster": [
        ("dist/leaflet.markercluster.js", "leaflet.markercluster.js"),
        ("dist/MarkerCluster.css", "MarkerCluster.css"),
        ("dist/MarkerCluster.Default.css", "MarkerCluster.Default.css"),
        ("MIT-LICENCE.txt", "LICENSE"),
    ],
    "axe-core": [
        ("axe.min.js", "axe.min.js"),
        ("LICENSE", "LICENSE"),
    ],
    # Only its Sass is used (compiled into assetmap.css); it is listed for the manifest.
    "govuk-frontend": [],
}


def fail(message: str) -> NoReturn:
    """Print an error and stop with status 1."""
    print(f"vendor_assets: {message}", file=sys.stderr)
    sys.exit(1)


def package_version(package: str) -> str:
    """Installed version of a package in node_modules."""
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.is_file():
        fail(f"{package} is not installed in {NODE_MODULES}; run `cd web && npm ci` first")
    return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])


def copy_package(package: str, out: Path) -> int:
    """Copy one package's listed files into ``out/<package>``; return how many were copied."""
    copied = 0
    for source, target in FILES[package]:
        src = NODE_MODULES / package / source
        dest = out / package / target
        if source.endswith("/"):
            if not src.is_dir():
                fail(f"missing folder {src}")
            dest.mkdir(parents=True, exist_ok=True)
            for item in sorted(src.iterdir()):
                if item.is_file():
                    shutil.copy2(item, dest / item.name)
                    copied += 1
            continue
        if not src.is_file():
            fail(f"missing file {src}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
        copied += 1
    return copied


def compile_css(out: Path) -> Path:
    """Compile the app stylesheet with the Dart Sass that npm installed."""
    sass = NODE_MODULES / "sass" / "sass.js"
    node = shutil.which("node")
    if node is None or not sass.is_file():
        fail("node and the sass package are needed to build assetmap.css (cd web && npm ci)")
    dest = out / "assetmap" / "assetmap.css"
    dest.parent.mkdir(parents=True, exist_ok=True)
    command = [
        node,
        str(sass),
        f"--load-path={NODE_MODULES}",
        "--style=compressed",
        "--no-source-map",
        # GOV.UK Frontend 5 still uses @import; its deprecation warnings are not ours to fix.
        "--quiet-deps",
        "--silence-deprecation=import",
        str(SCSS),
        str(dest),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        fail(f"sass failed:\n{result.stderr}")
    if result.stderr.strip():
        print(result.stderr.strip(), file=sys.stderr)
    return dest


def main() -> int:
    """Rebuild web/static/vendor from node_modules."""
    if not NODE_MODULES.is_dir():
        fail(f"{NODE_MODULES} not found; run `cd web && npm ci` first")
    building = NODE_MODULES / ".assetmap-vendor-building"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    versions = {}
    for package in FILES:
        versions[package] = package_version(package)
        count = copy_package(package, building)
        print(f"vendor_assets: {package} {versions[package]} ({count} files)")
    css = compile_css(building)
    print(f"vendor_assets: assetmap.css ({css.stat().st_size // 1024} KiB)")
    (building / "manifest.json").write_text(
        json.dumps(versions, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    old = NODE_MODULES / ".assetmap-vendor-old"
    shutil.rmtree(old, ignore_errors=True)
    if VENDOR.exists():
        VENDOR.rename(old)
    building.rename(VENDOR)
    shutil.rmtree(old, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
