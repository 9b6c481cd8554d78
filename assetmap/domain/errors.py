"""One exception tree: every error Assetmap raises on purpose is an AssetmapError."""

from __future__ import annotations


class AssetmapError(Exception):
    """Base of every error Assetmap raises on purpose; `status` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(AssetmapError):
    """Bad input: names the row (1-based, data rows) and the field where known."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.row = row

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class NotFound(AssetmapError):
    """A thing asked for by id or code does not exist."""

    status = 404


class Conflict(AssetmapError):
    """The thing changed since the caller read it."""

    status = 409


class Forbidden(AssetmapError):
    """The caller may not do this (wrong role, or their own submission)."""

    status = 403


class TooManyRequests(AssetmapError):
    """A rate limit was reached; try again later."""

    status = 429
