"""The README stays true: every command, setting and the JSAA method are documented."""

from __future__ import annotations

import re

import click

from assetmap.analysis.jsaa.scores import METHOD
from assetmap.cli import cli
from assetmap.settings import REPO_ROOT

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
