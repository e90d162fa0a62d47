-- Last accessed (issue 19): per principal and action, the newest allowed
-- event of the audit trail, kept by a trigger on its inserts. The
-- principal is the event's principal ARN, except that a role session's
-- (arn:aws:sts::ACCT:assumed-role/ROLE/SESSION) is cut after the role
-- name: every session of a role is the role. A report then reads one row
-- per action the principal used, never the trail itself, and the rows
-- outlive the trail's retention as AWS's tracking period does.
CREATE TABLE last_accessed (
    principal  TEXT NOT NULL,
    action     TEXT NOT NULL,   -- lower-cased, as the audit filters match it
    event_id   BIGINT NOT NULL,
    event_time TEXT NOT NULL,
    -- the full principal ARN of that event (the session, for a role)
    principal_arn TEXT NOT NULL,
    PRIMARY KEY (principal, action)
);

CREATE FUNCTION last_accessed_principal(arn TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN arn LIKE 'arn:aws:sts::%:assumed-role/%/%'
                THEN substr(arn, 1, 39 + strpos(substr(arn, 40), '/') - 1)
                ELSE arn END
$$;

CREATE FUNCTION last_accessed_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO last_accessed (principal, action, event_id, event_time, principal_arn)
        VALUES (last_accessed_principal(NEW.principal_arn), lower(NEW.action),
                NEW.id, NEW.event_time, NEW.principal_arn)
        ON CONFLICT (principal, action) DO UPDATE SET
            event_id = excluded.event_id,
            event_time = excluded.event_time,
            principal_arn = excluded.principal_arn
        WHERE excluded.event_id > last_accessed.event_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER last_accessed_insert AFTER INSERT ON audit_events
    FOR EACH ROW WHEN (NEW.decision = 'allowed' AND NEW.principal_arn IS NOT NULL)
    EXECUTE FUNCTION last_accessed_insert();

INSERT INTO last_accessed (principal, action, event_id, event_time, principal_arn)
    SELECT DISTINCT ON (last_accessed_principal(principal_arn), lower(action))
           last_accessed_principal(principal_arn), lower(action), id, event_time, principal_arn
    FROM audit_events WHERE decision = 'allowed' AND principal_arn IS NOT NULL
    ORDER BY last_accessed_principal(principal_arn), lower(action), id DESC;
