"""The JSON API under ``/api/v1``: thin views over :mod:`assetmap.analysis.nearby` and, for
resident submissions, :mod:`assetmap.services.submitting`.

Errors are raised as ``AssetmapError`` and turned into ``{"error": {"field", "message"}}``
with the right status by the app's one error handler.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for
from flask.wrappers import Response
from werkzeug.exceptions import RequestEntityTooLarge

from assetmap.analysis.nearby import (
    describe_asset,
    field_name,
    parse_nearby_query,
    refuse_not_utf8,
    search_nearby,
)
from assetmap.domain.errors import NotFound, ValidationError
from assetmap.domain.submission import Submission
from assetmap.gazetteer.postcodes import PostcodeIndex, default_postcode_path, load_default_index
from assetmap.services.accounts import client_key
from assetmap.services.submitting import (
    CREATED,
    DUPLICATE_RADIUS_M,
    RESENT,
    RETRIED,
    SIMILAR_NAME_SCORE,
    KeyReused,
    Sent,
    check_rate_limits,
    find_resent,
    is_same_submission,
    read_new_asset,
    read_submitter,
    similar_assets,
    submit_once,
)
from assetmap.web.app import current_store, state
from assetmap.web.jsonbody import read_json_object, submission_fields
from assetmap.web.openapi import (
    API_PREFIX,
    IDEMPOTENCY_KEY_PATTERN,
    MAX_SIMILAR_NAME_LENGTH,
    openapi_document,
)

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)

_POSTCODES_KEY = "assetmap.postcodes"
# A search's URL says where someone lives or where a resident's place is (a postcode, a
# point): like the /nearby page, keep its answers, errors too, out of shared caches and the
# browser's disk cache. A submission's status changes when it is decided, and its reference
# is all it takes to read it: kept out of caches as the /submissions pages are.
_NO_STORE_ENDPOINTS = frozenset(
    {"api.nearby", "api.similar", "api.submission_status", "api.create_submission"}
)
# The same for everyone, and changed by moderation, the passing days (stale) or a restart
# with other settings: caches may keep them but must ask again, which costs a 304 when the
# ETag still matches.
REVALIDATED_ENDPOINTS = frozenset({"api.asset", "api.categories", "api.openapi"})
# Reads are open to pages on any site (the data is open; no request carries a cookie's
# authority). Writes get no CORS headers: a site could otherwise have its visitors' browsers
# send submissions, each from another address, past the per-client limit.
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Retry-After",
}
# The answer to a preflight for a read (a request sending If-None-Match needs one).
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD",
    "Access-Control-Allow-Headers": "Accept, Accept-Language, Cache-Control, If-None-Match",
    "Access-Control-Max-Age": "86400",
}


@bp.after_request
def _caching_and_cors(response: Response) -> Response:
    if request.endpoint in _NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    elif request.endpoint in REVALIDATED_ENDPOINTS:
        response.headers["Cache-Control"] = "no-cache"
        if response.status_code == 200 and request.method in ("GET", "HEAD"):
            response.add_etag()
            response.make_conditional(request)
            # It adds a Date, and the server (gunicorn, Werkzeug's) writes its own: a 304
            # went out with two, and Date is a field sent once.
            response.headers.remove("Date")
    rule = request.url_rule
    if rule is not None and "GET" in (rule.methods or ()):
        response.headers.update(CORS_HEADERS)
        if request.method == "OPTIONS":
            response.headers.update(PREFLIGHT_HEADERS)
    return response


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


# What /assets/similar reads; like the nearby search it refuses anything else, so a radius_m
# or category that it would not apply is not taken for a narrower check.
SIMILAR_PARAMETERS = ("name", "postcode", "lat", "lon")


def _similar_name() -> str:
    """The ``name`` parameter of /assets/similar, stripped; 400 for any parameter it refuses."""
    unknown = sorted(key for key in request.args if key not in SIMILAR_PARAMETERS)
    if unknown:
        raise ValidationError(
            f"unknown parameter {unknown[0][:40]!r}; known parameters are:"
            f" {', '.join(SIMILAR_PARAMETERS)}",
            field=field_name(unknown[0]),
        )
    names = request.args.getlist("name")
    if len(names) > 1:
        raise ValidationError(f"give name once, not {len(names)} times", field="name")
    name = names[0].strip() if names else ""
    refuse_not_utf8(name, "name")  # as the nearby search's parameters are
    return name


@bp.get("/assets/similar")
def similar() -> Any:
    """Published assets within 200 m (1 km with the same postcode) named like the one given."""
    app_state = state()
    name = _similar_name()
    if not name:
        raise ValidationError("give the name to compare (name=...)", field="name")
    if len(name) > MAX_SIMILAR_NAME_LENGTH:
        raise ValidationError(
            f"name must be at most {MAX_SIMILAR_NAME_LENGTH} characters", field="name"
        )
    where = {key: request.args.getlist(key) for key in ("postcode", "lat", "lon")}
    query = parse_nearby_query(where, taxonomy=app_state.taxonomy, postcodes=current_postcodes())
    # A full postcode's point is its middle, which can be hundreds of metres from the place:
    # assets sharing it count further away, as on the check page.
    postcode = query.origin_label if query.origin_kind == "unit" else ""
    found = similar_assets(current_store(), name, query.lon, query.lat, postcode=postcode)
    return jsonify(
        {
            "results": [
                {
                    "id": s.asset.id,
                    "name": s.asset.name,
                    "category": s.asset.category,
                    "category_label": app_state.taxonomy.get(s.asset.category).label
                    if s.asset.category in app_state.taxonomy
                    else s.asset.category,
                    "address": s.asset.address,
                    "postcode": s.asset.postcode,
                    "distance_m": round(s.distance_m, 1),
                    "score": round(s.score, 2),
                    "url": url_for("pages.asset_detail", asset_id=s.asset.id),
                }
                for s in found
            ],
            "origin": query.origin(),
            "radius_m": DUPLICATE_RADIUS_M,
            "min_score": SIMILAR_NAME_SCORE,
        }
    )


def _receipt(submission: Submission) -> dict[str, Any]:
    """What anyone may know of a submission: reference, kind, status and dates."""
    return {
        "reference": submission.ref,
        "kind": submission.kind,
        "status": submission.status,
        "submitted_at": submission.created_at,
        "decided_at": submission.decided_at or None,
        "status_url": url_for("api.submission_status", ref=submission.ref),
    }


def _idempotency_key() -> str:
    """The ``Idempotency-Key`` header (a structured-field string; quotes are optional)."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return ""
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        raise ValidationError(
            "Idempotency-Key must be 16 to 200 visible ASCII characters; use a random UUID",
            field="Idempotency-Key",
        )
    return key


def _request_body() -> bytes:
    """The request body; a 413 when it is over the limit, with or without a Content-Length."""
    raw = request.get_data(cache=False)
    limit = request.max_content_length
    # Sent without a Content-Length (Transfer-Encoding: chunked), a body is read up to the
    # limit and no further, so one too large came here cut short and was refused as broken
    # JSON; one more byte from the server's stream says whether there was more.
    if (
        request.content_length is None
        and limit is not None
        and len(raw) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    return raw


@bp.post("/submissions")
def create_submission() -> Any:
    """Send a new asset for moderation; it stays pending until a moderator approves it."""
    app_state = state()
    fields = submission_fields(read_json_object(_request_body()))
    key = _idempotency_key()
    asset, errors = read_new_asset(fields, app_state.taxonomy, current_postcodes())
    submitter, submitter_errors = read_submitter(fields)
    errors += submitter_errors
    if errors or asset is None:
        raise errors[0]
    store = current_store()
    stored_key = f"api:{key}" if key else ""
    submitter = replace(
        submitter, client_key=client_key(request.remote_addr or "", app_state.settings.secret_key)
    )
    # A retry of a request already stored answers with that submission, even past the limits;
    # so does the same content sent again by the same sender while the first is pending.
    sent = Sent.new_place(asset)
    submission, outcome = store.find_submission_by_key(stored_key), RETRIED
    if submission is None:
        submission, outcome = find_resent(store, sent, submitter), RESENT
    if submission is None:
        check_rate_limits(
            store,
            client_key=submitter.client_key,
            email=submitter.email,
            per_client_per_hour=app_state.settings.submissions_per_client_per_hour,
            per_email_per_day=app_state.settings.submissions_per_email_per_day,
        )
        submission, outcome = submit_once(
            store, sent, submitter=submitter, idempotency_key=stored_key
        )
    if outcome == RETRIED and not is_same_submission(store, submission, asset, submitter):
        raise KeyReused(
            "this Idempotency-Key was already used for a different submission; use a new key"
        )
    status = 201 if outcome == CREATED else 200
    receipt = _receipt(submission)
    return jsonify(receipt), status, {"Location": receipt["status_url"]}


@bp.get("/submissions/<ref>")
def submission_status(ref: str) -> Any:
    """A submission's status by reference (never what was sent, nor who sent it)."""
    ref = ref.strip().upper()
    try:
        if not re.fullmatch(r"AM-[0-9A-Z]{4}-[0-9A-Z]{4}", ref):
            raise NotFound("")
        submission = current_store().get_submission(ref)
    except NotFound:
        raise NotFound(f"no submission has the reference {ref[:40]!r}") from None
    return jsonify(_receipt(submission))


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
    app_state = state()
    # The submission limits are settings: the document states this instance's.
    return jsonify(
        openapi_document(
            category_ids=app_state.taxonomy.ids,
            summaries=_summaries(),
            submissions_per_client_per_hour=app_state.settings.submissions_per_client_per_hour,
            submissions_per_email_per_day=app_state.settings.submissions_per_email_per_day,
            # Absolute: OpenAPI asks for a URL, and the document is read away from the site.
            licences_url=url_for("pages.licences", _external=True),
            server_url=request.script_root or "/",
        )
    )
