-- Workload credentials; see migrations/sqlite/0005_workloads.sql.
CREATE TABLE service_principals (
    name        TEXT COLLATE "C" PRIMARY KEY,
    description TEXT COLLATE "C",
    created_at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE instance_profiles (
    id         TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name       TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path       TEXT COLLATE "C" NOT NULL,
    role_id    TEXT COLLATE "C" REFERENCES roles(id),
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (account_id, name_lower)
);
CREATE INDEX instance_profiles_by_role ON instance_profiles(role_id);

CREATE TABLE workloads (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    account_id          TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name                TEXT COLLATE "C" NOT NULL,
    instance_profile_id TEXT COLLATE "C" NOT NULL REFERENCES instance_profiles(id),
    service             TEXT COLLATE "C" NOT NULL REFERENCES service_principals(name),
    token_sha256        TEXT COLLATE "C" NOT NULL,
    token_ttl_seconds   BIGINT,
    token_expires_at    TEXT COLLATE "C",
    source_cidrs        TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_by          TEXT COLLATE "C" NOT NULL,
    created_at          TEXT COLLATE "C" NOT NULL,
    token_issued_at     TEXT COLLATE "C" NOT NULL
);
CREATE INDEX workloads_by_account ON workloads(account_id, id);
CREATE INDEX workloads_by_profile ON workloads(instance_profile_id);

CREATE TABLE workload_sessions (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    workload_id   TEXT COLLATE "C" NOT NULL,
    issued_at     TEXT COLLATE "C" NOT NULL,
    expires_at    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX workload_sessions_by_workload ON workload_sessions(workload_id, issued_at);
