-- Temporary credentials (STS); see migrations/sqlite/0002_sessions.sql.
CREATE TABLE role_sessions (
    access_key_id       TEXT COLLATE "C" PRIMARY KEY,
    account_id          TEXT COLLATE "C" NOT NULL,
    role_id             TEXT COLLATE "C",
    user_id             TEXT COLLATE "C",
    session_name        TEXT COLLATE "C" NOT NULL,
    issuer_arn          TEXT COLLATE "C" NOT NULL,
    secret_ciphertext   BYTEA NOT NULL,
    token_sha256        TEXT COLLATE "C" NOT NULL UNIQUE,
    session_policies    TEXT COLLATE "C",
    tags                TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    transitive_tag_keys TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    source_identity     TEXT COLLATE "C",
    chained             BOOLEAN NOT NULL DEFAULT FALSE,
    issued_at           TEXT COLLATE "C" NOT NULL,
    expires_at          TEXT COLLATE "C" NOT NULL,
    revoked_at          TEXT COLLATE "C",
    CHECK (role_id IS NULL OR user_id IS NULL)
);
CREATE INDEX role_sessions_by_role ON role_sessions(role_id, issued_at);
CREATE INDEX role_sessions_by_expiry ON role_sessions(expires_at);

ALTER TABLE roles ADD COLUMN sessions_revoked_before TEXT COLLATE "C";
