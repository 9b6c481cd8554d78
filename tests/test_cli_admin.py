"""Admin commands through the real console script: users, migrate-store, init."""

from __future__ import annotations

import getpass
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from assetmap.settings import REPO_ROOT, Settings
from assetmap.store import open_store
from tests.cli_main import run_main
from tests.conftest import postgis_url
from tests.store.people_race import add_between_check_and_insert

BIN = Path(sys.executable).parent / "assetmap"


def run(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_users_add_and_migrate_store(tmp_path: Path, store_url: str) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    added = run(
        "--db",
        src,
        "users",
        "add",
        "mo",
        "--role",
        "moderator",
        "--area",
        "e08000009",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added mo (moderator), areas: E08000009 Trafford"
    short = run(
        "--db", src, "users", "add", "al", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 2
    assert "field 'password': password must be at least 12 characters" in short.stderr
    dup = run(
        "--db",
        src,
        "users",
        "add",
        "MO",
        "--role",
        "admin",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    assert dup.returncode == 2
    assert dup.stderr == "error: field 'username': there is already an account called mo\n"
    listed = run("--db", src, "users", "list")
    assert listed.stdout.splitlines() == ["mo\tmoderator\tmo\tE08000009 Trafford"]

    copied = run("migrate-store", "--from", src, "--to", store_url)
    assert copied.returncode == 0, copied.stderr
    assert "copied and verified" in copied.stdout
    assert "users                      1 ->         1  sha256 ok" in copied.stdout
    target = open_store(store_url)
    user = target.get_user("mo")
    assert user is not None and user.password_hash.startswith("$argon2id$")
    assert user.areas == ("E08000009",)
    target.close()
    again = run("migrate-store", "--from", src, "--to", store_url)
    assert again.returncode == 2 and "not empty" in again.stderr


def test_users_add_racing_another_for_the_same_name_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    # On PostgreSQL the second of two adds at once met the UNIQUE constraint: a traceback.
    add_between_check_and_insert(monkeypatch, store_url, "mo")
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    add = ("--db", store_url, "users", "add", "MO", "--role", "admin", "--password-stdin")
    status, out, err = run_main(monkeypatch, capsys, *add)
    assert (status, out) == (2, "")
    assert err == "error: field 'username': there is already an account called mo\n"
    status, out, _err = run_main(monkeypatch, capsys, "--db", store_url, "users", "list")
    assert (status, out) == (0, "mo\tmoderator\tmo\tno areas\n")


def test_users_areas_are_checked_listed_and_changed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    password = "correct horse battery\n"
    add = ("--db", db, "users", "add")
    areas = ("--area", "E08000009", "--area", "E08000003")
    bad = run(*add, "mo", "--role", "moderator", *areas, "--password-stdin", stdin=password)
    assert bad.returncode == 2
    assert "field 'area': 'E08000003' is not a known area" in bad.stderr
    assert "E08000009 Trafford" in bad.stderr  # the known ones are listed
    plain = run(*add, "mo", "--role", "moderator", "--password-stdin", stdin=password)
    assert plain.returncode == 0 and plain.stdout.strip() == "added mo (moderator)"
    assert "mo has no areas, so sees no resident's name or email" in plain.stderr
    admin = run(*add, "ada", "--role", "admin", "--password-stdin", stdin=password)
    assert admin.returncode == 0
    moved = run("--db", db, "users", "set-areas", "mo", "E09000007", "e08000009")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "mo now looks after E08000009 Trafford, E09000007 Camden"
    typo = run("--db", db, "users", "set-areas", "mo", "Trafford")
    assert typo.returncode == 2 and "'Trafford' is not a known area" in typo.stderr
    assert run("--db", db, "users", "set-areas", "nobody", "E08000009").returncode == 2
    listed = run("--db", db, "users", "list").stdout.splitlines()
    assert listed == [
        "ada\tadmin\tada\tall areas",
        "mo\tmoderator\tmo\tE08000009 Trafford, E09000007 Camden",
    ]
    cleared = run("--db", db, "users", "set-areas", "mo")
    assert cleared.stdout.strip() == "mo now looks after no areas"
    assert run("--db", db, "users", "list").stdout.splitlines()[1] == "mo\tmoderator\tmo\tno areas"
    store = open_store(db)
    user = store.get_user("mo")
    assert user is not None and user.areas == ()
    store.close()


def test_listing_users_without_areas_does_not_read_the_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reading the district boundaries takes most of a second: only worth it to name areas.
    from assetmap.gazetteer import areas

    db = f"sqlite:///{tmp_path / 'a.db'}"
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    add = ("--db", db, "users", "add", "mo", "--role", "moderator", "--password-stdin")
    assert run_main(monkeypatch, capsys, *add)[0] == 0
    areas.load_default_areas.cache_clear()
    monkeypatch.setattr(areas, "default_areas_path", lambda: tmp_path / "missing.geojson")
    assert run_main(monkeypatch, capsys, "--db", db, "users", "list") == (
        0,
        "mo\tmoderator\tmo\tno areas\n",
        "",
    )
    areas.load_default_areas.cache_clear()


def test_users_disable_and_enable(store_url: str) -> None:
    password = "correct horse battery\n"
    for name, role in [("ada", "admin"), ("mo", "moderator")]:
        added = run(
            "--db",
            store_url,
            "users",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin=password,
        )
        assert added.returncode == 0, added.stderr
    users = ("--db", store_url, "users")
    off = run(*users, "disable", "MO")
    assert (off.returncode, off.stdout, off.stderr) == (
        0,
        "mo is disabled; their sessions have ended\n",
        "",
    )
    again = run(*users, "disable", "mo")
    assert (again.returncode, again.stdout) == (0, "mo is already disabled; nothing changed\n")
    assert run(*users, "list").stdout.splitlines() == [
        "ada\tadmin\tada\tall areas",
        "mo\tmoderator\tmo (disabled)\tno areas",
    ]
    last = run(*users, "disable", "ada")
    assert (last.returncode, last.stdout) == (2, "")
    assert last.stderr == (
        "error: cannot disable ada: they are the last active admin, and only an admin sees the"
        " contact details of residents whose submissions are in no moderator's area; make"
        " another account admin first\n"
    )
    on = run(*users, "enable", "mo")
    assert (on.returncode, on.stdout) == (0, "mo is enabled; they can sign in again\n")
    assert run(*users, "enable", "mo").stdout == "mo is already enabled; nothing changed\n"
    for command in ("disable", "enable"):
        unknown = run(*users, command, "nobody")
        assert (unknown.returncode, unknown.stderr) == (2, "error: no user 'nobody'\n")
    store = open_store(store_url)
    assert [(u.username, u.active) for u in store.list_users()] == [("ada", True), ("mo", True)]
    store.close()


def test_cluster_reports_the_assets_and_keeps_the_answers(store_url: str) -> None:
    assert run("--db", store_url, "demo").returncode == 0
    search = ("--db", store_url, "nearby", "--postcode", "M32 0TH", "--radius", "3000")
    before = run(*search, "--format", "json")
    assert before.returncode == 0 and len(json.loads(before.stdout)["results"]) > 20
    done = run("--db", store_url, "cluster")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"397 assets put in spatial order in \d+\.\d s\n", done.stdout)
    assert run(*search, "--format", "json").stdout == before.stdout


def test_help_lists_every_command() -> None:
    out = run("--help")
    assert out.returncode == 0
    for command in (
        "init",
        "import",
        "demo",
        "export",
        "serve",
        "users",
        "migrate-store",
        "cluster",
        "nearby",
        "jsaa",
    ):
        assert f"  {command}" in out.stdout
    users = run("users", "--help").stdout
    for command in ("add", "set-areas", "set-password", "set-role", "disable", "enable", "list"):
        assert f"  {command}" in users
    assert "Switch an account off" in run("users", "disable", "--help").stdout
    assert "--area CODE" in run("users", "add", "--help").stdout
    serve = run("serve", "--help")
    assert "--production" in serve.stdout


def test_a_database_that_cannot_be_reached_is_one_line_naming_it() -> None:
    # Port 1: nothing listens there, so the connection is refused at once.
    out = run("--db", "postgresql://council:s3cret@127.0.0.1:1/assetmap", "init")
    assert out.returncode == 2
    assert out.stderr.startswith(
        "error: cannot connect to the PostgreSQL database 'assetmap' on 127.0.0.1:1 as council: "
    )
    assert "Connection refused" in out.stderr and "ASSETMAP_DATABASE_URL" in out.stderr
    assert len(out.stderr.splitlines()) == 1 and "s3cret" not in out.stderr
    unreadable = run("--db", "postgresql://u@127.0.0.1:1/db?colour=blue", "users", "list")
    assert unreadable.returncode == 2
    assert unreadable.stderr.startswith("error: field 'database_url': the database URL is not")


@pytest.mark.postgis
def test_a_database_that_is_not_there_is_named() -> None:
    base = urlsplit(postgis_url())
    missing = urlunsplit(base._replace(path="/assetmap_no_such_database", query=""))
    out = run("--db", missing, "users", "list")
    assert out.returncode == 2
    assert 'database "assetmap_no_such_database" does not exist' in out.stderr
    assert len(out.stderr.splitlines()) == 1


def test_migrate_store_refuses_a_source_that_is_not_there_or_empty(
    tmp_path: Path, store_url: str
) -> None:
    typo = tmp_path / "assetmpa.db"
    out = run("migrate-store", "--from", f"sqlite:///{typo}", "--to", store_url)
    assert out.returncode == 2
    assert out.stderr == f"error: there is no store at {typo} to copy from: check --from\n"
    assert not typo.exists()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    assert run("--db", empty, "init").returncode == 0
    out = run("migrate-store", "--from", empty, "--to", store_url)
    assert out.returncode == 2
    assert "field 'from': the source store is empty: there is nothing to copy" in out.stderr
    assert "copied and verified" not in out.stdout


def test_init_does_not_print_the_database_password(store_url: str) -> None:
    if store_url.startswith("sqlite:"):
        assert run("--db", store_url, "init").stdout.startswith(f"store ready at {store_url} ")
        return
    parts = urlsplit(store_url)
    # The URL's own password, or any (the test servers trust local connections).
    secret = parts.password or "s3cret"
    user = parts.username or getpass.getuser()
    port = f":{parts.port}" if parts.port else ""
    with_password = urlunsplit(parts._replace(netloc=f"{user}:{secret}@{parts.hostname}{port}"))
    out = run("--db", with_password, "init")
    assert out.returncode == 0, out.stderr
    assert secret not in out.stdout
    assert out.stdout.startswith(f"store ready at postgresql://{user}:***@{parts.hostname}")


def test_settings_that_are_not_yes_no_or_a_count_are_refused_naming_the_variable(
    tmp_path: Path,
) -> None:
    db = ("--db", f"sqlite:///{tmp_path / 'a.db'}", "init")
    for name, value, reason in [
        ("ASSETMAP_SECURE_COOKIES", "ture", "is neither yes nor no: use 1 or 0"),
        ("ASSETMAP_USE_CDN", "maybe", "is neither yes nor no: use 1 or 0"),
        ("ASSETMAP_TRUSTED_PROXIES", "true", "is not a whole number of 0 or more"),
        ("ASSETMAP_TRUSTED_PROXIES", "-1", "is not a whole number of 0 or more"),
        ("ASSETMAP_SUBMISSIONS_PER_EMAIL_PER_DAY", "5 a day", "is not a whole number"),
    ]:
        out = run(*db, env={name: value})
        assert out.returncode == 2, (name, value, out.stderr)
        assert out.stderr.startswith(f"error: field '{name}': {value!r} {reason}")
        assert len(out.stderr.splitlines()) == 1
    # "on" was read as off: Secure cookies dropped, sign-in cookies sent over plain http.
    assert Settings.from_env({"ASSETMAP_SECURE_COOKIES": "on"}).secure_cookies is True
    assert Settings.from_env({"ASSETMAP_SECURE_COOKIES": "Off"}).secure_cookies is False
    assert Settings.from_env({"ASSETMAP_TRUSTED_PROXIES": " 2 "}).trusted_proxies == 2


def test_readme_postgis_recipe_gives_the_database_to_the_apps_role() -> None:
    """On PostgreSQL 15 only a database's owner may create tables in it: init needs that."""
    section = (REPO_ROOT / "README.md").read_text().split("## Running on PostgreSQL", 1)[1]
    recipe = section.split("```sh\n", 1)[1].split("```", 1)[0]
    found = re.search(r"ASSETMAP_DATABASE_URL=(\S+)", recipe)
    assert found is not None
    url = urlsplit(found[1])
    role, dbname = url.username, url.path.lstrip("/")
    assert re.search(rf"createuser .*\b{role}\b", recipe)
    assert f"createdb --owner {role} {dbname}" in recipe
    assert f'psql -d {dbname} -c "CREATE EXTENSION postgis"' in recipe
    assert f"{url.hostname}:{url.port}:{dbname}:{role}:PASSWORD" in recipe  # for libpq
    # Several hosts: a form signed on one must be accepted by the others.
    prose = " ".join(section.split("\n## ", 1)[0].split())
    assert "give every instance the same `ASSETMAP_SECRET_KEY`" in prose


def test_a_database_lost_during_a_command_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    # What psycopg raises when the server ends a connection mid-query (a restart, a
    # failover), raised from the store the command uses.
    import psycopg

    from assetmap.store.jobs import JobsSql

    def lost(self: JobsSql) -> list[object]:
        raise psycopg.errors.AdminShutdown(
            "terminating connection due to administrator command\nSSL connection has been closed"
        )

    assert run("--db", store_url, "init").returncode == 0
    store = open_store(store_url)
    monkeypatch.setattr(type(store), "list_users", lost)
    store.close()
    status, _out, err = run_main(monkeypatch, capsys, "--db", store_url, "users", "list")
    assert status == 2
    assert err.splitlines() == [
        "error: the database connection failed during the command (terminating connection due"
        " to administrator command SSL connection has been closed); anything it was writing"
        " was not saved: check the database is up, then run it again"
    ]


def test_other_errors_still_reach_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Only a lost database is an outage; a bug must not be dressed up as one.
    store_url = f"sqlite:///{tmp_path / 'a.db'}"
    assert run("--db", store_url, "init").returncode == 0
    store = open_store(store_url)

    def broken(self: object) -> list[object]:
        raise KeyError("a bug")

    monkeypatch.setattr(type(store), "list_users", broken)
    store.close()
    with pytest.raises(KeyError):
        run_main(monkeypatch, capsys, "--db", store_url, "users", "list")


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_copy_that_does_not_read_back_the_same_says_which_tables_and_keeps_nothing(
    tmp_path: Path,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from assetmap.store import copying

    src = f"sqlite:///{tmp_path / 'src.db'}"
    assert run("--db", src, "demo").returncode == 0
    checksum = copying.table_checksum

    def changed_in_transit(of: object, table: str) -> tuple[int, str]:
        count, sha = checksum(of, table)  # type: ignore[arg-type]
        target = getattr(of, "url", "") == store_url
        return (count, "0" * 64) if target and table == "assets" else (count, sha)

    monkeypatch.setattr(copying, "table_checksum", changed_in_transit)
    status, out, err = run_main(
        monkeypatch, capsys, "migrate-store", "--from", src, "--to", store_url
    )
    assert status == 1
    assert re.search(r"^assets +\d+ -> +\d+  sha256 MISMATCH$", out, re.M)
    assert re.search(r"^revisions +\d+ -> +\d+  sha256 ok$", out, re.M)
    assert err == (
        "not copied: the tables marked MISMATCH read back from the target differently from the"
        " source, so the copy was undone and the target is as it was; the source is unchanged."
        " A value the target stores otherwise is the likely cause.\n"
    )
    target = open_store(store_url)
    assert target.count_assets() == 0 and target.count_revisions() == 0
    target.close()
