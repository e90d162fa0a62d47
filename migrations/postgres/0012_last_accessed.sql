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

-- Concurrent writers (nodes, audit batches, mutations) may record the
-- same principal and action in different orders: a plain upsert would
-- wait on the other's row lock, and two such transactions could deadlock.
-- A row another transaction holds is left to it (its use is as recent,
-- give or take the moment); only a first use ever inserts, and waits.
CREATE FUNCTION last_accessed_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p TEXT := last_accessed_principal(NEW.principal_arn);
    a TEXT := lower(NEW.action);
BEGIN
    PERFORM 1 FROM last_accessed WHERE principal = p AND action = a
        FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
        UPDATE last_accessed SET event_id = NEW.id, event_time = NEW.event_time,
                                 principal_arn = NEW.principal_arn
            WHERE principal = p AND action = a AND event_id < NEW.id;
    ELSIF NOT EXISTS (SELECT 1 FROM last_accessed WHERE principal = p AND action = a) THEN
        INSERT INTO last_accessed (principal, action, event_id, event_time, principal_arn)
            VALUES (p, a, NEW.id, NEW.event_time, NEW.principal_arn)
            ON CONFLICT (principal, action) DO NOTHING;
    END IF;
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
