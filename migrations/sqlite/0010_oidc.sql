-- OpenID Connect identity providers (AssumeRoleWithWebIdentity), IAM
-- entities of an account as in AWS. `url` is the issuer without its
-- scheme and without a trailing slash (`token.actions.githubusercontent.com`,
-- `gitlab.example.com/group`): the ARN's suffix and the prefix of the
-- condition keys. Tags live in `tags` under the provider's id.
-- latchkey's additions: where the signing keys come from (`key_source`:
-- 'discovery' reads https://URL/.well-known/openid-configuration,
-- 'jwks_uri' reads `jwks_uri`, 'static' uses `jwks_json` and never fetches),
-- a CA bundle (PEM) for a private issuer's TLS, and the extra claims
-- exposed as condition keys (JSON array of names).
CREATE TABLE oidc_providers (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    url           TEXT NOT NULL,
    client_ids    TEXT NOT NULL DEFAULT '[]',
    thumbprints   TEXT NOT NULL DEFAULT '[]',
    key_source    TEXT NOT NULL,
    jwks_uri      TEXT,
    jwks_json     TEXT,
    ca_bundle_pem TEXT,
    extra_claims  TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    UNIQUE (account_id, url)
);
