-- The action catalog's registered services (POST /v1/services): a
-- platform's own action prefixes with their actions, access levels,
-- resource types and condition keys. One catalog for the whole server (not
-- per account): a platform's services are the same for every tenant
-- account, and every account's policies are linted against them. Built-in
-- services (iam, sts, latchkey) are code, not rows.
CREATE TABLE services (
    -- the action prefix, lower-cased (prefixes are case-insensitive)
    prefix      TEXT PRIMARY KEY,
    -- JSON {prefix, actions: [{name, access_level, resource_types,
    -- condition_keys}], condition_keys: [{name, type}]} as registered
    definition  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
