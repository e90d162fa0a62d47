-- Flat at scale (issue 20); see migrations/sqlite/0007_scale_indexes.sql.
CREATE INDEX audit_events_by_principal ON audit_events(principal_arn, id);
CREATE INDEX audit_events_by_action ON audit_events(lower(action), id);
CREATE INDEX audit_events_by_account_action ON audit_events(account_id, lower(action), id);
CREATE INDEX audit_events_by_decision ON audit_events(decision, id);
CREATE INDEX audit_events_by_account_decision ON audit_events(account_id, decision, id);
CREATE INDEX audit_events_by_account_time ON audit_events(account_id, event_time);
CREATE INDEX audit_events_by_resource ON audit_events(lower(resource));

CREATE INDEX managed_policies_by_account_arn ON managed_policies(account_id, arn);

CREATE INDEX role_sessions_live_by_role
    ON role_sessions(role_id, access_key_id, expires_at) WHERE revoked_at IS NULL;

CREATE INDEX instance_profiles_by_role_name ON instance_profiles(role_id, name_lower);

-- Live sessions per minute of expiry, kept by the triggers below, for the
-- active-sessions gauge (its cost does not grow with the sessions).
CREATE TABLE session_expiry_minutes (
    minute TEXT COLLATE "C" PRIMARY KEY,
    live   BIGINT NOT NULL
);

CREATE INDEX role_sessions_live_by_expiry
    ON role_sessions(expires_at) WHERE revoked_at IS NULL;

INSERT INTO session_expiry_minutes (minute, live)
    SELECT substr(expires_at, 1, 16), COUNT(*) FROM role_sessions
    WHERE revoked_at IS NULL GROUP BY substr(expires_at, 1, 16);

CREATE FUNCTION session_expiry_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO session_expiry_minutes (minute, live)
        VALUES (substr(NEW.expires_at, 1, 16), 1)
        ON CONFLICT (minute) DO UPDATE SET live = session_expiry_minutes.live + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER session_expiry_insert AFTER INSERT ON role_sessions
    FOR EACH ROW WHEN (NEW.revoked_at IS NULL)
    EXECUTE FUNCTION session_expiry_insert();

CREATE FUNCTION session_expiry_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE session_expiry_minutes SET live = live - 1
        WHERE minute = substr(OLD.expires_at, 1, 16);
    RETURN NULL;
END
$$;

CREATE TRIGGER session_expiry_delete AFTER DELETE ON role_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
    EXECUTE FUNCTION session_expiry_delete();

CREATE FUNCTION session_expiry_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.revoked_at IS NULL THEN
        UPDATE session_expiry_minutes SET live = live - 1
            WHERE minute = substr(OLD.expires_at, 1, 16);
    END IF;
    IF NEW.revoked_at IS NULL THEN
        INSERT INTO session_expiry_minutes (minute, live)
            VALUES (substr(NEW.expires_at, 1, 16), 1)
            ON CONFLICT (minute) DO UPDATE SET live = session_expiry_minutes.live + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER session_expiry_update AFTER UPDATE OF revoked_at, expires_at ON role_sessions
    FOR EACH ROW EXECUTE FUNCTION session_expiry_update();
