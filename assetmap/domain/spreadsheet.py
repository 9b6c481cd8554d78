"""Text cells that a spreadsheet opens as text: the guard every CSV the app writes uses.

A cell starting with = + - @ (or a tab or carriage return, which some spreadsheets skip
before reading one of those) is run as a formula when the file is opened, so resident or
uploaded text could run commands on a commissioner's machine. Such a cell gets a leading
apostrophe, which spreadsheets hide; the CSV importer takes it off again, so an exported
file imports back unchanged.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will show as text, never run as a formula.

    Text starting with one of ``FORMULA_START`` gets a leading apostrophe; numbers (and text
    that is only a number, such as "-2.35") are left alone so they stay numbers.
    """
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
