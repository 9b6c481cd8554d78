"""SQL migrations for the PostGIS store, applied in file-number order."""
