-- Virtual MFA devices (issue 19): TOTP seeds sealed under the master key
-- like access-key secrets, each device enabled for at most one user.
-- Rows of an account go with it (store/accounts.rs); a user with an
-- enabled device cannot be deleted (DeleteConflict), so user_id never
-- dangles. Tags are in `tags` under the serial.

CREATE TABLE mfa_devices (
    -- the device's ARN, arn:aws:iam::ACCT:mfa/PATH/NAME; the sealing
    -- context of the seed
    serial          TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    name            TEXT NOT NULL,
    path            TEXT NOT NULL,
    -- AES-256-GCM of the base32 seed, bound to the serial
    seed_ciphertext BLOB NOT NULL,
    -- the user it is enabled for; NULL while unassigned
    user_id         TEXT REFERENCES users(id),
    enabled_at      TEXT,
    -- the newest TOTP time step accepted (replay guard): a code is
    -- accepted only by an UPDATE that moves it forward
    last_step       BIGINT,
    -- steps between the server's clock and the device's, set by resync
    step_offset     BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    UNIQUE (account_id, name)
);
-- ListVirtualMFADevices pages in serial order within an account;
-- ListMFADevices and the enabled checks read a user's devices.
CREATE INDEX mfa_devices_by_account ON mfa_devices(account_id, serial);
CREATE INDEX mfa_devices_by_user ON mfa_devices(user_id, serial);

-- When the session's MFA was authenticated (aws:MultiFactorAuthAge);
-- NULL when no MFA was used.
ALTER TABLE role_sessions ADD COLUMN mfa_authenticated_at TEXT;
