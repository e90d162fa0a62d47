-- Account settings of issue 19: the account password policy, the
-- passwords a user had (reuse prevention, password age) and account
-- aliases. Rows of an account go with it (store/accounts.rs), those of a
-- user with the user (store/users.rs).

-- At most one per account; NULL where the policy leaves a limit unset.
CREATE TABLE password_policies (
    account_id                     TEXT PRIMARY KEY REFERENCES accounts(id),
    minimum_password_length        BIGINT NOT NULL,
    require_symbols                INTEGER NOT NULL,
    require_numbers                INTEGER NOT NULL,
    require_uppercase_characters   INTEGER NOT NULL,
    require_lowercase_characters   INTEGER NOT NULL,
    allow_users_to_change_password INTEGER NOT NULL,
    max_password_age               BIGINT,
    password_reuse_prevention      BIGINT,
    hard_expiry                    INTEGER NOT NULL,
    updated_at                     TEXT NOT NULL
);

-- Every password a user set, newest with the highest seq: argon2id PHC
-- strings only. The newest row's set_at is when the password last
-- changed; only the newest 24 (IAM's largest reuse prevention) are kept.
CREATE TABLE password_history (
    user_id       TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    password_hash TEXT NOT NULL,
    set_at        TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
);

-- One alias per account, unique across the server (login accepts it in
-- place of the account id).
CREATE TABLE account_aliases (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    alias      TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
