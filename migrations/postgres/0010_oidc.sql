-- OpenID Connect identity providers; see migrations/sqlite/0010_oidc.sql.
CREATE TABLE oidc_providers (
    id            TEXT COLLATE "C" PRIMARY KEY,
    account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts(id),
    url           TEXT COLLATE "C" NOT NULL,
    client_ids    TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    thumbprints   TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    key_source    TEXT COLLATE "C" NOT NULL,
    jwks_uri      TEXT COLLATE "C",
    jwks_json     TEXT COLLATE "C",
    ca_bundle_pem TEXT COLLATE "C",
    extra_claims  TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_at    TEXT COLLATE "C" NOT NULL,
    UNIQUE (account_id, url)
);
