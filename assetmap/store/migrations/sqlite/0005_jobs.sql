-- Background jobs (assessment runs started from the web). Status, progress and a heartbeat
-- live in the database, so any app process can show a job another process is running.
CREATE TABLE jobs (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT NOT NULL DEFAULT '',
    heartbeat_at TEXT NOT NULL,
    finished_at TEXT NOT NULL DEFAULT '',
    step TEXT NOT NULL DEFAULT '',
    steps_done INTEGER NOT NULL DEFAULT 0,
    steps_total INTEGER NOT NULL DEFAULT 0,
    result TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX jobs_kind_created ON jobs (kind, created_at);
CREATE INDEX jobs_owner_created ON jobs (created_by, created_at);
