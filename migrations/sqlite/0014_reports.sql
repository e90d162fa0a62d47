-- Generated reports (issue 19), in the database so that any node answers
-- for a report another node generated (issue 16). Bookkeeping, like
-- login_failures: written outside the audited pipeline, read by no cache.

-- The credential report: one per account, as AWS keeps it. A generation
-- claims the row (STARTED, with its claim id), the node that claimed it
-- builds the rows and completes it; a claim older than the generation
-- timeout is taken over by the next GenerateCredentialReport (its node
-- died). A COMPLETE report is valid four hours.
CREATE TABLE credential_reports (
    account_id     TEXT PRIMARY KEY,
    state          TEXT NOT NULL,       -- STARTED | COMPLETE
    claim          TEXT NOT NULL,
    started_ms     INTEGER NOT NULL,
    generated_ms   INTEGER,
    generated_time TEXT,                -- GetCredentialReport's GeneratedTime
    content        TEXT                 -- the rows, a JSON array of arrays
);

-- GenerateServiceLastAccessedDetails jobs, by JobId (a UUID), computed
-- when generated. Kept a day (the purge task deletes older ones), at most
-- 100 per account (the oldest go first), each result at most 4 MiB.
CREATE TABLE last_accessed_jobs (
    job_id       TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    arn          TEXT NOT NULL,         -- the entity the job reports on
    granularity  TEXT NOT NULL,         -- SERVICE_LEVEL | ACTION_LEVEL
    status       TEXT NOT NULL,         -- COMPLETED
    created_at   TEXT NOT NULL,
    completed_at TEXT,
    created_ms   INTEGER NOT NULL,
    result       TEXT NOT NULL          -- services and entities, JSON
);
CREATE INDEX last_accessed_jobs_by_account ON last_accessed_jobs(account_id, created_ms);
CREATE INDEX last_accessed_jobs_by_time ON last_accessed_jobs(created_ms);
