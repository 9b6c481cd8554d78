"""The JSON API under ``/api/v1``: thin views over :mod:`assetmap.analysis.nearby`.

Errors are raised as ``AssetmapError`` and turned into ``{"error": {"field", "message"}}``
with the right status by the app's one error handler.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from assetmap.analysis.nearby import describe_asset, parse_nearby_query, search_nearby
from assetmap.domain.errors import NotFound
from assetmap.gazetteer.postcodes import PostcodeIndex, default_postcode_path, load_default_index
from assetmap.web.app import current_store, state
from assetmap.web.openapi import API_PREFIX, openapi_document

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

_POSTCODES_KEY = "assetmap.postcodes"


def current_postcodes() -> PostcodeIndex:
    """The app's postcode directory (``settings.postcode_path``), loaded on first use."""
    index: PostcodeIndex | None = current_app.extensions.get(_POSTCODES_KEY)
    if index is None:
        path = state().settings.postcode_path
        # The shipped directory is cached per process; any other file is loaded per app.
        if path.resolve() == default_postcode_path().resolve():
            index = load_default_index()
        else:
            index = PostcodeIndex.from_csv(path)
        current_app.extensions[_POSTCODES_KEY] = index
    return index


@bp.get("/assets/nearby")
def nearby() -> Any:
    """Published assets near a postcode or point, nearest first."""
    app_state = state()
    query = parse_nearby_query(
        request.args.to_dict(flat=False),
        taxonomy=app_state.taxonomy,
        postcodes=current_postcodes(),
    )
    result = search_nearby(
        current_store(),
        query,
        taxonomy=app_state.taxonomy,
        today=date.today(),
        stale_after_days=app_state.settings.stale_after_days,
    )
    return jsonify(result.to_dict())


@bp.get("/assets/<asset_id>")
def asset(asset_id: str) -> Any:
    """One published asset by id."""
    app_state = state()
    try:
        found = current_store().get_asset(asset_id)
    except NotFound:
        found = None
    # Unpublished assets are answered exactly like missing ones: nothing about them leaks.
    if found is None or found.status != "published":
        raise NotFound(f"no published asset has the id {asset_id[:40]!r}")
    return jsonify(
        describe_asset(
            found,
            taxonomy=app_state.taxonomy,
            today=date.today(),
            stale_after_days=app_state.settings.stale_after_days,
        )
    )


@bp.get("/categories")
def categories() -> Any:
    """Asset categories in taxonomy order."""
    return jsonify(
        {
            "categories": [
                {"id": c.id, "label": c.label, "description": c.description, "colour": c.colour}
                for c in state().taxonomy
            ]
        }
    )


def _summaries() -> dict[str, str]:
    """Each API path (OpenAPI spelling) -> the first line of its view's docstring."""
    out: dict[str, str] = {}
    for rule in current_app.url_map.iter_rules():
        if rule.endpoint.startswith(f"{bp.name}."):
            view = current_app.view_functions[rule.endpoint]
            path = rule.rule.replace("<", "{").replace(">", "}")
            out[path] = (view.__doc__ or "").strip().splitlines()[0]
    return out


@bp.get("/openapi.json")
def openapi() -> Any:
    """This API described as an OpenAPI 3.1 document."""
    return jsonify(openapi_document(category_ids=state().taxonomy.ids, summaries=_summaries()))
