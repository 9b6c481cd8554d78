"""Read a CSV file into raw rows: stripped text per column, with row and line numbers.

Rows end only at CR, LF or CR LF, as in the csv module; line numbers count those breaks, so
a U+2028 or form feed typed into a cell neither splits its row nor shifts later line numbers.
Problems with the file as a whole (its encoding, its header, a quote never closed) are raised
as one :class:`ValidationError` naming the line, not reported again on every row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assetmap.domain.errors import ValidationError
from assetmap.domain.spreadsheet import unguarded
from assetmap.importers.records import RawRow

# Spreadsheet exports on Windows are often cp1252. It is tried only for a file with no valid
# multi-byte UTF-8 at all: one that has some is UTF-8 with damage, and cp1252 would turn each
# of its accented letters into two or three wrong ones.
_FALLBACK_ENCODING = "cp1252"
_FALLBACK_LABEL = "Windows-1252"
_UTF8_CODECS = {"utf-8", "utf-8-sig"}
# A byte-order mark says what the file is whatever the manifest expects ("Unicode text" from
# Excel is UTF-16). UTF-32's marks begin with UTF-16's, so they are tried first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_MAX_CELL = csv.field_size_limit()
# After decoding with surrogateescape, each invalid byte is a lone surrogate; any other
# character above ASCII came from a valid multi-byte sequence.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_DECODED_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


@dataclass
class CsvTable:
    """A CSV file as read: header, data rows and notes for the import report."""

    header: list[str]
    rows: list[RawRow]
    notes: list[str] = field(default_factory=list)


def _line_of(text_before: str) -> int:
    """The 1-based line at the end of some text, counting CR LF, CR and LF as breaks."""
    return text_before.count("\n") + text_before.count("\r") - text_before.count("\r\n") + 1


def _where(data: bytes, offset: int, codec: str) -> str:
    """Where a byte of the file is: its line, and its offset counted from 0."""
    line = _line_of(data[:offset].decode(codec, errors="replace"))
    return f"line {line}, byte offset {offset}"


def _codec(encoding: str, path: Path) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ValidationError(
            f"{path.name}: unknown encoding '{encoding}'", field="encoding"
        ) from None


def _decode(path: Path, data: bytes, encoding: str) -> tuple[str, list[str]]:
    """The file's text, and a note when it was not read with the encoding asked for."""
    codec = _codec(encoding, path)
    if codec in _UTF8_CODECS:
        for bom, bom_codec, label in _BOMS:
            if data.startswith(bom):
                codec, encoding = bom_codec, label
                break
        else:
            return _decode_utf8(path, data)
        note = [f"read as {label}, as its byte-order mark says"]
    else:
        note = []
    try:
        return data.decode(codec), note
    except UnicodeDecodeError as err:
        raise ValidationError(
            f"{path.name} cannot be read as {encoding}: byte 0x{data[err.start]:02X} at "
            f"{_where(data, err.start, codec)} is not valid in it",
            field="encoding",
        ) from None


def _decode_utf8(path: Path, data: bytes) -> tuple[str, list[str]]:
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8"), []
    except UnicodeDecodeError as err:
        bad = start + err.start
    escaped = data[start:].decode("utf-8", errors="surrogateescape")
    if _DECODED_MULTIBYTE.search(escaped):
        invalid = len(_ESCAPED_BYTE.findall(escaped))
        raise ValidationError(
            f"{path.name} is UTF-8 but has {invalid} invalid byte(s); the first, "
            f"0x{data[bad]:02X}, is at {_where(data, bad, 'utf-8')}. Correct it or save the "
            f"file again as UTF-8 (it is not read as {_FALLBACK_LABEL}, which would garble "
            "every accented letter in it)",
            field="encoding",
        )
    try:
        text = data.decode(_FALLBACK_ENCODING)
    except UnicodeDecodeError as err:
        raise ValidationError(
            f"{path.name} is neither UTF-8 nor {_FALLBACK_LABEL}: byte 0x{data[err.start]:02X} "
            f"at {_where(data, err.start, 'latin-1')} is not valid in either",
            field="encoding",
        ) from None
    return text, [
        f"read as {_FALLBACK_LABEL}: it is not UTF-8 (byte 0x{data[bad]:02X} at "
        f"{_where(data, bad, 'latin-1')}); check its accented letters"
    ]


def _records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """Every record of the text with the line it starts on, the header included.

    A generator, so rows are built as they are parsed; a broken row raises when it is reached.
    """
    nul = text.find("\x00")
    if nul >= 0:
        raise ValidationError(
            f"{path.name} has a NUL character on line {_line_of(text[:nul])}: it may be UTF-16 "
            "without a byte-order mark, or not a text file. Save it as CSV UTF-8",
            field="file",
        )
    # strict: a quote must close at the end of its cell. A quote left open usually pairs with
    # the next one in the file, leaving a cell that goes on after its closing quote; without
    # strict, the csv module would glue the rows between into one and carry on.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    try:
        for cells in reader:
            # A quoted cell may span lines, so a record starts on the line after the last one.
            yield last_line + 1, cells
            last_line = reader.line_num
    except csv.Error as err:
        start, at = last_line + 1, reader.line_num
        if "field limit" in str(err):
            problem = f"a cell runs past {_MAX_CELL:,} characters"
        elif "unexpected end of data" in str(err):
            problem = "the file ends inside a quoted cell"
        else:
            problem = f"on line {at}, {err}"
        raise ValidationError(
            f"{path.name}: the row starting on line {start} is broken: {problem}. Most likely "
            'a quote opened in it is never closed, or a " inside a quoted cell is not doubled',
            field="file",
        ) from None


def _header(path: Path, first: list[str]) -> list[str]:
    header = [h.strip() for h in first]
    if not any(header):
        raise ValidationError(f"{path.name}: the first row (header) is blank", field="file")
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        if name:
            positions.setdefault(name, []).append(i)
    repeated = [
        f"'{name}' (columns {', '.join(map(str, at))})"
        for name, at in positions.items()
        if len(at) > 1
    ]
    if repeated:
        raise ValidationError(
            f"{path.name}: the header repeats {'; '.join(repeated)}; give each column its own name",
            field="columns",
        )
    return header


def _read(
    path: Path, encoding: str
) -> tuple[list[str], Iterator[tuple[int, list[str]]], list[str]]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ValidationError(f"{path.name} cannot be read: {err}", field="file") from None
    text, notes = _decode(path, data, encoding)
    records = _records(path, text)
    first = next(records, None)
    if first is None:
        raise ValidationError(f"{path.name} is empty: no header row", field="file")
    return _header(path, first[1]), records, notes


def read_csv_header(path: Path, encoding: str = "utf-8-sig") -> list[str]:
    """Column names of a CSV file (its first row), stripped.

    The whole file is read, so that a problem with it as a whole is found before any file of
    an import is stored.

    Raises
    ------
    ValidationError
        When the file is empty, cannot be decoded, repeats a column name or leaves a quote
        open.
    """
    header, records, _notes = _read(path, encoding)
    for _record in records:
        pass  # parsed only to find a broken row now, before any file is stored
    return header


def _letters(number: int) -> str:
    """A column's letters as a spreadsheet shows them: 1 -> A, 27 -> AA."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def read_csv(
    path: Path, *, encoding: str = "utf-8-sig", na_values: tuple[str, ...] = ("",)
) -> CsvTable:
    """Read every data row of a CSV file.

    Parameters
    ----------
    path
        The file. UTF-8 (with or without a byte-order mark) by default; a UTF-16 or UTF-32
        file with a byte-order mark is read as such, and a file with no valid multi-byte UTF-8
        in it as Windows-1252 (both said in the notes).
    encoding
        Text encoding.
    na_values
        Cell values that mean "no value" (compared after stripping); they become ''.

    Returns
    -------
    CsvTable
        Column names, one RawRow per non-blank data row, and notes. ``row`` counts data rows
        from 1; ``line`` is the file line the row starts on (the header is line 1). A row
        with more cells than the header carries a row error. A cell the export protected from
        spreadsheets (``'=…``, ``'+…``, ``'-…``, ``'@…``, and ``''+…`` for text that starts
        ``'+``) loses that apostrophe.

    Raises
    ------
    ValidationError
        As :func:`read_csv_header`.
    """
    header, records, notes = _read(path, encoding)
    na = set(na_values)
    out: list[RawRow] = []
    unnamed = [i for i, name in enumerate(header) if not name]
    unnamed_used: set[int] = set()
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not data rows
        unnamed_used.update(i for i in unnamed if i < len(cells) and cells[i].strip())
        values = {}
        for i, name in enumerate(header):
            cell = cells[i] if i < len(cells) else ""
            if cell[:1] == "'":  # tested first: a call per cell costs a quarter of the read
                cell = unguarded(cell)
            cell = cell.strip()
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
    if unnamed_used:
        # No field can be mapped to a column without a name: say so rather than drop it.
        numbers = ", ".join(f"{i + 1} ({_letters(i + 1)})" for i in sorted(unnamed_used))
        notes.append(
            f"column(s) {numbers} have no name in the header but hold values, which were not "
            "read; give each column a name"
        )
    return CsvTable(header, out, notes)
