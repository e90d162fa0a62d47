-- PostgreSQL twin of ../sqlite/0009_coherence.sql (see the comments there).
CREATE TABLE coherence (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL,
    catalog    BIGINT NOT NULL
);
INSERT INTO coherence (id, generation, catalog) VALUES (1, 0, 0);

CREATE TABLE login_failures (
    name            TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_by_time ON login_failures (last_failure_ms);

-- No backfill from accounts: a PostgreSQL database starts empty, and its
-- first node's bootstrap claims the row.
CREATE TABLE bootstrap (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    account_id TEXT NOT NULL
);
