-- One row per import run: what was read, written and rejected, kept for audit.
CREATE TABLE import_runs (
    pk INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    started_at TEXT NOT NULL,
    report TEXT NOT NULL
);
