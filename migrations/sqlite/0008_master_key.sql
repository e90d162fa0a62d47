-- The check value of the master key the stored secrets are sealed under:
-- HMAC-SHA256(key, "latchkey master key check v1"), first 16 hex digits.
-- It names the key without revealing it, so that a server started with
-- another key refuses at once (instead of failing on every secret), and a
-- restore refuses a copy sealed under another key. Written at first start,
-- changed only when a rotation has re-sealed every secret.
CREATE TABLE master_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_check  TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
