-- PostgreSQL twin of ../sqlite/0011_account_settings.sql (see the comments there).
CREATE TABLE password_policies (
    account_id                     TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id),
    minimum_password_length        BIGINT NOT NULL,
    require_symbols                BOOLEAN NOT NULL,
    require_numbers                BOOLEAN NOT NULL,
    require_uppercase_characters   BOOLEAN NOT NULL,
    require_lowercase_characters   BOOLEAN NOT NULL,
    allow_users_to_change_password BOOLEAN NOT NULL,
    max_password_age               BIGINT,
    password_reuse_prevention      BIGINT,
    hard_expiry                    BOOLEAN NOT NULL,
    updated_at                     TEXT COLLATE "C" NOT NULL
);

CREATE TABLE password_history (
    user_id       TEXT COLLATE "C" NOT NULL,
    seq           BIGINT NOT NULL,
    password_hash TEXT COLLATE "C" NOT NULL,
    set_at        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, seq)
);

CREATE TABLE account_aliases (
    account_id TEXT COLLATE "C" PRIMARY KEY REFERENCES accounts(id),
    alias      TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
);
