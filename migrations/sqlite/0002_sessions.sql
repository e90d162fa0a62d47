-- Temporary credentials (STS), kept apart from long-term keys: a session
-- row lives until it expires (then a background task purges it after a
-- retention) or is revoked. Times are ISO-8601 UTC text with milliseconds
-- (fixed width, so they compare and sort as text).
--
-- role_id, user_id and account_id carry no foreign keys on purpose: AWS
-- lets a role or user be deleted while sessions are live; those sessions
-- then stop authenticating (the lookup finds no role), and the purge task
-- clears the rows.
CREATE TABLE role_sessions (
    access_key_id       TEXT PRIMARY KEY,     -- ASIA...
    account_id          TEXT NOT NULL,
    -- the assumed role (AssumeRole), or NULL for GetSessionToken and login
    -- sessions, which belong to user_id (NULL too for an account root)
    role_id             TEXT,
    user_id             TEXT,
    session_name        TEXT NOT NULL,
    -- ARN of the principal that obtained the session
    issuer_arn          TEXT NOT NULL,
    -- AES-256-GCM (nonce || ciphertext) under the master key, bound to the
    -- access key id
    secret_ciphertext   BLOB NOT NULL,
    -- hex SHA-256 of the session token; the token itself is never stored
    token_sha256        TEXT NOT NULL UNIQUE,
    -- JSON [{"name", "document"}]: the inline policy and the documents of
    -- the policy_arns, frozen at issue time. NULL when none were passed
    -- (then they limit nothing).
    session_policies    TEXT,
    tags                TEXT NOT NULL DEFAULT '[]',   -- JSON [{"key","value"}]
    transitive_tag_keys TEXT NOT NULL DEFAULT '[]',   -- JSON ["key"]
    source_identity     TEXT,
    chained             INTEGER NOT NULL DEFAULT 0,
    issued_at           TEXT NOT NULL,
    expires_at          TEXT NOT NULL,
    revoked_at          TEXT,
    CHECK (role_id IS NULL OR user_id IS NULL)
);
CREATE INDEX role_sessions_by_role ON role_sessions(role_id, issued_at);
CREATE INDEX role_sessions_by_expiry ON role_sessions(expires_at);

-- "Revoke active sessions": sessions of the role issued before this instant
-- are refused (AWS does it with an aws:TokenIssueTime deny policy).
ALTER TABLE roles ADD COLUMN sessions_revoked_before TEXT;
