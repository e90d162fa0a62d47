-- latchkey's IAM store. Names are unique per account case-insensitively
-- (name_lower); ARNs keep the case given. Times are ISO-8601 UTC text.
-- The API never cascades deletes (DeleteConflict), so foreign keys restrict.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,           -- 12 digits
    name          TEXT NOT NULL,
    is_management INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,    -- AIDA...
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    name                 TEXT NOT NULL,
    name_lower           TEXT NOT NULL,
    path                 TEXT NOT NULL,
    permissions_boundary TEXT,                -- managed policy ARN
    created_at           TEXT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE groups (
    id         TEXT PRIMARY KEY,              -- AGPA...
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    path       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id),
    user_id  TEXT NOT NULL REFERENCES users(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON group_members(user_id);

CREATE TABLE roles (
    id                   TEXT PRIMARY KEY,    -- AROA...
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    name                 TEXT NOT NULL,
    name_lower           TEXT NOT NULL,
    path                 TEXT NOT NULL,
    -- the trust policy as stored: principals pinned to unique ids
    trust_policy         TEXT NOT NULL,
    description          TEXT,
    max_session_duration INTEGER NOT NULL DEFAULT 3600,
    permissions_boundary TEXT,
    created_at           TEXT NOT NULL,
    last_used_at         TEXT,
    last_used_region     TEXT,
    UNIQUE (account_id, name_lower)
);

-- account_id is 'aws' for the built-in managed policies, so it has no
-- foreign key.
CREATE TABLE managed_policies (
    id                 TEXT PRIMARY KEY,      -- ANPA...
    account_id         TEXT NOT NULL,
    name               TEXT NOT NULL,
    name_lower         TEXT NOT NULL,
    path               TEXT NOT NULL,
    arn                TEXT NOT NULL UNIQUE,
    description        TEXT,
    default_version_id TEXT NOT NULL,
    next_version       INTEGER NOT NULL,      -- version numbers are never reused
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (account_id, name_lower)
);

CREATE TABLE policy_versions (
    policy_id  TEXT NOT NULL REFERENCES managed_policies(id),
    version_id TEXT NOT NULL,                 -- v1, v2, ...
    document   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (policy_id, version_id)
);

-- Inline policies and attachments, one table per principal kind so that
-- foreign keys keep them consistent.
CREATE TABLE user_inline_policies (
    user_id    TEXT NOT NULL REFERENCES users(id),
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);
CREATE TABLE group_inline_policies (
    group_id   TEXT NOT NULL REFERENCES groups(id),
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (group_id, name)
);
CREATE TABLE role_inline_policies (
    role_id    TEXT NOT NULL REFERENCES roles(id),
    name       TEXT NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (role_id, name)
);

CREATE TABLE user_attached_policies (
    user_id   TEXT NOT NULL REFERENCES users(id),
    policy_id TEXT NOT NULL REFERENCES managed_policies(id),
    PRIMARY KEY (user_id, policy_id)
);
CREATE TABLE group_attached_policies (
    group_id  TEXT NOT NULL REFERENCES groups(id),
    policy_id TEXT NOT NULL REFERENCES managed_policies(id),
    PRIMARY KEY (group_id, policy_id)
);
CREATE TABLE role_attached_policies (
    role_id   TEXT NOT NULL REFERENCES roles(id),
    policy_id TEXT NOT NULL REFERENCES managed_policies(id),
    PRIMARY KEY (role_id, policy_id)
);

-- Tags of users, roles and managed policies, keyed by the entity's unique id.
CREATE TABLE tags (
    entity_id TEXT NOT NULL,
    key       TEXT NOT NULL,
    key_lower TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (entity_id, key_lower)
);

-- Long-term keys of users (user_id set) and of account roots (user_id NULL).
-- The secret is AES-256-GCM ciphertext (nonce || ciphertext) under the
-- master key, because SigV4 verification needs the plaintext.
CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,       -- AKIA...
    account_id        TEXT NOT NULL REFERENCES accounts(id),
    user_id           TEXT REFERENCES users(id),
    secret_ciphertext BLOB NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_at        TEXT NOT NULL,
    last_used_at      TEXT,
    last_used_service TEXT,
    last_used_region  TEXT
);
CREATE INDEX access_keys_by_user ON access_keys(user_id);

CREATE TABLE login_profiles (
    user_id                 TEXT PRIMARY KEY REFERENCES users(id),
    password_hash           TEXT NOT NULL,    -- argon2id PHC string
    password_reset_required INTEGER NOT NULL DEFAULT 0,
    created_at              TEXT NOT NULL
);
