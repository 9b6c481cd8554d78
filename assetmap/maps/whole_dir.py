"""Write a folder whole: into a hidden sibling, then swapped in by two renames.

A published release and a ``jsaa run --out`` folder must never be seen half-written, nor
keep files an earlier version had and this one does not. Renames within one folder are
atomic, so readers see the old folder or the new one.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def write_whole(
    target: Path, write: Callable[[Path], T], *, check: Callable[[], None] | None = None
) -> T:
    """``write(staging)`` into a new folder beside ``target``, then make that ``target``.

    ``check`` runs after writing, just before the swap (a last look at what would be
    replaced). If the new folder cannot be renamed into place, the earlier one is put back.
    Nothing is left beside ``target`` either way.
    """
    target = target.absolute()
    tag = uuid.uuid4().hex[:8]
    staging = target.parent / f".{target.name}.incoming-{tag}"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir()
    try:
        result = write(staging)
        if check is not None:
            check()
        if target.exists():
            retired = target.parent / f".{target.name}.replaced-{tag}"
            target.rename(retired)
            try:
                staging.rename(target)
            except OSError:
                retired.rename(target)  # the earlier folder back, whole
                raise
            shutil.rmtree(retired)
        else:
            staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return result
