"""Public pages: the map of published assets, one asset's page, data licences, accessibility."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import Blueprint, render_template, url_for
from markupsafe import Markup

from assetmap.domain.asset import Asset, is_email_address
from assetmap.domain.errors import NotFound
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, COSTS, CURRENCIES, PROVIDER_TYPES
from assetmap.maps import assets_map, map_parts
from assetmap.maps.popups import is_web_address
from assetmap.web.app import csp_nonce, current_store, state

bp = Blueprint("pages", __name__)


def _embedded_map(assets: Iterable[Asset], *, one_asset: bool = False) -> dict[str, Markup]:
    """The asset map as head/html/script fragments for a page, scripts carrying the nonce.

    The fragments are built by assetmap.maps, which escapes every resident string (data goes
    in as escaped JSON and popups are built with textContent), so they are marked safe here.
    """
    app_state = state()
    settings = app_state.settings

    def detail_url(asset: Asset) -> str:
        return url_for("pages.asset_detail", asset_id=asset.id)

    m = assets_map(
        assets,
        app_state.taxonomy,
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        vendor_base_url=url_for("static", filename="vendor"),
        use_cdn=settings.use_cdn,
        licences_url=url_for("pages.licences"),  # the app may be mounted under a prefix
        # A one-asset map sits on that asset's page: no links, legend or layer switcher.
        detail_url=None if one_asset else detail_url,
        controls=not one_asset,
    )
    parts = map_parts(m, nonce=csp_nonce())
    # The one place map output is trusted: assetmap.maps escaped it (see the docstring).
    return {
        "head": Markup(parts.head),  # noqa: S704
        "html": Markup(parts.html),  # noqa: S704
        "script": Markup(parts.script),  # noqa: S704
    }


def _long_date(iso: str | None) -> str:
    """'2026-11-23...' as '23 November 2026' (GOV.UK style); '' when missing or unreadable."""
    try:
        day = date.fromisoformat((iso or "")[:10])
    except ValueError:
        return ""
    return f"{day.day} {day:%B %Y}"


def _categories() -> dict[str, Any]:
    return {c.id: c for c in state().taxonomy}


@bp.get("/")
def home() -> str:
    """Map and table of the published assets."""
    assets = current_store().list_assets(status="published")
    return render_template(
        "home.html",
        assets=assets,
        categories=_categories(),
        map=_embedded_map(assets),
    )


@bp.get("/assets/<asset_id>")
def asset_detail(asset_id: str) -> str:
    """One published asset: every public field and its location."""
    try:
        asset = current_store().get_asset(asset_id)
    except NotFound:
        asset = None
    # Pending, rejected and archived assets are not public: answer as if they did not exist.
    if asset is None or asset.status != "published":
        raise NotFound(f"There is no published asset with the id '{asset_id}'.")
    labels = {
        "cost": COSTS.get(asset.cost or "", ""),
        "currencies": [CURRENCIES[c] for c in asset.currencies if c in CURRENCIES],
        "accessibility": [ACCESSIBILITY[a] for a in asset.accessibility if a in ACCESSIBILITY],
        "audience": [AUDIENCES[a] for a in asset.audience if a in AUDIENCES],
        "provider_type": PROVIDER_TYPES.get(asset.provider_type or "", ""),
        "last_verified": _long_date(asset.last_verified),
        "updated": _long_date(asset.updated_at),
    }
    return render_template(
        "asset.html",
        asset=asset,
        category=_categories().get(asset.category),
        labels=labels,
        website_is_link=asset.website.lower().startswith(("http://", "https://")),
        map=_embedded_map([asset], one_asset=True),
    )


@bp.get("/accessibility")
def accessibility() -> str:
    """The accessibility statement UK public bodies must publish for a service."""
    settings = state().settings
    return render_template(
        "accessibility.html",
        organisation=settings.organisation,
        contact=settings.accessibility_contact,
        contact_href=_contact_href(settings.accessibility_contact),
    )


def _contact_href(contact: str) -> str:
    """A link for a contact that is an email or web address; empty for anything else."""
    if is_email_address(contact):
        return "mailto:" + contact
    if is_web_address(contact):
        return contact
    return ""


@bp.get("/licences")
def licences() -> str:
    """Data sources, their licences and the attribution they need."""
    settings = state().settings
    assets = current_store().list_assets(status="published")
    sources = Counter((a.source, a.licence) for a in assets)
    # The tile provider is a setting, so its credit is too; no tiles, nothing to credit.
    return render_template(
        "licences.html",
        sources=sorted(sources.items()),
        tile_attribution=settings.tile_attribution if settings.tile_url else "",
    )
