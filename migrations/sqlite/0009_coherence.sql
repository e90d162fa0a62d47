-- Cache coherence between nodes on one database (src/coherence.rs).
-- `generation` advances in the transaction of every write that changes
-- what a node caches (keys, sessions, policies, entities); `catalog` also
-- advances when a service definition changes. Each node polls the row and
-- drops its caches when `generation` moved, and reloads the action catalog
-- when `catalog` did.
CREATE TABLE coherence (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL,
    catalog    BIGINT NOT NULL
);
INSERT INTO coherence (id, generation, catalog) VALUES (1, 0, 0);

-- Failed sign-ins per `account/lower-case user name`, shared by every node
-- (src/sts/login.rs). A name is locked while it has MAX_FAILURES failures
-- and its last one is within the lockout; every failure restarts the
-- window. Rows whose window ended are deleted by the purge task.
CREATE TABLE login_failures (
    name            TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    -- Unix milliseconds of the last failure.
    last_failure_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_by_time ON login_failures (last_failure_ms);

-- Claimed in the transaction that creates the management account, so that
-- nodes starting at once on an empty database create exactly one
-- (src/bootstrap.rs): the second insert of id 1 fails, and that node uses
-- the winner's account.
CREATE TABLE bootstrap (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    account_id TEXT NOT NULL
);
INSERT INTO bootstrap (id, account_id)
    SELECT 1, id FROM accounts WHERE is_management = 1 ORDER BY created_at LIMIT 1;
