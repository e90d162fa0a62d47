-- The audit trail: append-only. One row per mutation (written in the
-- mutation's own transaction), AssumeRole / GetSessionToken / login,
-- failed authentication, access denied and (by a setting) /v1/authorize
-- decision. params is a small JSON object with secrets, tokens and
-- passwords removed and policy documents replaced by their SHA-256.
CREATE TABLE audit_events (
    -- rowid: no AUTOINCREMENT (its sequence table costs a write per row);
    -- retention deletes only the oldest rows, so ids are never reused
    id            INTEGER PRIMARY KEY,
    event_time    TEXT NOT NULL,   -- ISO-8601 UTC with milliseconds
    request_id    TEXT NOT NULL,
    -- the account the event belongs to (the caller's; for a failed
    -- authentication, the presented key's owner when it exists)
    account_id    TEXT,
    principal_arn TEXT,
    access_key_id TEXT,
    action        TEXT NOT NULL,
    resource      TEXT,
    decision      TEXT NOT NULL,   -- allowed | denied | failed
    error_code    TEXT,
    source_ip     TEXT,
    user_agent    TEXT,
    params        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_by_account ON audit_events(account_id, id);
CREATE INDEX audit_events_by_time ON audit_events(event_time);

-- Append-only, enforced by the database: no UPDATE ever, and DELETE only
-- while the retention task holds the gate open inside its own transaction.
CREATE TABLE audit_retention_gate (open INTEGER NOT NULL);
INSERT INTO audit_retention_gate (open) VALUES (0);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
WHEN (SELECT open FROM audit_retention_gate) = 0
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
