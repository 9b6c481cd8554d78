"""SQL migrations for the SQLite store, applied in file-number order."""
