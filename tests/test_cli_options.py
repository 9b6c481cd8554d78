"""Every command's options: one given twice is a usage error, not "the last one wins"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from assetmap.cli import cli
from assetmap.store import Store
from tests.analysis.trafford import load_trafford
from tests.cli_main import run_main as run_cli


def every_command(
    command: click.Command = cli, path: tuple[str, ...] = ("assetmap",)
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from every_command(sub, (*path, name))


def single_valued(command: click.Command) -> list[click.Option]:
    return [
        p
        for p in command.params
        if isinstance(p, click.Option) and not (p.multiple or p.count or p.is_eager)
    ]


CASES = [
    pytest.param(command, option, id=f"{' '.join(path[1:]) or 'assetmap'} {option.opts[-1]}")
    for path, command in every_command()
    for option in single_valued(command)
]


def test_every_command_has_single_valued_options() -> None:
    # The parametrized test below must not pass by finding nothing to try.
    names = {case.id for case in CASES}
    assert {"nearby --radius", "nearby --postcode", "assetmap --db", "import --skip-bad"} <= names
    assert {"jsaa run --out", "users add --role", "serve --port"} <= names
    assert not any(id_.endswith(("--category", "--cost", "--access", "--area")) for id_ in names)


@pytest.mark.parametrize(("command", "option"), CASES)
def test_a_single_valued_option_given_twice_is_refused(
    command: click.Command, option: click.Option
) -> None:
    # Parsing only (make_context): the command is never run, whatever it would have done.
    args: list[str] = []
    for param in command.params:
        if param is option:
            # Under both its names where it has two (-o, --output): still the one option.
            first, second = ([], []) if option.is_flag else (["1"], ["2"])
            args += [option.opts[0], *first, option.opts[-1], *second]
        elif isinstance(param, click.Argument) and param.required:
            args.append("x")
        elif isinstance(param, click.Option) and param.required:
            args += [param.opts[-1], "x"]
    if isinstance(command, click.Group):
        args.append(next(iter(command.commands)))
    # Under the real root context, whose settings (-h for help) every command inherits.
    root = (
        None if command is cli else click.Context(cli, info_name="assetmap", **cli.context_settings)
    )
    with pytest.raises(click.UsageError) as raised:
        command.make_context(command.name or "assetmap", args, parent=root)
    message = raised.value.format_message()
    assert message == f"Option {option.get_error_hint(None)} was given 2 times; give it once."


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--postcode", "M32 0TH", "--postcode", "M33 7ZF"], "'--postcode'"),
        (["--postcode", "M32 0TH", "--radius", "100", "--radius", "2000"], "'--radius'"),
        (["--lat", "53.45", "--lon", "-2.3", "--lon", "-2.31"], "'--lon'"),
        (["--postcode", "M32 0TH", "--format", "json", "--format", "table"], "'--format'"),
    ],
)
def test_nearby_refuses_an_option_given_twice(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: Store,
    args: list[str],
    named: str,
) -> None:
    load_trafford(store)
    status, out, err = run_cli(monkeypatch, capsys, "--db", store.url, "nearby", *args)
    assert status == 2
    assert out == ""
    assert f"Error: Option {named} was given 2 times; give it once." in err
    assert "nearby [OPTIONS]" in err  # click's usage line, then the error


def test_the_store_option_given_twice_is_refused_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run_cli(monkeypatch, capsys, "--db", "sqlite:///a.db", "--db", "b", "init")
    assert status == 2
    assert out == ""
    assert "Error: Option '--db' was given 2 times; give it once." in err
    assert list(tmp_path.iterdir()) == []


def test_options_meant_to_repeat_still_repeat(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], store: Store
) -> None:
    load_trafford(store)
    common = ["--db", store.url, "nearby", "--postcode", "M32 0TH", "--radius", "2000"]
    status, out, err = run_cli(
        monkeypatch, capsys, *common, "--category", "library", "--category", "park"
    )
    assert status == 0, err
    assert "Library" in out and "Park" in out
    _, libraries, _ = run_cli(monkeypatch, capsys, *common, "--category", "library")
    assert "Park" not in libraries


def test_help_still_works_with_a_repeated_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run_cli(
        monkeypatch, capsys, "nearby", "--radius", "1", "--radius", "2", "-h"
    )
    assert status == 0, err
    assert "Find published assets near a postcode or point" in out
