-- PostgreSQL twin of ../sqlite/0013_mfa.sql (see the comments there).
CREATE TABLE mfa_devices (
    serial          TEXT COLLATE "C" PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    name            TEXT COLLATE "C" NOT NULL,
    path            TEXT COLLATE "C" NOT NULL,
    seed_ciphertext BYTEA NOT NULL,
    user_id         TEXT COLLATE "C" REFERENCES users(id),
    enabled_at      TEXT COLLATE "C",
    last_step       BIGINT,
    step_offset     BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT COLLATE "C" NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX mfa_devices_by_account ON mfa_devices(account_id, serial);
CREATE INDEX mfa_devices_by_user ON mfa_devices(user_id, serial);

ALTER TABLE role_sessions ADD COLUMN mfa_authenticated_at TEXT COLLATE "C";
