-- Staff accounts, their sessions and login attempts; resident submissions and their events.
CREATE TABLE users (
    pk INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    auth_version INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Sessions live in the database so several app processes share them; only a hash of the
-- token is stored, so a copy of the database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_pk INTEGER NOT NULL REFERENCES users (pk),
    auth_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_pk);

CREATE TABLE login_attempts (
    pk INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    client_key TEXT NOT NULL,
    ok INTEGER NOT NULL DEFAULT 1,
    at TEXT NOT NULL
);
CREATE INDEX login_attempts_user_at ON login_attempts (username, at);
CREATE INDEX login_attempts_client_at ON login_attempts (client_key, at);

CREATE TABLE submissions (
    pk INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    asset_id TEXT NOT NULL REFERENCES assets (id),
    base_revision INTEGER NOT NULL,
    changes TEXT NOT NULL,
    problem TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    submitter_name TEXT NOT NULL DEFAULT '',
    submitter_email TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL,
    client_key TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL DEFAULT '',
    decision_reason TEXT NOT NULL DEFAULT '',
    merged_into TEXT NOT NULL DEFAULT ''
);
CREATE INDEX submissions_status ON submissions (status, created_at);
CREATE INDEX submissions_client_at ON submissions (client_key, created_at);
CREATE INDEX submissions_email_at ON submissions (submitter_email, created_at);

CREATE TABLE submission_events (
    pk INTEGER PRIMARY KEY,
    ref TEXT NOT NULL REFERENCES submissions (ref),
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX submission_events_ref ON submission_events (ref);
CREATE TRIGGER submission_events_no_update BEFORE UPDATE ON submission_events
BEGIN
    SELECT RAISE(ABORT, 'submission events are append-only');
END;
CREATE TRIGGER submission_events_no_delete BEFORE DELETE ON submission_events
BEGIN
    SELECT RAISE(ABORT, 'submission events are append-only');
END;
