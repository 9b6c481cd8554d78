"""The ``assetmap`` command line: thin commands over the same functions the web app calls."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from assetmap.domain.errors import AssetmapError, ValidationError
from assetmap.domain.people import User
from assetmap.domain.taxonomy import load_taxonomy
from assetmap.settings import Settings
from assetmap.store import Store, open_store, without_password

if TYPE_CHECKING:
    from assetmap.analysis.nearby import Wording


def _missing_sqlite_store(url: str) -> Path | None:
    """The path a SQLite URL names when no store is there yet; None otherwise."""
    if not url.startswith("sqlite:"):
        return None
    from assetmap.store.sqlite import sqlite_path

    path = sqlite_path(url)
    # An empty file too: SQLite would take it for a new database and build one.
    if path != ":memory:" and not (Path(path).is_file() and Path(path).stat().st_size):
        return Path(path).resolve()
    return None


class Context:
    """Lazily opened resources shared by subcommands."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            # A command searches once or not at all: not worth loading every point.
            self._store = open_store(self.settings.database_url, points_in_memory=False)
        return self._store

    @property
    def existing_store(self) -> Store:
        """The store, for commands that only read or change what is there.

        Opening a SQLite path creates the file, so a mistyped ``--db`` (or a command run
        from another folder, with the default relative path) would answer from a new empty
        store: "0 results" where the person should hear "wrong database".
        """
        missing = _missing_sqlite_store(self.settings.database_url)
        if missing is not None:
            raise AssetmapError(
                f"there is no store at {missing}: create one with "
                "`assetmap init` (and `assetmap demo` for the Trafford demo), or give "
                "--db (or ASSETMAP_DATABASE_URL) for the one you meant"
            )
        return self.store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_ctx = click.make_pass_decorator(Context)


class _OnceOnlyCommand(click.Command):
    """A command that refuses a single-valued option given more than once.

    Click keeps the last value of a repeated option, so ``--radius 100 --radius 2000`` would
    quietly search 2 km: whoever typed an option twice has probably made a mistake. Options
    meant to repeat say so (``multiple=True``, ``count=True``).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:  # shell completion runs nothing: nothing to refuse
            # The parser click is about to build and use (given a copy: parsing consumes the
            # list), which lists each option every time it was typed.
            _values, _left, order = self.make_parser(ctx).parse_args(args=list(args))
            options = [p for p in order if isinstance(p, click.Option)]
            # --help and --version answer whatever else was typed, as they always have.
            if not any(p.is_eager for p in options):
                for option, times in Counter(options).items():
                    if times > 1 and not (option.multiple or option.count):
                        raise click.UsageError(
                            f"Option {option.get_error_hint(ctx)} was given {times} times;"
                            " give it once.",
                            ctx,
                        )
        return super().parse_args(ctx, args)


class _OnceOnlyGroup(_OnceOnlyCommand, click.Group):
    """A group that refuses repeated options, as do its commands and subgroups."""

    command_class = _OnceOnlyCommand
    group_class = type  # subgroups are of this class too


@click.group(cls=_OnceOnlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "database_url",
    envvar="ASSETMAP_DATABASE_URL",
    help="Store URL: sqlite:///path.db or postgresql://user@host/dbname (default"
    " sqlite:///instance/assetmap.db, in the folder ASSETMAP_INSTANCE_PATH when it is set).",
)
@click.version_option(package_name="assetmap")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    """Assetmap: community asset mapping for adult social care."""
    settings = Settings.from_env(database_url=database_url)
    obj = Context(settings)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


@cli.command()
@pass_ctx
def init(ctx: Context) -> None:
    """Create the store, or upgrade its schema to the latest version."""
    version = ctx.store.migrate()
    click.echo(
        f"store ready at {without_password(ctx.settings.database_url)} (schema version {version})"
    )


@cli.command()
@pass_ctx
def cluster(ctx: Context) -> None:
    """Put the assets in spatial order on disk, so nearby searches read fewer pages.

    Worth running after a large import, at a quiet time. On SQLite it holds the write lock
    (about two minutes per million assets) and searches go on, answered correctly; the
    assets' internal keys change, while ids, revisions and everything users see stay as
    they were. Then it rewrites the file in that order (VACUUM: about 40 s per million
    assets, with free disk space of about twice the file's size). On PostgreSQL it runs
    CLUSTER, which blocks reads too (about a minute per million assets).
    """
    started = time.perf_counter()
    count = ctx.existing_store.cluster()
    click.echo(f"{count:,} assets put in spatial order in {time.perf_counter() - started:.1f} s")


def _print_reports(reports: list[Any], as_json: bool) -> bool:
    """Print import reports; return True when every file was written."""
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        for r in reports:
            click.echo(r.to_text())
    return all(r.written for r in reports)


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and report the bad ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the validation report as JSON.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@pass_ctx
def import_(ctx: Context, path: Path, skip_bad: bool, as_json: bool, no_progress: bool) -> None:
    """Import assets from a manifest (.toml) or a CSV, GeoJSON, GeoPackage or Shapefile.

    By default a file with any bad row writes nothing; --skip-bad writes its good rows.
    Re-running the same import changes nothing.
    """
    from assetmap.gazetteer.postcodes import PostcodeIndex
    from assetmap.services.importing import run_import

    reports = run_import(
        ctx.store,
        path,
        taxonomy=load_taxonomy(ctx.settings.taxonomy_path),
        postcodes=PostcodeIndex.from_csv(ctx.settings.postcode_path),
        skip_bad=skip_bad,
        author="cli:import",
        progress=not no_progress,
    )
    if not _print_reports(reports, as_json):
        sys.exit(1)


@cli.command()
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@pass_ctx
def demo(ctx: Context, no_progress: bool) -> None:
    """Load the Trafford demo assets (idempotent: a second run changes nothing)."""
    from assetmap.gazetteer.postcodes import PostcodeIndex
    from assetmap.services.importing import load_demo

    reports = load_demo(
        ctx.store,
        taxonomy=load_taxonomy(ctx.settings.taxonomy_path),
        postcodes=PostcodeIndex.from_csv(ctx.settings.postcode_path),
        progress=not no_progress,
    )
    ok = _print_reports(reports, as_json=False)
    total = ctx.store.count_assets(status="published")
    click.echo(f"demo loaded: {total} published assets")
    if not ok:
        sys.exit(1)


@cli.group()
def export() -> None:
    """Export data."""


@export.command("assets")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "geojson", "gpkg"]),
    default="csv",
    show_default=True,
    help="CSV (UTF-8 with a byte-order mark, spreadsheet-safe), GeoJSON (RFC 7946) or"
    " GeoPackage (EPSG:4326).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write.",
)
@click.option("--replace", is_flag=True, help="Overwrite the file if it exists.")
@pass_ctx
def export_assets_cmd(ctx: Context, fmt: str, output: Path, replace: bool) -> None:
    """Export the published assets' public fields (not pending, rejected or archived ones)."""
    from assetmap.services.exporting import export_assets

    count = export_assets(ctx.existing_store, fmt, output, replace=replace)
    click.echo(f"wrote {count} published assets to {output}")


# Control characters in listing text could drive the terminal (escape sequences); line and
# paragraph separators break a row; bidirectional controls (an RLO in a name) would show the
# rest of the row, phone number included, reversed.
_CONTROL_CHARS: dict[int, str] = {
    **dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029], " "),
    **dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], ""),
}


def _cell(value: object, width: int = 40) -> str:
    """One table cell: control characters removed, long text cut."""
    text = str(value).translate(_CONTROL_CHARS)
    return text if len(text) <= width else text[: width - 1] + "…"


def _amount(value: float, places: int) -> str:
    """A number with thousands commas and at most ``places`` decimals: '1,600', '0.5'."""
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _nearby_table(data: dict[str, Any]) -> list[str]:
    """Readable lines for a nearby search result (the API's JSON form)."""
    query, results = data["query"], data["results"]
    if query["radius"] is not None:
        # As the search used it, to the millimetre (a metre radius) or 6 decimals: 12,345.678 m
        places = 3 if query["unit"] == "m" else 6
        radius = f"{_amount(query['radius'], places)} {query['unit']}"
    elif query["radius_m"] == 1609.344:  # the default
        radius = "1 mi"
    else:
        radius = f"{_amount(query['radius_m'], 3)} m"
    first = query["offset"] + 1
    paged = results and (first > 1 or len(results) < data["total"])
    shown = f", showing {first}–{first + len(results) - 1}" if paged else ""
    noun = "result" if data["total"] == 1 else "results"
    # With --open-on the total counts only the places open then, so the heading says so.
    open_on = f" open on {query['open_on']}" if query["open_on"] else ""
    lines = [f"{data['total']} {noun}{open_on} within {radius} of {data['origin']['label']}{shown}"]

    def rows(items: list[dict[str, Any]]) -> list[str]:
        head = ("#", "Distance", "Walk*", "Name", "Category", "Postcode", "Phone", "Verified")
        body = [
            (
                str(first + i),
                f"{r['distance_m']:,.0f} m / {r['distance_miles']:.2f} mi",
                f"{r['walking_minutes']} min",
                _cell(r["name"]),
                _cell(r["category_label"], 24),
                _cell(r["postcode"], 8),
                _cell(r["phone"], 16),
                (r["last_verified"] or "never") + (" (stale)" if r["stale"] else ""),
            )
            for i, r in enumerate(items)
        ]
        widths = [max(len(row[c]) for row in [head, *body]) for c in range(len(head))]
        return [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in [head, *body]
        ]

    def skipped(total: int) -> str:
        # An --offset past the last result: say so, rather than a count and nothing under it.
        return f"None shown: --offset {query['offset']} skips all {total}."

    if results:
        lines += ["", *rows(results)]
    elif data["total"]:
        lines += ["", skipped(data["total"])]
    unknown, unknown_total = data["hours_unknown"], data["hours_unknown_total"]
    if unknown_total:
        paged = unknown and (first > 1 or len(unknown) < unknown_total)
        shown = f", showing {first}–{first + len(unknown) - 1}" if paged else ""
        lines += ["", f"Opening hours unknown ({unknown_total}{shown}):"]
        lines += rows(unknown) if unknown else [skipped(unknown_total)]
    if results or data["hours_unknown"]:
        lines += ["", "* walking time along a straight line at 4.8 km/h; real routes are longer"]
    return lines


def _option_wording() -> Wording:
    """The nearby query parser's messages in the terms of ``assetmap nearby``'s options."""
    from assetmap.analysis.nearby import Wording

    # Each option is its query parameter's name as typed (open_on is --open-on).
    names = {p.name: p.opts[0] for p in nearby.params if isinstance(p, click.Option) and p.name}
    # The command sends --radius without --unit as metres, as radius_m is in the API.
    names["radius_m"] = "--radius"
    return Wording(
        names=names,
        kind="option",
        byte="0x{:02X}",  # a command line has no URL escapes (%E9)
        location_both="give either --postcode or --lat and --lon, not both",
        location_missing=(
            "say where to search: give --postcode (a postcode like M32 0TH, a sector like"
            " M32 0 or a district like M32), or --lat and --lon"
        ),
        point_half="{missing} is missing: give both --lat and --lon, or --postcode",
        radius_both="give --radius once, in metres or with --unit",
        unit_alone=(
            "--unit needs --radius: give both, e.g. --radius 1 --unit mi"
            " (without --unit, --radius is in metres)"
        ),
        radius_alone="--radius {radius} needs --unit: add --unit mi, km or m",
        postcode_refused="{name}: {message}",  # "--postcode: 'ZZ99 9ZZ' is not a UK postcode"
    )


@cli.command()
@click.option("--postcode", help="Search from a postcode, sector (M33 7) or district (M33).")
@click.option("--lat", help="Latitude (WGS84 degrees), with --lon, instead of --postcode.")
@click.option("--lon", help="Longitude (WGS84 degrees), with --lat.")
@click.option("--radius", help="Search radius in --unit (default 1 mile; at most 50 km).")
@click.option("--unit", help="Unit of --radius: m (default), km or mi.")
@click.option("--category", multiple=True, help="Category id; repeat for several (any).")
@click.option("--q", help="Words that must start words of the name or description.")
@click.option("--cost", multiple=True, help="free, personal_budget or time_credits (any).")
@click.option("--access", multiple=True, help="Accessibility feature id; repeat (all needed).")
@click.option("--audience", help="Audience id, e.g. older_people.")
@click.option("--open-on", help="Open at a weekday and 24-hour time, e.g. 'mon 14:00'.")
@click.option("--limit", help="Results to show (default 50, at most 500).")
@click.option("--offset", help="Results to skip (default 0).")
@click.option("--format", "fmt", default="table", help="table (default) or json.")
@pass_ctx
def nearby(
    ctx: Context,
    /,
    fmt: str,
    radius: str | None,
    unit: str | None,
    category: tuple[str, ...],
    cost: tuple[str, ...],
    access: tuple[str, ...],
    **single: str | None,
) -> None:
    """Find published assets near a postcode or point, nearest first."""
    from datetime import date

    from assetmap.analysis.nearby import parse_nearby_query, search_nearby
    from assetmap.gazetteer.postcodes import (
        PostcodeIndex,
        default_postcode_path,
        load_default_index,
    )

    if fmt not in {"table", "json"}:
        raise ValidationError(f"--format {fmt!r} is not one of: table, json")
    params: dict[str, str | list[str]] = {k: v for k, v in single.items() if v is not None}
    params.update(category=list(category), cost=list(cost), access=list(access))
    if radius is not None and radius.strip():
        params.update(radius=radius, unit=unit or "m")
    elif unit is not None:
        params["unit"] = unit  # for the parser to refuse: --unit needs --radius
    taxonomy = load_taxonomy(ctx.settings.taxonomy_path)
    path = ctx.settings.postcode_path
    shipped = path.resolve() == default_postcode_path().resolve()
    postcodes = load_default_index() if shipped else PostcodeIndex.from_csv(path)
    try:
        query = parse_nearby_query(
            params, taxonomy=taxonomy, postcodes=postcodes, wording=_option_wording()
        )
    except ValidationError as err:
        # Without its field, which is the API's parameter name: the message names the option.
        raise ValidationError(err.message) from None
    result = search_nearby(
        ctx.existing_store,
        query,
        taxonomy=taxonomy,
        today=date.today(),
        stale_after_days=ctx.settings.stale_after_days,
    ).to_dict()
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(_nearby_table(result)))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option("--debug", is_flag=True, help="Reload on code changes; show tracebacks.")
@click.option(
    "--production",
    is_flag=True,
    help="Run under gunicorn with workers derived from the CPU count (2 x cores + 1).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="With --production: worker processes.",
)
@pass_ctx
def serve(
    ctx: Context, host: str, port: int, debug: bool, production: bool, workers: int | None
) -> None:
    """Serve the web app (development server, or gunicorn with --production)."""
    # Each only changes one of the two servers: given to the other, it would be ignored.
    if workers is not None and not production:
        raise click.UsageError("--workers is for --production (gunicorn) only.")
    if debug and production:
        raise click.UsageError("--debug is for the development server, not --production.")
    # The store brought up to date, and the database reached, before anything listens: an
    # unreachable database or a store that cannot be upgraded is one line and exit status 2,
    # not a server that starts and answers 503 to everyone. A SQLite file that is not there
    # is refused too: a mistyped --db served a new, empty store as if all were well.
    ctx.existing_store.migrate()
    ctx.close()  # the app opens its own connections (each gunicorn worker its own)
    if production:
        from assetmap.web.production import run_gunicorn

        run_gunicorn(ctx.settings, host=host, port=port, workers=workers)
        return
    from assetmap.web import create_app

    settings = ctx.settings
    if "ASSETMAP_SECURE_COOKIES" not in os.environ:
        # The development server speaks plain http, over which a browser never sends a
        # Secure cookie back: staff could not stay signed in (and forms would fail CSRF).
        settings = replace(settings, secure_cookies=False)
    # The app opens its own store: a server searches often, so it holds the points in memory.
    app = create_app(settings)
    app.run(host=host, port=port, debug=debug, threaded=True)


@cli.group()
def users() -> None:
    """Manage staff accounts (moderator, commissioner, admin)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _areas_text(codes: tuple[str, ...]) -> str:
    if not codes:  # no need to read the boundaries file (most of a second) to say so
        return "no areas"
    from assetmap.gazetteer.areas import load_default_areas

    known = load_default_areas().areas
    return ", ".join(known[c].label if c in known else c for c in codes)


def _check_areas(codes: tuple[str, ...]) -> tuple[str, ...]:
    from assetmap.gazetteer.areas import load_default_areas

    return load_default_areas().check_codes(codes)


def _areas_note(user: User) -> None:
    """Say when an account's areas change nothing, or leave it seeing no resident's details."""
    if user.role == "moderator" and not user.areas:
        click.echo(
            f"note: {user.username} has no areas, so sees no resident's name or email;"
            " give them some with: assetmap users set-areas"
            f" {user.username} CODE...",
            err=True,
        )
    elif user.role != "moderator" and user.areas:
        what = "sees every area" if user.role == "admin" else "does not moderate"
        click.echo(
            f"note: {user.username} is {user.role}, so {what}: areas apply to moderators", err=True
        )


@users.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["moderator", "commissioner", "admin"]),
    required=True,
    help="What the account may do.",
)
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option(
    "--area",
    "areas",
    multiple=True,
    metavar="CODE",
    help="Local authority district code (E08000009 = Trafford) whose submissions a moderator"
    " looks after: they see those residents' names and emails. Repeat for several.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def users_add(
    ctx: Context,
    username: str,
    role: str,
    display_name: str,
    areas: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Add a staff account; the password is hashed with argon2id."""
    from assetmap.services.accounts import hash_password

    codes = _check_areas(areas)  # before the password prompt: a typo costs nothing
    password_hash = hash_password(_read_password(password_stdin))
    user = ctx.store.create_user(
        username, role=role, password_hash=password_hash, display_name=display_name, areas=codes
    )
    shown = f", areas: {_areas_text(user.areas)}" if user.areas else ""
    click.echo(f"added {user.username} ({user.role}){shown}")
    _areas_note(user)


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def users_set_password(ctx: Context, username: str, password_stdin: bool) -> None:
    """Change a password; the user's sessions end."""
    from assetmap.services.accounts import hash_password

    ctx.existing_store.set_password(username, hash_password(_read_password(password_stdin)))
    click.echo(f"password changed for {username}; their sessions have ended")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(["moderator", "commissioner", "admin"]))
@pass_ctx
def users_set_role(ctx: Context, username: str, role: str) -> None:
    """Change a role; the user's sessions end."""
    ctx.existing_store.set_role(username, role)
    click.echo(f"{username} is now {role}; their sessions have ended")


@users.command("set-areas")
@click.argument("username")
@click.argument("codes", nargs=-1, metavar="[CODE]...")
@pass_ctx
def users_set_areas(ctx: Context, username: str, codes: tuple[str, ...]) -> None:
    """Set the district codes a moderator looks after (none: clear them)."""
    user = ctx.existing_store.set_areas(username, _check_areas(codes))
    click.echo(f"{user.username} now looks after {_areas_text(user.areas)}")
    _areas_note(user)


@users.command("disable")
@click.argument("username")
@pass_ctx
def users_disable(ctx: Context, username: str) -> None:
    """Switch an account off (someone left); their sessions end. Nothing is deleted."""
    _set_active(ctx, username, False)


@users.command("enable")
@click.argument("username")
@pass_ctx
def users_enable(ctx: Context, username: str) -> None:
    """Switch a disabled account back on. They sign in with the same password."""
    _set_active(ctx, username, True)


def _set_active(ctx: Context, username: str, active: bool) -> None:
    user, changed = ctx.existing_store.set_active(username, active)
    state = "enabled" if active else "disabled"
    if not changed:
        click.echo(f"{user.username} is already {state}; nothing changed")
    else:
        then = "they can sign in again" if active else "their sessions have ended"
        click.echo(f"{user.username} is {state}; {then}")


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List staff accounts: username, role, name, areas. Disabled ones say so."""
    for user in ctx.existing_store.list_users():
        state = "" if user.active else " (disabled)"
        areas = "all areas" if user.role == "admin" else _areas_text(user.areas)
        click.echo(f"{user.username}\t{user.role}\t{user.display_name}{state}\t{areas}")


@cli.command("set-status")
@click.argument("asset_id")
@click.argument("status", type=click.Choice(["archived", "published"]))
@click.option(
    "--reason",
    required=True,
    help="Why, for the asset's history (e.g. 'closed in March 2026', 'duplicate of a1b2').",
)
@pass_ctx
def set_status(ctx: Context, asset_id: str, status: str, reason: str) -> None:
    """Archive a published asset (off the map and searches, history kept) or publish it again.

    A new revision records the change, the reason and the author 'cli:set-status'; nothing is
    deleted. Assets awaiting moderation are decided in the moderation queue instead.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError("say why, for the asset's history", field="reason")
    store = ctx.existing_store
    asset = store.get_asset(asset_id)
    if asset.status == status:
        click.echo(f"{asset.id} {asset.name!r} is already {status}: nothing changed")
        return
    if asset.status in {"pending", "rejected"}:
        raise ValidationError(
            f"{asset.id} {asset.name!r} is {asset.status}: it came from a resident's submission,"
            " which is decided in the moderation queue",
            field="asset_id",
        )
    changed = store.set_status(
        asset.id,
        status,
        author="cli:set-status",
        reason=reason,
        expected_revision=asset.revision,
    )
    click.echo(f"{changed.id} {changed.name!r} is now {status} (revision {changed.revision})")


@cli.command("forget-submitters")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Keep details this many days after the decision (default 365, as the form promises).",
)
@pass_ctx
def forget_submitters_command(ctx: Context, days: int | None) -> None:
    """Delete submitters' names, emails and address hashes once a decision is old enough."""
    from assetmap.services.submitting import SUBMITTER_DETAILS_KEPT_DAYS, forget_submitters

    keep = SUBMITTER_DETAILS_KEPT_DAYS if days is None else days
    cleared = forget_submitters(ctx.existing_store, keep_days=keep)
    noun = "submission" if cleared == 1 else "submissions"
    click.echo(f"cleared submitter details from {cleared} {noun} decided over {keep} days ago")


def _store_to_copy(url: str, option: str) -> Store:
    """Open one side of migrate-store, its errors naming --from or --to instead of --db."""
    try:
        # One pass over each table: not worth loading every point into memory.
        return open_store(url, points_in_memory=False, named_by=f"--{option}")
    except ValidationError as err:
        if err.field != "database_url":
            raise
        raise ValidationError(err.message, field=option) from None


@cli.command("migrate-store")
@click.option("--from", "source_url", required=True, help="Source store URL.")
@click.option("--to", "target_url", required=True, help="Target store URL (must be empty).")
def migrate_store(source_url: str, target_url: str) -> None:
    """Copy a whole store, history included, to another (e.g. SQLite to PostGIS) and verify."""
    from assetmap.store.copying import copy_store

    missing = _missing_sqlite_store(source_url)
    if missing is not None:
        # Opening it would make an empty store, and copying that "verifies" perfectly.
        raise AssetmapError(f"there is no store at {missing} to copy from: check --from")
    source = _store_to_copy(source_url, "from")
    try:
        target = _store_to_copy(target_url, "to")
    except BaseException:
        source.close()
        raise
    try:
        checks = copy_store(source, target)
    finally:
        source.close()
        target.close()
    for c in checks:
        mark = "ok" if c.ok else "MISMATCH"
        click.echo(f"{c.table:<18} {c.source_rows:>9} -> {c.target_rows:>9}  sha256 {mark}")
    if not all(c.ok for c in checks):
        click.echo(
            "not copied: the tables marked MISMATCH read back from the target differently"
            " from the source, so the copy was undone and the target is as it was; the"
            " source is unchanged. A value the target stores otherwise is the likely cause.",
            err=True,
        )
        sys.exit(1)
    click.echo("copied and verified: row counts and checksums match")


@cli.group()
def jsaa() -> None:
    """Joint Strategic Assets Assessment: community assets set against needs, per area."""


def _jsaa_with_progress(
    ctx: Context, config: Path, no_progress: bool, write: Any, *, check: Any = None
) -> tuple[Any, Any]:
    """Load a config, ``check(cfg)``, run it with a progress bar, ``write(result, on_step)``."""
    from tqdm import tqdm

    from assetmap.analysis.jsaa import WRITE_STEPS, load_config, run_jsaa, run_steps
    from assetmap.maps.report import site_steps

    taxonomy = load_taxonomy(ctx.settings.taxonomy_path)
    cfg = load_config(config, taxonomy)
    if check is not None:
        check(cfg)
    total = len(run_steps(cfg)) + len(WRITE_STEPS) + len(site_steps(cfg))
    with tqdm(total=total, desc="jsaa", unit="step", disable=no_progress) as bar:

        def on_step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update()

        result = run_jsaa(cfg, ctx.existing_store, taxonomy=taxonomy, on_step=on_step)
        written = write(result, taxonomy, on_step)
    totals = result.summary["totals"]
    for issue in result.report.of_level("warning"):
        click.echo(str(issue))
    click.echo(
        f"{cfg.title}: {totals['areas']} areas, {totals['assets']} assets, "
        f"{totals['priority_areas']} priority areas (config sha256 {cfg.sha256[:12]})"
    )
    return result, written


@jsaa.command("run")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the per-area table (CSV, GeoPackage), summary, provenance, maps, "
    "charts, report.html and index.html; written beside and swapped in whole, replacing an "
    "earlier run there (a folder holding any other file is refused).",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@pass_ctx
def jsaa_run(ctx: Context, config: Path, out_dir: Path, no_progress: bool) -> None:
    """Run the assessment a config (TOML) describes: table, maps, charts and report."""
    from assetmap.maps.jsaa_output import check_output_dir, write_output_dir
    from assetmap.maps.report import default_vendor_dir

    check_output_dir(out_dir)  # before the run, not after it

    def write(result: Any, taxonomy: Any, on_step: Any) -> Any:
        return write_output_dir(
            result, out_dir, taxonomy=taxonomy, vendor_dir=default_vendor_dir(), on_step=on_step
        )

    _result, written = _jsaa_with_progress(ctx, config, no_progress, write)
    for name in ("areas.csv", "areas.gpkg", "summary.json", "provenance.json", "report.html"):
        click.echo(f"wrote {out_dir / name}")
    click.echo(f"wrote {len(written)} files in all; start at {out_dir / 'index.html'}")


def _release_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Check --date before the assessment runs: a usage error (exit 2) naming the option."""
    from assetmap.maps.publish import check_date

    if value is None:
        return None
    try:
        return check_date(value)
    except ValidationError as err:
        raise click.BadParameter(err.message) from err


@jsaa.command("publish")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--slug", help="Folder under maps/ (default: the config's assessment.slug).")
@click.option(
    "--date",
    "on",
    callback=_release_date,
    help="Release date, YYYY-MM-DD (default: today). Not later than tomorrow (a release is "
    "dated the day it is published; a day's grace for time zones), nor before 2008-04-01, "
    "when Joint Strategic Needs Assessments began.",
)
@click.option("--replace", is_flag=True, help="Replace a release already published that day.")
@click.option(
    "--maps-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The published maps folder (default: maps/ in the repository, served at /maps/).",
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@pass_ctx
def jsaa_publish(
    ctx: Context,
    config: Path,
    slug: str | None,
    on: str | None,
    replace: bool,
    maps_dir: Path | None,
    no_progress: bool,
) -> None:
    """Run an assessment and publish it as the static release maps/<slug>/<YYYY-MM-DD>/."""
    from assetmap.maps.publish import check_release, publish_release
    from assetmap.maps.report import default_vendor_dir

    root = maps_dir or ctx.settings.maps_path

    def check(cfg: Any) -> None:
        # Before the run, which takes minutes for a large area, not after it.
        check_release(root, slug or cfg.slug, on, replace=replace)

    def write(result: Any, taxonomy: Any, on_step: Any) -> Any:
        return publish_release(
            result,
            root,
            taxonomy=taxonomy,
            vendor_dir=default_vendor_dir(),
            slug=slug,
            on=on,
            replace=replace,
            on_step=on_step,
        )

    _result, release = _jsaa_with_progress(ctx, config, no_progress, write, check=check)
    click.echo(f"published {release.path} (listed in {root / 'index.html'})")


def _database_lost(err: Exception) -> bool:
    """Whether ``err`` is PostgreSQL's driver losing its server (psycopg is imported lazily)."""
    if not type(err).__module__.startswith("psycopg"):
        return False
    import psycopg

    return isinstance(err, psycopg.OperationalError)


def main() -> None:
    """Entry point: turn AssetmapError into a one-line message and exit status 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except AssetmapError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    except SystemExit:
        raise
    except Exception as err:
        if not _database_lost(err):
            raise
        # The connection failed after the store opened (server restarted, network gone):
        # the transaction in progress was rolled back, so nothing of it is half-written.
        reason = " ".join(str(err).split()) or type(err).__name__
        click.echo(
            f"error: the database connection failed during the command ({reason}); anything"
            " it was writing was not saved: check the database is up, then run it again",
            err=True,
        )
        sys.exit(2)
