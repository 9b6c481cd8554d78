"""The coordinators' nearby search page and the printable handout of a shortlist.

The page takes the JSON API's query parameters (so an API query string opens the same search
here) plus two of its own, ``day`` and ``time``, which the form asks for separately and which
become ``open_on``. Everything is a GET: the URL holds the whole search and the shortlist, and
nothing is written anywhere.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for
from flask.wrappers import Response
from markupsafe import Markup

from assetmap.analysis.nearby import (
    COST_FILTERS,
    DEFAULT_LIMIT,
    DEFAULT_RADIUS_M,
    MAX_LIMIT,
    RADIUS_PLACES,
    NearbyQuery,
    NearbyResult,
    Wording,
    parse_nearby_query,
    search_nearby,
)
from assetmap.analysis.shortlist import MAX_SHORTLIST, parse_ids, shortlist
from assetmap.domain.errors import AssetmapError, ValidationError
from assetmap.domain.vocab import ACCESSIBILITY, AUDIENCES, COSTS, CURRENCIES
from assetmap.maps import (
    MapParts,
    distance_text,
    handout_map,
    map_parts,
    nearby_map,
    standalone_map_parts,
)
from assetmap.web.api import current_postcodes
from assetmap.web.app import _tile_source, csp_nonce, current_store, state

bp = Blueprint("nearby", __name__, url_prefix="/nearby")

DAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
UNIT_LABELS = {"mi": "miles", "km": "kilometres", "m": "metres"}
PAGE_SIZES = (10, 25, 50, 100, 200)
_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
# Other spellings the parser accepts, for showing the unit list's choice.
_UNIT_IDS = {
    **dict.fromkeys(("metre", "metres", "meter", "meters"), "m"),
    **dict.fromkeys(("kilometre", "kilometres", "kilometer", "kilometers"), "km"),
    **dict.fromkeys(("mile", "miles"), "mi"),
}

# The form control each error's field is fixed in; fields without one (offset, parameters the
# page does not know) point at the form itself.
CONTROL_IDS = {
    "postcode": "postcode",
    "lat": "lat",
    "lon": "lon",
    "radius": "radius",
    "radius_m": "radius",
    "unit": "unit",
    "category": "category",
    "q": "q",
    "cost": "cost",
    "access": "access",
    "audience": "audience",
    "open_on": "day",
    "day": "day",
    "time": "time",
    "limit": "limit",
}
FORM_ID = "search-form"
# The order the controls come in on the page, which the error summary follows.
_CONTROL_ORDER = (
    FORM_ID, "postcode", "radius", "unit", "q", "lat", "lon", "category", "cost", "access",
    "audience", "day", "time", "limit",
)  # fmt: skip

# The API's parameters and the page's own two, day and time, in the order of the form: an
# unknown parameter's message lists them so.
SEARCH_PARAMETERS = (
    "postcode", "lat", "lon", "radius", "unit", "radius_m", "category", "q", "cost", "access",
    "audience", "day", "time", "open_on", "limit", "offset",
)  # fmt: skip
HANDOUT_PARAMETERS = ("ids", *SEARCH_PARAMETERS)
# Parameters that sites, mail and adverts add to a shared link to count its clicks; the page
# and handout ignore them (the JSON API does not: it refuses every unknown parameter).
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "igshid", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl", "mkt_tok", "srsltid",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_",)

# The parser's messages in the form's words: its labels, not the API's parameter names. A
# bookmarked or edited link may still hold API-only parameters (radius_m, open_on, a unit with
# no radius), so those messages say how to fix the link.
PAGE_WORDING = Wording(
    names=MappingProxyType(
        {
            "lat": "latitude",
            "lon": "longitude",
            # The form's box is labelled Distance, whichever parameter the link gave it in.
            "radius": "distance",
            "radius_m": "distance",
            "open_on": "open on",
            "q": "search words",
            "access": "accessibility",
            "limit": "results per page",
        }
    ),
    kind="parameter",
    byte="%{:02X}",  # the escape the link holds
    location_both="give either a postcode or latitude and longitude, not both",
    location_missing=(
        "say where to search: give a postcode (like M32 0TH), a postcode district (M32)"
        " or sector (M32 0), or latitude and longitude"
    ),
    point_half="{missing} is missing: give both latitude and longitude, or a postcode",
    radius_both=(
        "give the distance in metres (radius_m) or a distance and unit (radius and unit), not both"
    ),
    # Only a link with radius_m and unit gets here (the page drops a unit with no distance):
    # the form shows that distance in metres, so searching again fixes it.
    unit_alone=(
        "unit goes with radius, not radius_m (metres): check the distance and its unit,"
        " and search again"
    ),
    # The form shows the distance with its unit list beside it, so choosing one fixes it
    # (a radius with no unit again, as "give radius in metres" advised, was refused again).
    radius_alone="distance {radius} needs a unit: choose miles, kilometres or metres",
    postcode_refused="{message}",
    plural=frozenset({"q"}),
)


def _sentence(message: str) -> str:
    """A message as the page shows it, capitalised: the parser's start in lower case."""
    return message[:1].upper() + message[1:]


def _first(args: Mapping[str, Sequence[str]], name: str) -> str:
    """The first non-blank value of a parameter, stripped; '' when there is none."""
    return next((v.strip() for v in args.get(name, ()) if v.strip()), "")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def _query_args() -> dict[str, list[str]]:
    """The request's parameters with blank values and click-tracking parameters dropped.

    A submitted form sends every box, blank or not; tracking parameters come with links
    shared by mail or social media and mean nothing here (nor are they passed on).
    """
    args: dict[str, list[str]] = {}
    for name, values in request.args.to_dict(flat=False).items():
        if _is_tracking(name):
            continue
        kept = [v for v in values if v.strip()]
        if kept:
            args[name] = kept
    return args


def _api_params(args: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The API's parameters from the page's: ``day`` and ``time`` become ``open_on``."""
    params = {k: v for k, v in args.items() if k not in {"day", "time"}}
    day, time = _first(args, "day").lower(), _first(args, "time")
    if not (day or time):
        return params
    if "open_on" in params:
        raise ValidationError("choose a day and time, or give open on, not both", field="day")
    if not day:
        raise ValidationError("select a day as well as a time", field="day")
    if day not in DAYS:
        raise ValidationError("select a day from the list", field="day")
    if not time:
        raise ValidationError("enter a time as well as a day, like 14:00", field="time")
    if not _TIME.fullmatch(time):
        raise ValidationError(
            "enter a time on the 24-hour clock, from 00:00 to 23:59, like 14:00", field="time"
        )
    params["open_on"] = [f"{day} {time}"]
    return params


# Parameters that are checked together: when one is wrong, its group is set aside (the location
# replaced by a stand-in UK point) so that the rest of the query can still be checked.
_GROUPS = (
    frozenset({"postcode", "lat", "lon"}),
    frozenset({"radius", "radius_m", "unit"}),
    frozenset({"open_on", "day", "time"}),
)
_STAND_IN = {"lat": ["54"], "lon": ["-2"]}


def _unknown(
    args: Mapping[str, list[str]], known: Sequence[str]
) -> tuple[list[str], ValidationError | None]:
    """The parameters this page does not take, and the problem they make (None for none)."""
    unknown = sorted(name for name in args if name not in known)
    if not unknown:
        return [], None
    shown = ", ".join(repr(name if len(name) <= 40 else name[:39] + "…") for name in unknown)
    plural = "s" if len(unknown) > 1 else ""
    message = (
        f"Unknown parameter{plural} {shown} in the link; known parameters are: {', '.join(known)}"
    )
    return unknown, ValidationError(message, field=unknown[0])


def _parse(args: Mapping[str, list[str]]) -> NearbyQuery:
    """Validate the page's parameters into a query (ValidationError names the field)."""
    _, problem = _unknown(args, SEARCH_PARAMETERS)
    if problem is not None:
        raise problem
    params = _api_params(args)
    if "radius" not in params and "radius_m" not in params:
        # The form always sends its unit list's choice: an empty distance box means the
        # default radius, not "unit needs a radius".
        params.pop("unit", None)
    return parse_nearby_query(
        params, taxonomy=state().taxonomy, postcodes=current_postcodes(), wording=PAGE_WORDING
    )


def _form_values(args: Mapping[str, list[str]], query: NearbyQuery | None) -> dict[str, Any]:
    """What the form's controls show: what was typed, or the defaults."""
    values: dict[str, Any] = {
        name: _first(args, name)
        for name in ("postcode", "lat", "lon", "q", "audience", "limit", "day", "time")
    }
    radius, unit = _first(args, "radius"), _first(args, "unit").lower()
    if not radius and _first(args, "radius_m"):
        radius, unit = _first(args, "radius_m"), "m"
    if not radius:
        # No distance given: the search uses the default, 1 mile, so the form says so
        # rather than showing an empty box beside whatever unit the list was left at.
        radius, unit = "1", "mi"
    # "1.0" (as a bookmarked query may spell it) reads better as "1".
    values["radius"] = re.sub(r"^([0-9]+)\.0*$", r"\1", radius)
    values["unit"] = _UNIT_IDS.get(unit, unit) or "mi"
    values["day"] = values["day"].lower()
    if not values["day"] and _first(args, "open_on"):
        # An open_on the parser refused: show the day if one can be read.
        values["day"] = _first(args, "open_on")[:3].lower()
    for name in ("category", "cost", "access"):
        values[name] = {part.strip().lower() for v in args.get(name, ()) for part in v.split(",")}
    if query is not None:
        # The lists and boxes show the search that ran, as the parser read it: a link may
        # spell a value otherwise (audience=Carers, day=MON, limit=007), and a choice no
        # option matches would be shown, and sent again, as the list's first option.
        values["audience"] = query.audience or ""
        values["limit"] = str(query.limit)
        values["category"] = set(query.categories)
        values["cost"], values["access"] = set(query.cost), set(query.access)
        if query.open_on is not None:
            values["day"], values["time"] = query.open_on
    limits = set(PAGE_SIZES)
    if values["limit"].isdigit() and 0 < int(values["limit"]) <= MAX_LIMIT:
        limits.add(int(values["limit"]))
    values["limit_options"] = [(str(n), str(n)) for n in sorted(limits)]
    # The filters stay folded away unless one is in use (or has the error).
    values["more_open"] = bool(
        values["category"]
        or values["cost"]
        or values["access"]
        or values["audience"]
        or values["day"]
        or values["time"]
        or values["limit"] not in {"", str(DEFAULT_LIMIT)}
    )
    values["point_open"] = bool(values["lat"] or values["lon"])
    return values


def _radius_text(query: NearbyQuery) -> str:
    """The radius as the person chose it: '1 mile', '2.5 km', '1,600 m'."""
    if query.radius is not None and query.unit is not None:
        # To the millimetre, as the search uses it: 0.000001 km, 0.000001 mi (1.6 mm).
        amount = _decimal(query.radius, RADIUS_PLACES if query.unit == "m" else 6)
        if query.unit == "mi":
            return f"{amount} mile" if query.radius == 1 else f"{amount} miles"
        return f"{amount} {query.unit}"
    if query.radius_m == DEFAULT_RADIUS_M:
        return "1 mile"
    return f"{_decimal(query.radius_m, RADIUS_PLACES)} m"


def _decimal(value: float, places: int) -> str:
    """A number with thousands commas and at most ``places`` decimals: '1,600', '0.5'."""
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _stale_phrase(days: int) -> str:
    """When a listing counts as unverified, after 'Not verified': 'in the last 12 months'.

    365 days read as 12 months, and whole years, months (of 30 days) or days as such;
    with 0 a listing is only fresh on the day it was verified.
    """
    if days <= 0:
        return "today"
    if days % 365 == 0:
        amount, unit = (12, "month") if days == 365 else (days // 365, "year")
    elif days % 30 == 0:
        amount, unit = days // 30, "month"
    else:
        amount, unit = days, "day"
    return f"in the last {unit}" if amount == 1 else f"in the last {amount} {unit}s"


def _long_date(iso: str | None) -> str:
    """'2026-11-23' as '23 November 2026' (GOV.UK style); '' when missing or unreadable."""
    try:
        day = date.fromisoformat((iso or "")[:10])
    except ValueError:
        return ""
    return f"{day.day} {day:%B %Y}"


def _handout_area(query: NearbyQuery) -> str:
    """Where a handout's places are near, in words that point at no one's home.

    The search is usually from the person's own postcode (a street's worth of homes), and a
    handout may be left lying about with the places chosen for them: a full postcode is named
    by its district and a point not at all. Sectors and districts hold thousands of homes.
    """
    if query.origin_kind == "unit" and query.postcode:
        return f"postcode district {query.postcode.split()[0]}"
    if query.origin_kind == "point":
        return "the chosen point"
    return query.origin_label


def _present(record: dict[str, Any]) -> dict[str, Any]:
    """A result with the labels the templates show."""
    website = str(record.get("website") or "")
    taxonomy = state().taxonomy
    return {
        **record,
        "category_colour": (
            taxonomy.get(record["category"]).colour if record["category"] in taxonomy else ""
        ),
        "distance_text": distance_text(record),
        "cost_label": COSTS.get(record.get("cost") or "", ""),
        "currency_labels": [CURRENCIES[c] for c in record["currencies"] if c in CURRENCIES],
        "access_labels": [ACCESSIBILITY[a] for a in record["accessibility"] if a in ACCESSIBILITY],
        "audience_labels": [AUDIENCES[a] for a in record["audience"] if a in AUDIENCES],
        "verified_label": _long_date(record.get("last_verified")),
        "website_is_link": website.lower().startswith(("http://", "https://")),
    }


def _trusted(parts: MapParts) -> dict[str, Markup]:
    # assetmap.maps escaped every resident string (JSON data, textContent popups).
    return {
        "head": Markup(parts.head),  # noqa: S704
        "html": Markup(parts.html),  # noqa: S704
        "script": Markup(parts.script),  # noqa: S704
    }


def _results_map(result: NearbyResult, query: NearbyQuery) -> dict[str, Markup]:
    settings = state().settings
    m = nearby_map(
        result.results,
        state().taxonomy,
        origin=result.origin,
        radius_m=query.radius_m,
        radius_label=_radius_text(query),
        hours_unknown=result.hours_unknown,
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        vendor_base_url=url_for("static", filename="vendor"),
        use_cdn=settings.use_cdn,
        detail_url=lambda asset_id: url_for("pages.asset_detail", asset_id=asset_id),
        licences_url=url_for("pages.licences"),  # the app may be mounted under a prefix
    )
    return _trusted(map_parts(m, nonce=csp_nonce()))


def _url(endpoint: str, args: Mapping[str, Sequence[str]], **changes: str | None) -> str:
    """A URL for an endpoint with these parameters; ``changes`` replace or (None) drop one."""
    params: dict[str, Sequence[str]] = dict(args)
    for name, value in changes.items():
        params.pop(name, None)
        if value is not None:
            params[name] = [value]
    query = urlencode([(k, v) for k, vs in params.items() for v in vs])
    return url_for(endpoint) + (f"?{query}" if query else "")


def _pagination(
    args: Mapping[str, Sequence[str]], query: NearbyQuery, result: NearbyResult
) -> dict[str, Any] | None:
    """Previous/next and numbered page links (GOV.UK pagination), each keeping the query.

    Also ``first`` and ``last``, the first and last pages with results, and ``past_end``:
    whether this page lies beyond the last (an old or edited link), whose "Previous" then
    goes to the last page with results.
    """
    total = max(result.total, result.hours_unknown_total)
    if total <= query.limit and query.offset == 0:
        return None
    pages = max(1, math.ceil(total / query.limit))
    current = query.offset // query.limit + 1
    last = (pages - 1) * query.limit
    past_end = query.offset >= total

    def link(offset: int) -> str:
        return _url("nearby.search", args, offset=str(offset) if offset else None)

    numbers = sorted({1, pages, current - 1, current, current + 1} & set(range(1, pages + 1)))
    items: list[dict[str, Any]] = []
    for number in numbers:
        if items and number - items[-1]["number"] > 1:
            items.append({"number": number - 1, "ellipsis": True})
        items.append(
            {
                "number": number,
                "href": link((number - 1) * query.limit),
                "current": (number - 1) * query.limit == query.offset,
                "ellipsis": False,
            }
        )
    if past_end:
        previous: str | None = link(last)
    else:
        previous = link(max(0, query.offset - query.limit)) if query.offset else None
    return {
        "previous": previous,
        "next": link(query.offset + query.limit) if query.offset + query.limit < total else None,
        "items": items,
        "first": link(0),
        "last": link(last),
        "pages": pages,
        "past_end": past_end,
    }


def _choices() -> dict[str, Any]:
    """The fixed lists the form offers: checkbox items are (value, label, swatch colour)."""
    return {
        "category_items": [(c.id, c.label, c.colour) for c in state().taxonomy],
        "cost_items": [(k, v, "") for k, v in COST_FILTERS.items()],
        "access_items": [(k, v, "") for k, v in ACCESSIBILITY.items()],
        "audience_options": [("", "Anyone"), *AUDIENCES.items()],
        "days": DAYS,
        "units": UNIT_LABELS,
    }


def _check(args: Mapping[str, list[str]]) -> tuple[NearbyQuery | None, list[ValidationError]]:
    """Validate the page's parameters and find every problem, not just the parser's first."""
    remaining = dict(args)
    problems: list[ValidationError] = []
    unknown, problem = _unknown(args, SEARCH_PARAMETERS)
    if problem is not None:
        # One problem names them all; the rest of the query is still checked.
        problems.append(problem)
        for name in unknown:
            remaining.pop(name)
    while True:
        try:
            query = _parse(remaining)
        except ValidationError as err:
            problems.append(err)
            group = next((g for g in _GROUPS if err.field in g), frozenset({err.field or ""}))
            if not group & remaining.keys() and err.field not in {"postcode", "lat", "lon"}:
                break  # nothing left to set aside: stop rather than report it again
            for name in group:
                remaining.pop(name, None)
            if "postcode" in group:
                remaining.update(_STAND_IN)
            if len(problems) > len(args) + len(_GROUPS):
                break  # a safety net: every round sets at least one parameter aside
            continue
        return (None if problems else query), problems
    return None, problems


def _message(err: AssetmapError) -> str:
    """A problem's message as the page and the handout show it, naming its field."""
    message = err.message
    if getattr(err, "field", None) == "postcode" and message.startswith("'"):
        message = f"Postcode {message}"  # "'M3Z' is not a UK postcode ..."
    return _sentence(message)


def _errors(problems: Sequence[ValidationError]) -> list[dict[str, str]]:
    """Each problem as the summary and its control show it (the first per control is kept)."""
    out: list[dict[str, str]] = []
    for err in problems:
        field = err.field or ""
        message = _message(err)
        control = CONTROL_IDS.get(field, FORM_ID)
        if all(e["control"] != control for e in out):
            out.append({"field": field, "control": control, "message": message})
    return sorted(out, key=lambda e: _CONTROL_ORDER.index(e["control"]))


@bp.after_request
def _no_store(response: Response) -> Response:
    # Searches and handouts are about one person's area: keep them out of shared caches and
    # the browser's disk cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
def search() -> Any:
    """Search for published assets near a postcode or point, as a list and a map."""
    args = _query_args()
    query, problems = _check(args) if args else (None, [])
    errors = _errors(problems)
    context: dict[str, Any] = {
        "choices": _choices(),
        "form_id": FORM_ID,
        "errors": {e["control"]: e["message"] for e in errors},
    }
    if query is not None:
        app_state = state()
        result = search_nearby(
            current_store(),
            query,
            taxonomy=app_state.taxonomy,
            today=date.today(),
            stale_after_days=app_state.settings.stale_after_days,
        )
        context.update(
            query=query,
            result=result,
            results=[_present(r) for r in result.results],
            hours_unknown=[_present(r) for r in result.hours_unknown],
            radius_text=_radius_text(query),
            open_on_text=(
                f"{DAYS[query.open_on[0]]} at {query.open_on[1]}" if query.open_on else ""
            ),
            stale_phrase=_stale_phrase(app_state.settings.stale_after_days),
            pagination=_pagination(args, query, result),
            map=_results_map(result, query),
            shortlist_params=[(k, v) for k, vs in args.items() for v in vs],
            max_shortlist=MAX_SHORTLIST,
        )
    context["form"] = _form_values(args, query)
    return render_template("nearby.html", **context), 400 if errors else 200


def _handout_context(args: dict[str, list[str]]) -> dict[str, Any]:
    """Everything a handout shows; ValidationError when the ids or the search are unusable."""
    _, problem = _unknown(args, HANDOUT_PARAMETERS)
    if problem is not None:
        raise problem
    ids = parse_ids(args.pop("ids", []))
    query = _parse(args)
    app_state = state()
    chosen = shortlist(
        current_store(),
        query,
        ids,
        taxonomy=app_state.taxonomy,
        today=date.today(),
        stale_after_days=app_state.settings.stale_after_days,
    )
    if not chosen.results:
        raise ValidationError(
            # "any more" would say they once were: a hand-made or cut-short link may hold ids
            # that never named a place.
            "none of the chosen places is listed now: they may have been taken off since, or"
            " the link may be incomplete; go back and choose again",
            field="ids",
        )
    return {
        "query": query,
        "results": [_present(r) for r in chosen.results],
        "missing": chosen.missing,
        "radius_text": _radius_text(query),
        "area": _handout_area(query),
        # Of the filters, only the time is said: cost, accessibility and audience choices
        # would tell a reader of a mislaid sheet about the person's means, health or needs
        # (each place's own details are listed instead), and the search words are the
        # coordinator's, not the person's.
        "open_on_text": f"{DAYS[query.open_on[0]]} at {query.open_on[1]}" if query.open_on else "",
        "stale_phrase": _stale_phrase(app_state.settings.stale_after_days),
        "made_on": _long_date(date.today().isoformat()),
    }


def _handout_map(context: dict[str, Any]) -> Any:
    settings = state().settings
    return handout_map(
        context["results"],
        origin=context["query"].origin(),
        tile_url=settings.tile_url,
        tile_attribution=settings.tile_attribution,
        vendor_base_url=url_for("static", filename="vendor"),
        use_cdn=settings.use_cdn,
        licences_url=url_for("pages.licences"),
    )


def _handout_problem(err: AssetmapError, args: Mapping[str, Sequence[str]]) -> Any:
    back = _url("nearby.search", {k: v for k, v in args.items() if k != "ids"})
    problem = _message(err)
    return (
        render_template("handout.html", problem=problem, back_url=back, results=[]),
        err.status,
    )


@bp.get("/handout")
def handout() -> Any:
    """A printable handout of the places chosen from a nearby search; nothing is stored."""
    args = _query_args()
    try:
        context = _handout_context(dict(args))
    except AssetmapError as err:
        if err.status != 400:
            raise
        return _handout_problem(err, args)
    plain = {k: v for k, v in args.items() if k != "ids"}
    context.update(
        map=_trusted(map_parts(_handout_map(context), nonce=csp_nonce())),
        back_url=_url("nearby.search", plain),
        download_url=_url("nearby.handout_download", args),
    )
    return render_template("handout.html", **context)


@bp.get("/handout/download")
def handout_download() -> Any:
    """The handout as one HTML file that works offline, Leaflet and styles inlined."""
    args = _query_args()
    try:
        context = _handout_context(dict(args))
    except AssetmapError as err:
        if err.status != 400:
            raise
        return _handout_problem(err, args)
    vendor = Path(current_app.static_folder or "") / "vendor"
    # The file has its own policy: only its own inline code (this nonce) and the tiles.
    nonce = secrets.token_urlsafe(18)
    parts = standalone_map_parts(_handout_map(context), vendor_dir=vendor, nonce=nonce)
    stylesheet = (vendor / "assetmap" / "assetmap.css").read_text(encoding="utf-8")
    if "</style" in stylesheet.lower():
        raise ValueError("assetmap.css cannot be inlined")
    tiles = _tile_source(state().settings.tile_url)
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}';"
        f" img-src data: {tiles}; base-uri 'none'; form-action 'none'"
    )
    body = render_template(
        "handout_download.html",
        file_nonce=nonce,
        file_policy=" ".join(policy.split()),
        stylesheet=Markup(stylesheet),  # noqa: S704 - our compiled CSS, checked above
        map=_trusted(parts),
        **context,
    )
    filename = f"assetmap-handout-{date.today().isoformat()}.html"
    return Response(
        body,
        mimetype="text/html",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
