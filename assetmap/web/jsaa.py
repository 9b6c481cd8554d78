"""Commissioner pages: set up a Joint Strategic Assets Assessment, run it, see the results.

1. ``/jsaa/new``: a title, the areas (a shipped local authority or an uploaded boundary
   layer) and an optional indicator table. Uploads are checked, then kept in the instance
   folder under their SHA-256.
2. ``/jsaa/new/configure``: columns, indicators and their metadata, population, categories,
   scope and catchment. Posting it composes a config, checks it and every needs layer, and
   only then saves the config beside its inputs and starts a background job. Any problem is
   shown on the form, and nothing is saved.
3. ``/jsaa/jobs/<id>``: progress (the page polls a JSON endpoint; without JavaScript, reload
   it), then the report, maps and downloads.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import FileStorage

from assetmap.analysis.jsaa import WRITE_STEPS, ConfigError, load_config, run_jsaa, run_steps
from assetmap.analysis.jsaa.run import load_needs
from assetmap.analysis.jsaa.workspace import (
    BOUNDARY_SUFFIXES,
    TABLE_SUFFIXES,
    Authority,
    BoundaryInfo,
    Catalogue,
    Choices,
    IndicatorChoice,
    StoredFile,
    TableInfo,
    UploadedAreas,
    UploadedTable,
    adopt_file,
    compose_config,
    discard_draft,
    dumps_toml,
    inspect_boundaries,
    inspect_table,
    keep_draft,
    load_catalogue,
    new_draft,
    stage_path,
    stored_file,
    write_config_draft,
)
from assetmap.analysis.needs import NeedsLayerError, number_text
from assetmap.domain.errors import NotFound, ValidationError
from assetmap.domain.job import Job
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.report import default_vendor_dir, site_steps, write_site
from assetmap.store import Store
from assetmap.web.app import current_store, size_in_mib, state
from assetmap.web.auth import current_user, login_required
from assetmap.web.jobs import JobRunner
from assetmap.web.published import send_static

bp = Blueprint("jsaa", __name__, url_prefix="/jsaa")

JOB_KIND = "jsaa"
# Boundary layers and indicator tables may be bigger than the app's usual request limit.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_TITLE_CHARS = 120
# A running job's heartbeat is older than this: its process has gone (shown as failed).
DEFAULT_STALE_AFTER_S = 300
_ISSUES_SHOWN = 8


def init_app(app: Flask) -> None:
    """Register the pages and this process's job runner."""
    app.config.setdefault("JSAA_JOB_STALE_AFTER_S", DEFAULT_STALE_AFTER_S)
    app.config.setdefault("JSAA_VENDOR_DIR", str(default_vendor_dir()))
    app.extensions["assetmap_jobs"] = JobRunner(app.extensions["assetmap"].store)
    app.register_blueprint(bp)


def job_runner() -> JobRunner:
    """The running app's job runner."""
    runner: JobRunner = current_app.extensions["assetmap_jobs"]
    return runner


def _workspace() -> Path:
    return state().settings.instance_path / "jsaa"


def files_dir() -> Path:
    """Uploaded and copied inputs, and composed configs, each named by its SHA-256."""
    return _workspace() / "files"


def runs_dir() -> Path:
    """One folder of outputs per job."""
    return _workspace() / "runs"


@lru_cache(maxsize=4)
def _catalogue_at(path: Path) -> Catalogue:
    return load_catalogue(path)


def catalogue() -> Catalogue:
    """The shipped needs layers (data/jsaa/catalogue.toml)."""
    return _catalogue_at(state().settings.data_path / "jsaa" / "catalogue.toml")


@bp.url_value_preprocessor
def _allow_large_uploads(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # URL value preprocessors run before every before_request hook, the app's CSRF check
    # included, which reads the form: the larger limit must be set before that.
    if endpoint == "jsaa.new" and request.method == "POST":
        request.max_content_length = MAX_UPLOAD_BYTES


def _author() -> str:
    user = current_user()
    return user.author if user is not None else "unknown"


# -- step 1: title, areas, uploads ------------------------------------------------------


def _stage_upload(upload: FileStorage, allowed: Mapping[str, str], staged: list[Path]) -> Path:
    name = upload.filename or ""
    lower = name.lower()
    if not any(lower.endswith(s) for s in allowed):
        kinds = ", ".join(f"{v} ({k})" for k, v in allowed.items())
        raise ValidationError(f"'{name}' is not a file type this accepts: {kinds}")
    path = stage_path(files_dir(), name)
    staged.append(path)
    upload.save(path)
    if path.stat().st_size == 0:
        raise ValidationError(f"'{name}' is empty")
    return path


def _render_new(values: Mapping[str, str], errors: Mapping[str, str], status: int = 200) -> Any:
    return (
        render_template(
            "jsaa/new.html",
            values=values,
            errors=errors,
            authority_options=[("", "Choose a local authority")]
            + [(a.code, a.name) for a in catalogue().authorities],
            boundary_types=BOUNDARY_SUFFIXES,
            max_upload=size_in_mib(MAX_UPLOAD_BYTES),
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required("commissioner")
def new() -> Any:
    """Start an assessment: title, areas and uploads."""
    if request.method == "GET":
        return _render_new({"title": "", "areas_source": "shipped", "authority": ""}, {})
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("title", "areas_source", "authority")}
    errors: dict[str, str] = {}
    if not values["title"]:
        errors["title"] = "Enter a title for the assessment"
    elif len(values["title"]) > MAX_TITLE_CHARS:
        errors["title"] = f"The title must be {MAX_TITLE_CHARS} characters or fewer"
    source = values["areas_source"]
    if source not in ("shipped", "upload"):
        errors["areas_source"] = "Choose where the areas come from"
    elif source == "shipped":
        try:
            catalogue().authority(values["authority"])
        except ValidationError:
            errors["authority"] = "Choose a local authority"
    staged: list[Path] = []
    boundary: Path | None = None
    table: Path | None = None
    try:
        upload = request.files.get("boundary_file")
        if source == "upload":
            if upload is None or not upload.filename:
                errors["boundary_file"] = "Choose a boundary layer file to upload"
            else:
                try:
                    boundary = _stage_upload(upload, BOUNDARY_SUFFIXES, staged)
                    inspect_boundaries(boundary)
                except ValidationError as err:
                    errors["boundary_file"] = f"The boundary layer: {err.message}"
        upload = request.files.get("table_file")
        if upload is not None and upload.filename:
            try:
                table = _stage_upload(upload, TABLE_SUFFIXES, staged)
                inspect_table(table)
            except ValidationError as err:
                errors["table_file"] = f"The indicator table: {err.message}"
        if errors:
            return _render_new(values, errors, 400)
        query = {"title": values["title"]}
        if boundary is not None:
            kept = adopt_file(boundary, files_dir())
            query.update(boundary=kept.name, bname=request.files["boundary_file"].filename or "")
        else:
            query["authority"] = values["authority"]
        if table is not None:
            kept = adopt_file(table, files_dir())
            query.update(table=kept.name, tname=request.files["table_file"].filename or "")
        return redirect(f"{url_for('jsaa.configure')}?{urlencode(query)}", 303)
    finally:
        for path in staged:
            path.unlink(missing_ok=True)


# -- step 2: columns, indicators, categories; run ---------------------------------------


@dataclass
class Setup:
    """What step 1 chose, carried to step 2 in the address and hidden fields."""

    title: str
    authority: Authority | None = None
    boundary: StoredFile | None = None
    boundary_info: BoundaryInfo | None = None
    boundary_name: str = ""
    table: StoredFile | None = None
    table_info: TableInfo | None = None
    table_name: str = ""
    hidden: dict[str, str] = field(default_factory=dict)


def _setup(args: Mapping[str, str]) -> Setup:
    """Read (and check again) the choices of step 1; any problem sends the user back."""
    title = args.get("title", "").strip()[:MAX_TITLE_CHARS]
    if not title:
        raise ValidationError("The assessment has no title: start again from the first page.")
    setup = Setup(title=title, hidden={"title": title})
    if args.get("boundary"):
        setup.boundary = stored_file(files_dir(), args["boundary"])
        setup.boundary_info = inspect_boundaries(setup.boundary.path)
        setup.boundary_name = args.get("bname", "")[:200]
        setup.hidden.update(boundary=setup.boundary.name, bname=setup.boundary_name)
    else:
        setup.authority = catalogue().authority(args.get("authority", ""))
        setup.hidden["authority"] = setup.authority.code
    if args.get("table"):
        setup.table = stored_file(files_dir(), args["table"])
        setup.table_info = inspect_table(setup.table.path)
        setup.table_name = args.get("tname", "")[:200]
        setup.hidden.update(table=setup.table.name, tname=setup.table_name)
    return setup


def _need_indicators() -> list[dict[str, Any]]:
    out = []
    for table in catalogue().need_tables():
        for ind in table["indicator"]:
            out.append(
                {
                    "name": ind["name"],
                    "label": ind["label"],
                    "unit": ind.get("unit", ""),
                    "weight": ind.get("default_need_weight", 0),
                    "table": table["id"],
                }
            )
    return out


def _defaults(setup: Setup, taxonomy: Taxonomy) -> dict[str, Any]:
    inds = _need_indicators()
    values: dict[str, Any] = {
        "indicator": [i["name"] for i in inds if i["weight"] or i["name"] == "imd_decile"],
        "category": [c.id for c in taxonomy],
        "scope": "national" if setup.authority is not None else "local",
        "catchment_m": "1600",
        "population": "",
        "code_column": "",
        "name_column": "",
        "areas_source_text": "",
        "areas_licence": "",
        "table_code_column": "",
        "population_column": "",
        "table_national": "",
        "table_source": "",
        "table_licence": "",
        "table_date": "",
    }
    for ind in inds:
        values[f"weight-{ind['name']}"] = f"{ind['weight']:g}"
    pops = catalogue().population_tables(setup.authority.code if setup.authority else None)
    if pops:
        # The most local (an authority's own) population table first, then England-wide.
        pops = sorted(pops, key=lambda t: t.get("authorities") is None)
        values["population"] = f"table:{pops[0]['id']}"
    elif setup.table is not None:
        values["population"] = "upload"
    if setup.boundary_info is not None:
        cols = setup.boundary_info.columns
        values["code_column"] = next((c for c in cols if "cd" in c.lower()), cols[0])
        values["name_column"] = next((c for c in cols if "nm" in c.lower()), cols[0])
        values["areas_source_text"] = f"Uploaded boundary layer ({setup.boundary_name})"
    if setup.table_info is not None:
        cols = setup.table_info.columns
        values["table_code_column"] = next(
            (c for c in cols if c not in setup.table_info.numeric), cols[0]
        )
        values["table_source"] = f"Uploaded table ({setup.table_name})"
        for i, column in enumerate(setup.table_info.numeric):
            values[f"label-{i}"] = column
            values[f"unit-{i}"] = ""
            values[f"more-{i}"] = "higher"
            values[f"uweight-{i}"] = "0"
    return values


def _render_configure(
    setup: Setup, values: Mapping[str, Any], errors: Mapping[str, str], status: int = 200
) -> Any:
    taxonomy = state().taxonomy
    pops = catalogue().population_tables(setup.authority.code if setup.authority else None)
    population_options = [
        (f"table:{t['id']}", f"{t['indicator'][0]['label']}: {t['source']}") for t in pops
    ]
    if setup.table is not None:
        population_options.append(("upload", "A column of the uploaded table"))
    return (
        render_template(
            "jsaa/configure.html",
            setup=setup,
            values=values,
            errors=errors,
            indicators=_need_indicators(),
            population_options=population_options,
            categories=[(c.id, c.label) for c in taxonomy],
            column_options=lambda columns: [(c, c) for c in columns],
        ),
        status,
    )


@bp.get("/new/configure")
@login_required("commissioner")
def configure() -> Any:
    """Choose columns, indicators, categories, scope and catchment."""
    setup = _setup(request.args)
    return _render_configure(setup, _defaults(setup, state().taxonomy), {})


def _number(
    values: Mapping[str, Any], name: str, errors: dict[str, str], what: str, low: float, high: float
) -> float:
    text = str(values.get(name, "")).strip()
    try:
        number = float(text)
    except ValueError:
        errors[name] = f"{what} must be a number"
        return 0.0
    if not low <= number <= high:
        errors[name] = f"{what} must be between {number_text(low)} and {number_text(high)}"
    return number


def _choices(setup: Setup, values: dict[str, Any], errors: dict[str, str]) -> Choices | None:
    """Turn the posted form into Choices, recording each problem against its field."""
    taxonomy = state().taxonomy
    inds = {i["name"]: i for i in _need_indicators()}
    chosen = [n for n in values["indicator"] if n in inds]
    shipped = {
        n: _number(values, f"weight-{n}", errors, f"The need weight of {inds[n]['label']}", 0, 100)
        for n in chosen
    }
    categories = [c for c in values["category"] if c in taxonomy]
    if not categories:
        errors["category"] = "Choose at least one category of assets"
    scope = values["scope"]
    if scope not in ("national", "local"):
        errors["scope"] = "Choose how need is ranked"
    catchment = _number(values, "catchment_m", errors, "The catchment", 100, 20_000)
    areas = None
    if setup.boundary is not None and setup.boundary_info is not None:
        cols = setup.boundary_info.columns
        for key, what in (("code_column", "code"), ("name_column", "name")):
            if values[key] not in cols:
                errors[key] = f"Choose the column that holds each area's {what}"
        areas = UploadedAreas(
            setup.boundary,
            values["code_column"],
            values["name_column"],
            source=values["areas_source_text"]
            or f"Uploaded boundary layer ({setup.boundary_name})",
            licence=values["areas_licence"],
        )
    population = values["population"]
    population_table = None
    table = None
    if population.startswith("table:"):
        population_table = population.removeprefix("table:")
        ids = [
            t["id"]
            for t in catalogue().population_tables(
                setup.authority.code if setup.authority else None
            )
        ]
        if population_table not in ids:
            errors["population"] = "Choose where the population comes from"
    elif population != "upload" or setup.table is None:
        errors["population"] = "Choose where the population comes from"
    if setup.table is not None and setup.table_info is not None:
        info = setup.table_info
        if values["table_code_column"] not in info.columns:
            errors["table_code_column"] = "Choose the column that holds each row's area code"
        pop_column = None
        if population == "upload":
            pop_column = values["population_column"]
            if pop_column not in info.numeric:
                errors["population_column"] = "Choose the column that holds the population"
        picked = []
        for i, column in enumerate(info.numeric):
            if values.get(f"use-{i}") != "yes":
                continue
            weight = _number(values, f"uweight-{i}", errors, f"The need weight of {column}", 0, 100)
            picked.append(
                IndicatorChoice(
                    column=column,
                    label=str(values.get(f"label-{i}", "")).strip()[:120] or column,
                    unit=str(values.get(f"unit-{i}", "")).strip()[:80],
                    higher_is_more_need=values.get(f"more-{i}") != "lower",
                    need_weight=weight,
                )
            )
        table = UploadedTable(
            setup.table,
            values["table_code_column"],
            tuple(picked),
            population_column=pop_column,
            national=values["table_national"] == "yes",
            source=values["table_source"] or f"Uploaded table ({setup.table_name})",
            licence=values["table_licence"],
            date=values["table_date"],
        )
    weights = list(shipped.values()) + [c.need_weight for c in (table.indicators if table else ())]
    if not errors and not any(w > 0 for w in weights):
        errors["indicator"] = "Give at least one indicator a need weight above 0"
    if (
        scope == "national"
        and table is not None
        and not table.national
        and any(c.need_weight > 0 for c in table.indicators)
    ):
        # Ranking need against England needs England-wide values of every weighted indicator.
        errors["scope"] = (
            "Need cannot be ranked against all of England with indicators from your table, "
            "which does not cover every area of England: rank need against these areas only, "
            "give your table's indicators a need weight of 0, or, if the table does cover "
            "every area of England, say so"
        )
    if errors:
        return None
    return Choices(
        title=setup.title,
        categories=tuple(categories),
        authority=setup.authority.code if setup.authority else None,
        areas=areas,
        shipped=shipped,
        population_table=population_table,
        table=table,
        scope=scope,
        catchment_m=catchment,
    )


_CONFIG_FIELDS = {
    "weights": "indicator",
    "population": "population",
    "assessment.scope": "scope",
    "assessment.catchment_m": "catchment_m",
    "categories": "category",
    "areas": "code_column",
}


def _config_field(key: str | None, setup: Setup) -> str:
    key = key or ""
    for prefix, name in _CONFIG_FIELDS.items():
        if key.startswith(prefix):
            return name if setup.boundary is not None or name != "code_column" else "config"
    return "config"


def _issues_text(err: NeedsLayerError, setup: Setup) -> str:
    issues = err.report.errors
    # Files are kept under their SHA-256: an upload is named as the user knows it, and a
    # shipped file not at all (its layer, such as table:imd2019, says which it is).
    names = {
        stored.name: shown
        for stored, shown in (
            (setup.table, setup.table_name),
            (setup.boundary, setup.boundary_name),
        )
        if stored is not None and shown
    }
    shown = "; ".join(i.text(names) for i in issues[:_ISSUES_SHOWN])
    more = f"; and {len(issues) - _ISSUES_SHOWN:,} more" if len(issues) > _ISSUES_SHOWN else ""
    return f"The data do not fit together: {shown}{more}"


def _issue_field(err: NeedsLayerError, setup: Setup) -> str:
    layer = err.report.errors[0].layer
    if layer == "areas":
        return "code_column" if setup.boundary is not None else "config"
    if layer == "table:uploaded":
        return "table_code_column"
    return "indicator"


def _posted_values(setup: Setup) -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {k: v.strip() for k, v in form.items() if k != "csrf_token"}
    values["indicator"] = form.getlist("indicator")
    values["category"] = form.getlist("category")
    for key in (
        "scope",
        "population",
        "catchment_m",
        "code_column",
        "name_column",
        "areas_source_text",
        "areas_licence",
        "table_code_column",
        "population_column",
        "table_national",
        "table_source",
        "table_licence",
        "table_date",
    ):
        values.setdefault(key, "")
    return values


@bp.post("/runs")
@login_required("commissioner")
def start_run() -> Any:
    """Check the choices and data, save the config, and start the assessment job."""
    setup = _setup(request.form)
    values = _posted_values(setup)
    errors: dict[str, str] = {}
    choices = _choices(setup, values, errors)
    if choices is None:
        return _render_configure(setup, values, errors, 400)
    taxonomy = state().taxonomy
    draft = new_draft(files_dir())
    try:
        config_dict = compose_config(choices, catalogue(), files_dir(), draft)
        text = dumps_toml(
            config_dict,
            header=(
                f"Assessment config composed on the commissioner pages by {_author()}.\n"
                "Every input is a file in this folder, named and pinned by its SHA-256."
            ),
        )
        config = load_config(write_config_draft(text, draft), taxonomy)
        load_needs(config)  # every needs-layer check, before anything is kept
    except NeedsLayerError as err:
        errors[_issue_field(err, setup)] = _issues_text(err, setup)
    except ConfigError as err:
        errors[_config_field(err.field, setup)] = str(err.message).split(": ", 2)[-1]
    except ValidationError as err:
        errors[_config_field(err.field, setup) if err.field else "config"] = err.message
    except BaseException:
        discard_draft(draft)
        raise
    if errors:
        discard_draft(draft)
        return _render_configure(setup, values, errors, 400)
    kept = keep_draft(draft, files_dir())
    config = load_config(kept.path, taxonomy)
    total = len(run_steps(config)) + len(WRITE_STEPS) + len(site_steps(config))
    store = current_store()
    job = store.create_job(
        JOB_KIND,
        title=setup.title,
        created_by=_author(),
        params={"config": kept.name, "config_sha256": kept.sha256},
        steps_total=total,
    )
    out_dir = runs_dir() / job.id
    vendor_dir = Path(current_app.config["JSAA_VENDOR_DIR"])

    def work(progress: Any) -> Mapping[str, Any]:
        return run_assessment_job(
            store, taxonomy, kept.path, out_dir, vendor_dir=vendor_dir, progress=progress
        )

    job_runner().submit(job.id, work)
    return redirect(url_for("jsaa.job", job_id=job.id), 303)


def run_assessment_job(
    store: Store,
    taxonomy: Taxonomy,
    config_path: Path,
    out_dir: Path,
    *,
    vendor_dir: Path,
    progress: Any,
) -> dict[str, Any]:
    """The job's work: run the config, write the site into ``out_dir`` (whole or not at all)."""
    config = load_config(config_path, taxonomy)
    result = run_jsaa(config, store, taxonomy=taxonomy, on_step=progress)
    staging = out_dir.with_name(f".{out_dir.name}.incoming")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        written = write_site(
            result, staging, taxonomy=taxonomy, vendor_dir=vendor_dir, on_step=progress
        )
        staging.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    totals = result.summary["totals"]
    return {
        "files": len(written),
        "areas": totals["areas"],
        "assets": totals["assets_in_areas"],
        "priority_areas": totals["priority_areas"],
        "config_sha256": config.sha256,
    }


# -- jobs and results -------------------------------------------------------------------


def _job(job_id: str) -> Job:
    try:
        job = current_store().get_job(job_id)
    except NotFound:
        job = None
    if job is None or job.kind != JOB_KIND:
        raise NotFound(f"There is no assessment run with the id '{job_id}'.")
    stale = timedelta(seconds=float(current_app.config["JSAA_JOB_STALE_AFTER_S"]))
    return job.as_seen_at(datetime.now(UTC), stale)


def _status(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "title": job.title,
        "status": job.status,
        "finished": job.finished,
        "step": job.step,
        "steps_done": job.steps_done,
        "steps_total": job.steps_total,
        "progress": round(job.progress, 4),
        "error": job.error,
        "results_url": url_for("jsaa.results", job_id=job.id) if job.status == "done" else None,
    }


@bp.get("/")
@login_required("commissioner")
def index() -> Any:
    """Assessment runs, newest first."""
    stale = timedelta(seconds=float(current_app.config["JSAA_JOB_STALE_AFTER_S"]))
    now = datetime.now(UTC)
    jobs = [j.as_seen_at(now, stale) for j in current_store().list_jobs(kind=JOB_KIND)]
    return render_template("jsaa/index.html", jobs=jobs)


@bp.get("/jobs/<job_id>")
@login_required("commissioner")
def job(job_id: str) -> Any:
    """One assessment run: progress, then the results."""
    found = _job(job_id)
    return render_template("jsaa/job.html", job=found, status=_status(found))


@bp.get("/jobs/<job_id>/status.json")
@login_required("commissioner")
def job_status(job_id: str) -> Any:
    """One run's status and progress (JSON)."""
    return jsonify(_status(_job(job_id)))


@bp.get("/jobs/<job_id>/files/", defaults={"name": ""}, endpoint="results")
@bp.get("/jobs/<job_id>/files/<path:name>")
@login_required("commissioner")
def job_file(job_id: str, name: str) -> Any:
    """A run's outputs: index, report, maps and data files."""
    found = _job(job_id)
    if found.status != "done":
        raise NotFound("This run has no results (yet).")
    return send_static(runs_dir() / found.id, name)
