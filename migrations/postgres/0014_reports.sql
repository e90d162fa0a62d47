-- PostgreSQL twin of ../sqlite/0014_reports.sql (see the comments there).
CREATE TABLE credential_reports (
    account_id     TEXT COLLATE "C" PRIMARY KEY,
    state          TEXT COLLATE "C" NOT NULL,
    claim          TEXT COLLATE "C" NOT NULL,
    started_ms     BIGINT NOT NULL,
    generated_ms   BIGINT,
    generated_time TEXT COLLATE "C",
    content        TEXT COLLATE "C"
);

CREATE TABLE last_accessed_jobs (
    job_id       TEXT COLLATE "C" PRIMARY KEY,
    account_id   TEXT COLLATE "C" NOT NULL,
    arn          TEXT COLLATE "C" NOT NULL,
    granularity  TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL,
    completed_at TEXT COLLATE "C",
    created_ms   BIGINT NOT NULL,
    result       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX last_accessed_jobs_by_account ON last_accessed_jobs(account_id, created_ms);
CREATE INDEX last_accessed_jobs_by_time ON last_accessed_jobs(created_ms);
