"""Running the installed ``assetmap`` entry point in-process, as a shell would."""

from __future__ import annotations

import sys

import pytest

from assetmap.cli import main


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    """``assetmap ARGV...``: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["assetmap", *argv])
    try:
        main()
        status = 0
    except SystemExit as exit_:
        status = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return status, out, err
