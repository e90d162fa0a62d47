-- Workload credentials (AWS-IAM-NOTES §7.6, §7.7): service principals,
-- instance profiles, workloads and the sessions fetched for them.

-- The platform's services that roles trust with {"Service": NAME}. Global,
-- like AWS's ec2.amazonaws.com; the management account manages them. A
-- service principal has no credentials: latchkey assumes roles on its
-- behalf, only for workloads registered with it.
CREATE TABLE service_principals (
    name        TEXT PRIMARY KEY,             -- lower-case host name
    description TEXT,
    created_at  TEXT NOT NULL
);

-- One role at most (AWS's fixed quota). Deleting the role first needs it
-- removed from the profile (DeleteConflict), as in AWS.
CREATE TABLE instance_profiles (
    id         TEXT PRIMARY KEY,              -- AIPA...
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path       TEXT NOT NULL,
    role_id    TEXT REFERENCES roles(id),
    created_at TEXT NOT NULL,
    UNIQUE (account_id, name_lower)
);
CREATE INDEX instance_profiles_by_role ON instance_profiles(role_id);

-- A VM, container or CI job that fetches its profile's role credentials
-- with a bearer token. Only the token's SHA-256 digest is kept.
CREATE TABLE workloads (
    id                  TEXT PRIMARY KEY,     -- wl-...
    account_id          TEXT NOT NULL REFERENCES accounts(id),
    name                TEXT NOT NULL,
    instance_profile_id TEXT NOT NULL REFERENCES instance_profiles(id),
    service             TEXT NOT NULL REFERENCES service_principals(name),
    token_sha256        TEXT NOT NULL,
    token_ttl_seconds   INTEGER,
    token_expires_at    TEXT,                 -- NULL: the token does not expire
    source_cidrs        TEXT NOT NULL DEFAULT '[]',   -- JSON ["10.0.0.0/8"]
    created_by          TEXT NOT NULL,        -- ARN of the registering caller
    created_at          TEXT NOT NULL,
    token_issued_at     TEXT NOT NULL
);
CREATE INDEX workloads_by_account ON workloads(account_id, id);
CREATE INDEX workloads_by_profile ON workloads(instance_profile_id);

-- Which role_sessions rows were fetched by which workload, so that deleting
-- the workload, rotating its token or removing the role from its profile
-- revokes exactly those sessions. No foreign key to role_sessions: the
-- purge task deletes expired sessions on its own schedule.
CREATE TABLE workload_sessions (
    access_key_id TEXT PRIMARY KEY,
    workload_id   TEXT NOT NULL,
    issued_at     TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX workload_sessions_by_workload ON workload_sessions(workload_id, issued_at);
