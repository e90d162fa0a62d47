-- Flat at scale (issue 20): every list is read from an index in its own
-- order (a page costs the same at any depth and any table size), every
-- documented audit filter has an index, and the active-sessions gauge is
-- read from per-minute counts instead of a count over every session.
-- src/store/plans.rs checks the query plans of all of them.

-- Audit filters. Tenant queries always carry account_id, so each filter
-- has an (account_id, filter, id) index for them and a (filter, id) one for
-- the management account's queries across accounts; the trailing id keeps
-- the newest-first order without a sort. action is matched lower-cased.
CREATE INDEX audit_events_by_principal ON audit_events(principal_arn, id);
CREATE INDEX audit_events_by_action ON audit_events(lower(action), id);
CREATE INDEX audit_events_by_account_action ON audit_events(account_id, lower(action), id);
CREATE INDEX audit_events_by_decision ON audit_events(decision, id);
CREATE INDEX audit_events_by_account_decision ON audit_events(account_id, decision, id);
CREATE INDEX audit_events_by_account_time ON audit_events(account_id, event_time);
-- resource_prefix is a case-insensitive (ASCII) LIKE: its lower-cased
-- form is a range of this index.
CREATE INDEX audit_events_by_resource ON audit_events(lower(resource));

-- ListPolicies reads the account's policies and the built-in ones in ARN
-- order, each from this index, and merges the two.
CREATE INDEX managed_policies_by_account_arn ON managed_policies(account_id, arn);

-- A role's live sessions in access key id order (the list's sort key and
-- marker); revoked ones are not in it.
CREATE INDEX role_sessions_live_by_role
    ON role_sessions(role_id, access_key_id, expires_at) WHERE revoked_at IS NULL;

-- The instance profiles of a role, by name.
CREATE INDEX instance_profiles_by_role_name ON instance_profiles(role_id, name_lower);

-- Sessions neither revoked nor deleted, counted per minute of expiry
-- ('YYYY-MM-DDTHH:MM', the first 16 characters of expires_at), kept by the
-- triggers below. The active-sessions gauge sums the minutes after the
-- current one (at most a session lifetime of rows, 2,160 for 36 hours) and
-- counts the current minute's sessions from the partial index: its cost
-- does not grow with the number of sessions.
CREATE TABLE session_expiry_minutes (
    minute TEXT PRIMARY KEY,
    live   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX role_sessions_live_by_expiry
    ON role_sessions(expires_at) WHERE revoked_at IS NULL;

INSERT INTO session_expiry_minutes (minute, live)
    SELECT substr(expires_at, 1, 16), COUNT(*) FROM role_sessions
    WHERE revoked_at IS NULL GROUP BY substr(expires_at, 1, 16);

CREATE TRIGGER session_expiry_insert AFTER INSERT ON role_sessions
WHEN NEW.revoked_at IS NULL
BEGIN
    INSERT INTO session_expiry_minutes (minute, live)
        VALUES (substr(NEW.expires_at, 1, 16), 1)
        ON CONFLICT (minute) DO UPDATE SET live = live + 1;
END;

CREATE TRIGGER session_expiry_delete AFTER DELETE ON role_sessions
WHEN OLD.revoked_at IS NULL
BEGIN
    UPDATE session_expiry_minutes SET live = live - 1
        WHERE minute = substr(OLD.expires_at, 1, 16);
END;

CREATE TRIGGER session_expiry_update AFTER UPDATE OF revoked_at, expires_at ON role_sessions
BEGIN
    UPDATE session_expiry_minutes SET live = live - 1
        WHERE OLD.revoked_at IS NULL AND minute = substr(OLD.expires_at, 1, 16);
    INSERT INTO session_expiry_minutes (minute, live)
        SELECT substr(NEW.expires_at, 1, 16), 1 WHERE NEW.revoked_at IS NULL
        ON CONFLICT (minute) DO UPDATE SET live = live + 1;
END;
