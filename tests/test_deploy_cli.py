"""Deployment through the command line: init, serve and migrate-store as an operator runs them.

Every failure is one line naming what to fix (exit status 2), and nothing is left half done.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from assetmap.domain.errors import ValidationError
from assetmap.settings import Settings
from assetmap.store import open_store
from assetmap.web import production
from tests.cli_main import run_main

Started = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Started:
    """Records a server that would have started (development or gunicorn), starting none."""
    calls: Started = []
    monkeypatch.setattr(Flask, "run", lambda self, **kw: calls.append(("development", kw)))
    monkeypatch.setattr(
        production, "run_gunicorn", lambda settings, **kw: calls.append(("gunicorn", kw))
    )
    monkeypatch.setenv("ASSETMAP_INSTANCE_PATH", str(tmp_path / "instance"))
    return calls


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused, as to a server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "3"], "Error: --workers is for --production (gunicorn) only."),
        (["--production", "--debug"], "Error: --debug is for the development server, not"),
        (["--production", "--workers", "0"], "Error: Invalid value for '--workers': 0 is not"),
        # The development server listened on 99999 % 65536 (34463); gunicorn had a traceback.
        (["--port", "99999"], "Error: Invalid value for '--port': 99999 is not in the range"),
        (["--production", "--port", "0"], "Error: Invalid value for '--port': 0 is not in"),
    ],
)
def test_serve_refuses_options_it_would_ignore_or_misread(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    started: Started,
    tmp_path: Path,
    options: list[str],
    message: str,
) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    status, out, err = run_main(monkeypatch, capsys, "--db", db, "serve", *options)
    assert (status, out, started) == (2, "", [])
    assert err.splitlines()[-1].startswith(message)
    assert not (tmp_path / "a.db").exists()  # refused before anything was opened


@pytest.mark.parametrize("production_flag", [[], ["--production"]])
def test_serve_with_its_database_down_says_so_and_starts_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    started: Started,
    production_flag: list[str],
) -> None:
    """A mistyped port: one line and exit 2, not a development server answering 503."""
    port = closed_port()
    db = f"postgresql://someone@127.0.0.1:{port}/assetmap"
    status, out, err = run_main(monkeypatch, capsys, "--db", db, "serve", *production_flag)
    assert (status, out, started) == (2, "", [])
    assert err.startswith(
        f"error: cannot connect to the PostgreSQL database 'assetmap' on 127.0.0.1:{port} as"
        " someone: connection to server at"
    )
    assert err.endswith(
        "Check --db (or ASSETMAP_DATABASE_URL), and that the server is running and lets this"
        " user in.\n"
    )
    assert len(err.splitlines()) == 1


def test_serve_starts_the_server_it_was_asked_for(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    started: Started,
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert run_main(monkeypatch, capsys, "--db", db, "init")[0] == 0
    args = ("--db", db, "serve", "--production", "--workers", "2", "--port", "8000")
    assert run_main(monkeypatch, capsys, *args)[0] == 0
    assert run_main(monkeypatch, capsys, "--db", db, "serve", "--debug")[0] == 0
    assert started == [
        ("gunicorn", {"host": "127.0.0.1", "port": 8000, "workers": 2}),
        ("development", {"host": "127.0.0.1", "port": 5000, "debug": True, "threaded": True}),
    ]


@pytest.mark.parametrize("production_flag", [[], ["--production"]])
@pytest.mark.parametrize("given_by", ["--db", "ASSETMAP_DATABASE_URL"])
def test_serve_refuses_a_sqlite_store_that_is_not_there(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    started: Started,
    tmp_path: Path,
    given_by: str,
    production_flag: list[str],
) -> None:
    """A mistyped path served a new, empty store: "0 results" for every search, no error."""
    mistyped = tmp_path / "srv" / "assetmpa.db"
    db = f"sqlite:///{mistyped}"
    if given_by == "--db":
        args: tuple[str, ...] = ("--db", db)
    else:
        monkeypatch.setenv("ASSETMAP_DATABASE_URL", db)
        args = ()
    status, out, err = run_main(monkeypatch, capsys, *args, "serve", *production_flag)
    assert (status, out, started) == (2, "", [])
    assert err == (
        f"error: there is no store at {mistyped}: create one with `assetmap init` (and"
        " `assetmap demo` for the Trafford demo), or give --db (or ASSETMAP_DATABASE_URL) for"
        " the one you meant\n"
    )
    assert not mistyped.exists() and not mistyped.parent.exists()
    # The README's order, init and demo first, still serves.
    assert run_main(monkeypatch, capsys, *args, "init")[0] == 0
    assert run_main(monkeypatch, capsys, *args, "demo", "--no-progress")[0] == 0
    assert run_main(monkeypatch, capsys, *args, "serve", *production_flag)[0] == 0
    assert [server for server, _ in started] == ["gunicorn" if production_flag else "development"]


def test_the_default_store_is_in_the_instance_folder(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    started: Started,
    tmp_path: Path,
) -> None:
    """It was ./instance/assetmap.db whatever ASSETMAP_INSTANCE_PATH said, while the key
    went to the folder: an instance set up with only that variable split its state in two."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETMAP_DATABASE_URL", raising=False)
    monkeypatch.setenv("ASSETMAP_INSTANCE_PATH", str(tmp_path / "srv" / "assetmap"))
    status, _out, err = run_main(monkeypatch, capsys, "serve")
    assert (status, started) == (2, [])
    assert err.startswith(f"error: there is no store at {tmp_path}/srv/assetmap/assetmap.db:")
    status, out, _err = run_main(monkeypatch, capsys, "init")
    assert status == 0
    assert out.startswith(f"store ready at sqlite:///{tmp_path}/srv/assetmap/assetmap.db ")
    assert run_main(monkeypatch, capsys, "serve")[0] == 0
    assert (tmp_path / "srv" / "assetmap" / "assetmap.db").is_file()
    assert not (tmp_path / "instance").exists()  # nothing in ./instance


def test_a_database_url_set_empty_is_refused_not_taken_for_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSETMAP_DATABASE_URL", " ")
    for args in (("init",), ("--db", "", "init")):
        status, out, err = run_main(monkeypatch, capsys, *args)
        assert (status, out) == (2, "")
        assert err == (
            "error: field 'database_url': is empty: give a store URL (sqlite:///path.db or"
            " postgresql://...), or leave it unset for assetmap.db in the instance folder\n"
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("script_name", "factory"),
    [
        ("/assetmap/", "assetmap.web.production:mounted_app('/assetmap')"),
        ("/", "assetmap.web.app:create_app()"),
        ("", "assetmap.web.app:create_app()"),
    ],
)
def test_gunicorn_serves_the_app_mounted_at_script_name_without_knowing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script_name: str, factory: str
) -> None:
    """Given SCRIPT_NAME, gunicorn answered every path outside it with a 500."""
    execs: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda _path, args, env: execs.append((args, env)))
    monkeypatch.setenv("SCRIPT_NAME", script_name)
    settings = Settings(instance_path=tmp_path, secret_key="k")
    production.run_gunicorn(settings, host="127.0.0.1", port=8000, workers=1)
    [(args, env)] = execs
    assert args[-1] == factory
    assert "SCRIPT_NAME" not in env
    assert env["ASSETMAP_DATABASE_URL"] == f"sqlite:///{tmp_path}/assetmap.db"


def test_a_script_name_that_is_not_a_path_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "execve", lambda *_args: pytest.fail("gunicorn started"))
    monkeypatch.setenv("SCRIPT_NAME", "assetmap")
    with pytest.raises(ValidationError) as refused:
        production.run_gunicorn(Settings(instance_path=tmp_path), host="::1", port=80, workers=1)
    assert str(refused.value) == (
        "field 'SCRIPT_NAME': 'assetmap' does not start with /: give the path the app is"
        " served at, such as /assetmap"
    )


def test_a_file_that_is_not_a_sqlite_database_is_named_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dump = tmp_path / "assetmap.dump"
    dump.write_text("PGDMP a PostgreSQL dump, given to --db by mistake")
    db = f"sqlite:///{dump}"
    for args in (("--db", db, "init"), ("migrate-store", "--from", db, "--to", "sqlite:///")):
        status, out, err = run_main(monkeypatch, capsys, *args)
        assert (status, out) == (2, "")
        option = "--db (or ASSETMAP_DATABASE_URL)" if args[0] == "--db" else "--from"
        assert err == (
            f"error: cannot use {dump} as a SQLite store: file is not a database. Check"
            f" {option} names an Assetmap store (or a new file in a folder this user may"
            " write)\n"
        )
    assert dump.read_text().startswith("PGDMP")
    blocked = tmp_path / "assetmap.dump" / "assetmap.db"  # under a file: no folder can be made
    status, _out, err = run_main(monkeypatch, capsys, "--db", f"sqlite:///{blocked}", "init")
    assert status == 2
    assert err == (
        f"error: cannot use {blocked} as a SQLite store: its folder {dump} cannot be made"
        " (File exists). Check --db (or ASSETMAP_DATABASE_URL)\n"
    )


def _upgraded_by_a_later_version(url: str) -> None:
    """Mark a store as a later Assetmap's migration 99 left it, as a rollback would meet it."""
    store = open_store(url)
    with store.transaction() as conn:
        conn.execute("CREATE TABLE later_things (pk INTEGER PRIMARY KEY, note TEXT)")
        conn.execute(
            store._sql("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
            (99, "2030-01-01T00:00:00+00:00"),
        )
    store.close()


def test_an_older_assetmap_refuses_a_store_a_later_one_upgraded(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store_url: str,
    tmp_path: Path,
    started: Started,
) -> None:
    """init said "store ready (schema version 99)"; migrate-store copied it "verified"
    without the newer tables; serve ran an app that writes rows without the newer columns."""
    assert run_main(monkeypatch, capsys, "--db", store_url, "demo", "--no-progress")[0] == 0
    _upgraded_by_a_later_version(store_url)
    shown = store_url.split("?", 1)[0]
    store = open_store(store_url, migrate=False)
    known = max(number for number, _ in store._migration_files())
    store.close()
    refusal = (
        f"has schema version 99, newer than this version of Assetmap knows ({known}): a later"
        " version upgraded it. Run that version or a later one (or restore the backup taken"
        " before the upgrade); nothing was changed\n"
    )
    copy = tmp_path / "copy.db"
    for args in (
        ("--db", store_url, "init"),
        ("--db", store_url, "serve", "--production"),
        ("migrate-store", "--from", store_url, "--to", f"sqlite:///{copy}"),
    ):
        status, out, err = run_main(monkeypatch, capsys, *args)
        assert (status, out) == (2, ""), args
        assert err.startswith(f"error: the store at {shown}")
        assert err.endswith(refusal)
    assert started == []
    assert not copy.exists()


def test_migrate_store_names_the_option_whose_database_is_wrong(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'src.db'}"
    assert run_main(monkeypatch, capsys, "--db", source, "demo", "--no-progress")[0] == 0
    port = closed_port()
    down = f"postgresql://someone@127.0.0.1:{port}/assetmap"
    status, out, err = run_main(
        monkeypatch, capsys, "migrate-store", "--from", source, "--to", down
    )
    assert (status, out) == (2, "")
    assert err.startswith(
        f"error: cannot connect to the PostgreSQL database 'assetmap' on 127.0.0.1:{port} as"
    )
    assert err.endswith(" Check --to, and that the server is running and lets this user in.\n")
    status, out, err = run_main(
        monkeypatch, capsys, "migrate-store", "--from", "mysql://db/assets", "--to", source
    )
    assert (status, out) == (2, "")
    assert err == (
        "error: field 'from': unsupported database URL 'mysql://db/assets': use"
        " sqlite:///path.db or postgresql://...\n"
    )


def test_migrate_store_refuses_a_target_with_rows_in_any_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The new app was started before the copy and someone tried to sign in to it: the
    target holds no asset and no account, but the copy's keys collided in its sign-in
    attempts half way through (a traceback)."""
    source = f"sqlite:///{tmp_path / 'src.db'}"
    target = tmp_path / "target.db"
    assert run_main(monkeypatch, capsys, "--db", source, "demo", "--no-progress")[0] == 0
    for db in (source, f"sqlite:///{target}"):
        store = open_store(db)
        store.record_login_attempt("mo", "client", ok=False)
        store.close()
    status, out, err = run_main(
        monkeypatch, capsys, "migrate-store", "--from", source, "--to", f"sqlite:///{target}"
    )
    assert (status, out) == (2, "")
    assert err == (
        "error: field 'to': the target store is not empty: its login_attempts table has rows\n"
    )
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM login_attempts").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM assets").fetchone() == (0,)
