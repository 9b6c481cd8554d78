-- When each staff session last made a request: a session also ends after a spell with none
-- (settings.staff_idle_minutes), not only a day after signing in. Sessions already open
-- count as last used when they began.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
UPDATE sessions SET last_seen_at = created_at;
