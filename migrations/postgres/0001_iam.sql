-- latchkey's IAM store, PostgreSQL dialect of migrations/sqlite (same
-- tables, columns, keys and indexes). Text columns collate "C": names,
-- ARNs, ids and ISO-8601 times compare and sort bytewise, as in SQLite,
-- whatever the database's default collation (keyset pages and the
-- lower()-range of the audit resource filter rely on it).
-- INTEGER columns Rust reads as i64 are BIGINT, flags Rust reads as bool
-- are BOOLEAN, BLOBs are BYTEA.

CREATE TABLE accounts (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL,
    is_management BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE users (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name                 TEXT COLLATE "C" NOT NULL,
    name_lower           TEXT COLLATE "C" NOT NULL,
    path                 TEXT COLLATE "C" NOT NULL,
    permissions_boundary TEXT COLLATE "C",
    created_at           TEXT COLLATE "C" NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE groups (
    id         TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name       TEXT COLLATE "C" NOT NULL,
    name_lower TEXT COLLATE "C" NOT NULL,
    path       TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE group_members (
    group_id TEXT COLLATE "C" NOT NULL REFERENCES groups(id),
    user_id  TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    added_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members(user_id);

CREATE TABLE roles (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    account_id           TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name                 TEXT COLLATE "C" NOT NULL,
    name_lower           TEXT COLLATE "C" NOT NULL,
    path                 TEXT COLLATE "C" NOT NULL,
    trust_policy         TEXT COLLATE "C" NOT NULL,
    description          TEXT COLLATE "C",
    max_session_duration BIGINT NOT NULL DEFAULT 3600,
    permissions_boundary TEXT COLLATE "C",
    created_at           TEXT COLLATE "C" NOT NULL,
    last_used_at         TEXT COLLATE "C",
    last_used_region     TEXT COLLATE "C",
    UNIQUE (account_id, name_lower)
);

CREATE TABLE managed_policies (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    account_id         TEXT COLLATE "C" NOT NULL,
    name               TEXT COLLATE "C" NOT NULL,
    name_lower         TEXT COLLATE "C" NOT NULL,
    path               TEXT COLLATE "C" NOT NULL,
    arn                TEXT COLLATE "C" NOT NULL UNIQUE,
    description        TEXT COLLATE "C",
    default_version_id TEXT COLLATE "C" NOT NULL,
    next_version       BIGINT NOT NULL,
    created_at         TEXT COLLATE "C" NOT NULL,
    updated_at         TEXT COLLATE "C" NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE policy_versions (
    policy_id  TEXT COLLATE "C" NOT NULL REFERENCES managed_policies(id),
    version_id TEXT COLLATE "C" NOT NULL,
    document   TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

CREATE TABLE user_inline_policies (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    name       TEXT COLLATE "C" NOT NULL,
    document   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, name)
);
CREATE TABLE group_inline_policies (
    group_id   TEXT COLLATE "C" NOT NULL REFERENCES groups(id),
    name       TEXT COLLATE "C" NOT NULL,
    document   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_id, name)
);
CREATE TABLE role_inline_policies (
    role_id    TEXT COLLATE "C" NOT NULL REFERENCES roles(id),
    name       TEXT COLLATE "C" NOT NULL,
    document   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (role_id, name)
);

CREATE TABLE user_attached_policies (
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    policy_id TEXT COLLATE "C" NOT NULL REFERENCES managed_policies(id),
    PRIMARY KEY (user_id, policy_id)
);
CREATE TABLE group_attached_policies (
    group_id  TEXT COLLATE "C" NOT NULL REFERENCES groups(id),
    policy_id TEXT COLLATE "C" NOT NULL REFERENCES managed_policies(id),
    PRIMARY KEY (group_id, policy_id)
);
CREATE TABLE role_attached_policies (
    role_id   TEXT COLLATE "C" NOT NULL REFERENCES roles(id),
    policy_id TEXT COLLATE "C" NOT NULL REFERENCES managed_policies(id),
    PRIMARY KEY (role_id, policy_id)
);

CREATE TABLE tags (
    entity_id TEXT COLLATE "C" NOT NULL,
    key       TEXT COLLATE "C" NOT NULL,
    key_lower TEXT COLLATE "C" NOT NULL,
    value     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (entity_id, key_lower)
);

CREATE TABLE access_keys (
    access_key_id     TEXT COLLATE "C" PRIMARY KEY,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    user_id           TEXT COLLATE "C" REFERENCES users(id),
    secret_ciphertext BYTEA NOT NULL,
    status            TEXT COLLATE "C" NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_at        TEXT COLLATE "C" NOT NULL,
    last_used_at      TEXT COLLATE "C",
    last_used_service TEXT COLLATE "C",
    last_used_region  TEXT COLLATE "C"
);
CREATE INDEX access_keys_by_user ON access_keys(user_id);

CREATE TABLE login_profiles (
    user_id                 TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id),
    password_hash           TEXT COLLATE "C" NOT NULL,
    password_reset_required BOOLEAN NOT NULL DEFAULT FALSE,
    created_at              TEXT COLLATE "C" NOT NULL
);
