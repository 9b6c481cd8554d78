"""One run's output folder, written whole: ``assetmap jsaa run CONFIG --out DIR``.

The site is written into a hidden folder beside ``DIR`` and swapped into place when it is
complete, as :func:`assetmap.maps.publish.publish_release` does for a release. So ``DIR``
always holds exactly one complete run: a failure part-way leaves the previous run as it was,
and files of an earlier run that this one does not write (the map of an indicator since
dropped from the config) go with it.

Replacing ``DIR`` deletes it, so only a folder that holds nothing but an earlier run's files
(each listed in its ``provenance.json``) is replaced; any other file there stops the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from assetmap.analysis.jsaa import JsaaResult
from assetmap.domain.errors import Conflict, ValidationError
from assetmap.domain.taxonomy import Taxonomy
from assetmap.maps.report import write_site
from assetmap.maps.whole_dir import write_whole

# Files of another kind named in the refusal, at most.
_SHOWN = 5


def _earlier_run_files(out_dir: Path) -> set[str]:
    """Relative names an earlier run wrote into ``out_dir`` (empty when none is recorded)."""
    try:
        provenance = json.loads((out_dir / "provenance.json").read_text(encoding="utf-8"))
        outputs = provenance["outputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    if not isinstance(outputs, dict):
        return set()
    return {str(name) for name in outputs} | {"provenance.json"}


def check_output_dir(out_dir: Path) -> None:
    """Refuse an output folder that :func:`write_output_dir` may not replace.

    Parameters
    ----------
    out_dir
        The ``--out`` folder: new, empty, or holding an earlier run and nothing else.

    Raises
    ------
    Conflict
        ``out_dir`` is a file, or holds files that an earlier run did not write (named).
    """
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise Conflict(f"{out_dir} is a file, not a folder: choose another --out folder")
    ours = _earlier_run_files(out_dir)
    others = sorted(
        p.relative_to(out_dir).as_posix()
        for p in out_dir.rglob("*")
        if not p.is_dir() and p.relative_to(out_dir).as_posix() not in ours
    )
    if others:
        shown = ", ".join(others[:_SHOWN]) + (
            f" and {len(others) - _SHOWN:,} more" if len(others) > _SHOWN else ""
        )
        raise Conflict(
            f"{out_dir} holds files that are not the output of an earlier assessment run "
            f"({shown}); the run replaces the whole folder, so choose a new or empty --out "
            "folder, or move those files out"
        )


def write_output_dir(
    result: JsaaResult,
    out_dir: Path,
    *,
    taxonomy: Taxonomy,
    vendor_dir: Path,
    on_step: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write a run's whole site as ``out_dir``, replacing an earlier run there.

    Parameters
    ----------
    result
        :func:`assetmap.analysis.jsaa.run_jsaa` output.
    out_dir
        The folder; see :func:`check_output_dir` for what it may hold already.
    taxonomy, vendor_dir, on_step
        As for :func:`assetmap.maps.report.write_site`.

    Returns
    -------
    dict
        Relative file name → path in ``out_dir``, for every file written.

    Raises
    ------
    Conflict
        As :func:`check_output_dir`; nothing is written.
    ValidationError
        The folder beside ``out_dir`` cannot be written.
    """
    check_output_dir(out_dir)

    def write(staging: Path) -> dict[str, Path]:
        return write_site(
            result, staging, taxonomy=taxonomy, vendor_dir=vendor_dir, on_step=on_step
        )

    try:
        # Checked again before the swap: a file may have been put there meanwhile.
        written = write_whole(out_dir, write, check=lambda: check_output_dir(out_dir))
    except OSError as err:
        raise ValidationError(f"cannot write {out_dir}: {err}", field="out") from err
    return {name: out_dir / name for name in written}
