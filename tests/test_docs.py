"""The README stays true: every command, setting and the JSAA method are documented."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import click
from werkzeug.middleware.proxy_fix import ProxyFix

from assetmap.analysis.jsaa.scores import METHOD
from assetmap.cli import cli
from assetmap.settings import (
    DEFAULT_TILE_ATTRIBUTION,
    DEFAULT_TILE_URL,
    REPO_ROOT,
    Settings,
)
from assetmap.web.app import create_app

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_readme_states_the_jsaa_method_verbatim() -> None:
    assert _squash(METHOD) in _squash(README)


def test_every_cli_command_is_in_the_readme() -> None:
    names: list[str] = []
    for name, command in cli.commands.items():
        names.append(name)
        if isinstance(command, click.Group):
            names.extend(f"{name} {sub}" for sub in command.commands)
    missing = [
        n
        for n in names
        if f"assetmap [--db URL] {n}" not in README and f"assetmap {n}" not in README
    ]
    assert missing == []


def test_every_setting_variable_is_in_the_readme() -> None:
    source = (REPO_ROOT / "assetmap" / "settings.py").read_text(encoding="utf-8")
    variables = sorted(set(re.findall(r'"(ASSETMAP_[A-Z_]+)"', source)))
    assert "ASSETMAP_DATABASE_URL" in variables
    assert [v for v in variables if f"`{v}`" not in README] == []


def _layout() -> dict[str, str]:
    """The README's Layout block: each top-level folder and what it says of it."""
    block = README.split("## Layout", 1)[1].split("```", 2)[1]
    rows = [line.split(None, 1) for line in block.splitlines() if line.strip()]
    return {name.rstrip("/"): text for name, text in rows}


def test_layout_names_every_top_level_folder() -> None:
    try:
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: what is on disk
        tracked = [str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.glob("*/*")]
    folders = {path.split("/", 1)[0] for path in tracked if "/" in path}
    assert sorted(f for f in folders if not f.startswith(".")) == sorted(_layout())


def test_layout_states_the_import_layers_of_pyproject() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    layers = [
        sorted(name.strip().removeprefix("assetmap.") for name in layer.split("|"))
        for layer in reversed(contract["layers"])
    ]
    chain = _layout()["assetmap"].split(": ", 1)[1]
    stated = [sorted(n.strip() for n in step.split("|")) for step in chain.split("→")]
    assert stated == layers


def test_command_synopsis_options_exist() -> None:
    """Each option a line of the "Command line" block shows is an option of that command."""
    block = README.split("## Command line", 1)[1].split("```", 2)[1]
    wrong: list[str] = []
    for line in block.splitlines():
        words = line.replace("[--db URL]", "").split()
        if not words or words[0] != "assetmap":
            continue
        command: click.Command = cli
        for word in words[1:]:
            if not isinstance(command, click.Group) or word not in command.commands:
                break
            command = command.commands[word]
        known = {opt for param in command.params for opt in param.opts + param.secondary_opts}
        wrong += [
            f"{line.split('  ')[0]}: {opt}"
            for opt in re.findall(r"(?<![\w-])--?[a-z][a-z-]*", line)
            if opt not in known and opt != "--db"
        ]
    assert wrong == []


def test_files_the_readme_names_exist() -> None:
    ignored = [
        line.strip().strip("/")
        for line in (REPO_ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
        if "/" in line.strip().strip("/")
    ]
    pattern = r"(?<![\w/.<-])(?:\.ci|assetmap|data|maps|scripts|tests|web)/[\w./*-]*"
    missing = [
        path
        for path in sorted({p.rstrip(".") for p in re.findall(pattern, README)})
        if "<" not in path
        and not any(path.startswith(prefix) for prefix in ignored)
        and not any(REPO_ROOT.glob(path))
    ]
    assert missing == []


def test_upgrading_describes_each_migration_since_staff_areas() -> None:
    """Migrations from 7 (staff areas) on each have a line under "Upgrading"."""
    folder = REPO_ROOT / "assetmap" / "store" / "migrations"
    numbers = {int(sql.name[:4]) for sql in folder.glob("*/[0-9][0-9][0-9][0-9]_*.sql")}
    upgrading = _squash(README.split("**Upgrading.**", 1)[1].split("\n## ", 1)[0])
    assert [n for n in sorted(numbers) if n >= 7 and f"Migration {n} " not in upgrading] == []


def _configuration_table() -> dict[str, str]:
    """The README's Configuration table: each variable and the default it states."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| `")]
    return {name.strip().strip("`"): default.strip() for name, default in rows}


def test_configuration_states_each_variables_default() -> None:
    """Setting a variable to the default the table states changes no setting.

    A default in words is checked against its constant; "generated" and the postcode
    file's shortened name are checked by what they say.
    """
    table = _configuration_table()
    source = (REPO_ROOT / "assetmap" / "settings.py").read_text(encoding="utf-8")
    assert sorted(table) == sorted(set(re.findall(r'"(ASSETMAP_[A-Z_]+)"', source)))
    words = {
        "empty": "",
        "OpenStreetMap tiles": DEFAULT_TILE_URL,
        DEFAULT_TILE_ATTRIBUTION: DEFAULT_TILE_ATTRIBUTION,
    }
    unset = Settings.from_env({})
    wrong = []
    for name, stated in table.items():
        if name == "ASSETMAP_SECRET_KEY":
            assert stated == "generated once into the instance folder"
            assert unset.secret_key == ""  # with_secret makes it there
            continue
        if name == "ASSETMAP_POSTCODES":
            head, tail = stated.strip("`").split("…")
            assert str(unset.postcode_path.relative_to(REPO_ROOT)).startswith(head)
            assert unset.postcode_path.name.endswith(tail)
            continue
        # The first `literal` (ASSETMAP_SECURE_COOKIES goes on to the exception under serve).
        literal = re.match(r"`([^`]*)`", stated)
        value = literal.group(1) if literal else words[stated]
        if Settings.from_env({name: value}) != unset:
            wrong.append(f"{name}={value!r}")
    assert wrong == []


def _nginx_site() -> dict[str, str]:
    """The README's minimal nginx site: each header it sets and the value it sets."""
    block = README.split("```nginx\n", 1)[1].split("```", 1)[0]
    return dict(re.findall(r"^\s*proxy_set_header\s+(\S+)\s+(.*?);$", block, re.MULTILINE))


def test_nginx_site_sets_every_forwarded_header_the_app_believes(tmp_path: Path) -> None:
    """nginx passes on a client's own header unless it sets it, and the app believes the
    proxy: a forged X-Forwarded-Host or -Prefix would point the app's absolute URLs (the
    OpenAPI document's) at the client's choice. The believed ones are read off the app."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'assetmap.db'}",
        instance_path=tmp_path / "instance",
        secret_key="test-secret-key",
        trusted_proxies=1,
        testing=True,
    )
    fix = create_app(settings).wsgi_app
    assert isinstance(fix, ProxyFix)
    believed = {
        f"X-Forwarded-{part.title()}"
        for part in ("for", "proto", "host", "port", "prefix")
        if getattr(fix, f"x_{part}")
    }
    assert len(believed) == 5
    # Each from nginx's own variables ("" drops the header), none from the client's.
    assert _nginx_site() == {
        "Host": "$host",
        "X-Forwarded-For": "$proxy_add_x_forwarded_for",
        "X-Forwarded-Proto": "$scheme",
        "X-Forwarded-Host": "$host",
        "X-Forwarded-Port": "$server_port",
        "X-Forwarded-Prefix": '""',
    }
    assert believed <= set(_nginx_site())
