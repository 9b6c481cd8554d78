"""Read a CSV file into raw rows: stripped text per column, with row and line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from assetmap.domain.errors import ValidationError
from assetmap.importers.records import RawRow

# Spreadsheet exports on Windows are often cp1252; it decodes any byte, so it is the one
# fallback tried when the file is not valid UTF-8.
_FALLBACK_ENCODING = "cp1252"


def read_csv_header(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    """Column names of a CSV file (its first row), stripped.

    Raises
    ------
    ValidationError
        When the file is empty.
    """
    header, _rows = _open_rows(path, encoding)
    return header


def _open_rows(path: Path, encoding: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError:
        if encoding.lower().replace("_", "-") not in {"utf-8", "utf-8-sig", "utf8"}:
            raise ValidationError(
                f"{path.name} cannot be read as {encoding}", field="encoding"
            ) from None
        text = path.read_text(encoding=_FALLBACK_ENCODING)
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationError(f"{path.name} is empty: no header row", field="file") from None
    if not any(header):
        raise ValidationError(f"{path.name}: the first row (header) is blank", field="file")

    def rows() -> Iterator[tuple[int, list[str]]]:
        last_line = reader.line_num
        for cells in reader:
            # A quoted cell may span lines, so a row starts on the line after the previous one.
            start = last_line + 1
            last_line = reader.line_num
            yield start, cells

    return header, rows()


def read_csv(
    path: Path, *, encoding: str = "utf-8-sig", na_values: tuple[str, ...] = ("",)
) -> tuple[list[str], list[RawRow]]:
    """Read every data row of a CSV file.

    Parameters
    ----------
    path
        The file. UTF-8 (with or without a byte-order mark) by default; a file that is not
        UTF-8 is read as Windows-1252.
    encoding
        Text encoding.
    na_values
        Cell values that mean "no value" (compared after stripping); they become ''.

    Returns
    -------
    header, rows
        Column names, and one RawRow per non-blank data row. ``row`` counts data rows from 1;
        ``line`` is the file line the row starts on (the header is line 1). A row with more
        cells than the header carries a row error.
    """
    header, rows = _open_rows(path, encoding)
    na = set(na_values)
    out: list[RawRow] = []
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not data rows
        values = {}
        for i, name in enumerate(header):
            cell = cells[i].strip() if i < len(cells) else ""
            values[name] = "" if cell in na else cell
        raw = RawRow(row=len(out) + 1, line=line, values=values)
        extra = [c for c in cells[len(header) :] if c.strip()]
        if extra:
            raw.problems.append(
                (
                    "columns",
                    f"row has {len(cells)} cells but the header has {len(header)} columns",
                    ",".join(extra)[:80],
                )
            )
        out.append(raw)
    return header, out
