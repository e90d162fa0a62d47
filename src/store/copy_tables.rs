//! The tables `latchkey store copy` moves (see `copy.rs`), each with its
//! columns and how it moves. Every table of the schema is here: a source
//! table or column this list does not know stops the copy before anything
//! is written, so a table added by a migration is never silently left
//! behind. A new table goes into [`TABLES`] with its migration, in
//! foreign-key order, with the same columns.

use std::collections::BTreeMap;

use anyhow::bail;

/// How a column is read and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// INTEGER on SQLite; BIGINT (or INTEGER) on PostgreSQL.
    Int,
    /// 0/1 on SQLite; BOOLEAN on PostgreSQL.
    Bool,
    /// BLOB on SQLite; BYTEA on PostgreSQL.
    Bytes,
}

/// What the copy does with a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// Every row copied; the target's must be empty.
    Copy,
    /// Copied with its ids; then the target's identity sequence of that
    /// column is moved past the largest id, so new rows never collide.
    CopyWithIdentity(&'static str),
    /// The master key's check value: copied when the target has none (the
    /// command has checked that a target's own one is the same).
    KeyCheck,
    /// Rows the migrations write themselves (a gate, a probe row): not
    /// copied, their counts must match.
    Fixed,
    /// Kept by triggers on other tables, so rebuilt on the target by the
    /// copied rows' inserts. `check` (PostgreSQL) counts the target's rows
    /// that disagree with what they count; it must return 0.
    Derived { check: &'static str },
    /// The migrator's own record; the target has its own.
    Migrations,
}

pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    pub handling: Handling,
}

use Kind::{Bool, Bytes, Int, Text};

const fn table(
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    handling: Handling,
) -> Table {
    Table {
        name,
        columns,
        handling,
    }
}

/// The whole schema, parents before children (the copy inserts in this
/// order). A new table goes here with its migration.
pub const TABLES: &[Table] = &[
    table(
        "accounts",
        &[
            ("id", Text),
            ("name", Text),
            ("is_management", Bool),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "users",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("permissions_boundary", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "groups",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "group_members",
        &[("group_id", Text), ("user_id", Text), ("added_at", Text)],
        Handling::Copy,
    ),
    table(
        "roles",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("trust_policy", Text),
            ("description", Text),
            ("max_session_duration", Int),
            ("permissions_boundary", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("last_used_region", Text),
            ("sessions_revoked_before", Text),
        ],
        Handling::Copy,
    ),
    table(
        "managed_policies",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("arn", Text),
            ("description", Text),
            ("default_version_id", Text),
            ("next_version", Int),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "policy_versions",
        &[
            ("policy_id", Text),
            ("version_id", Text),
            ("document", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "user_inline_policies",
        &[("user_id", Text), ("name", Text), ("document", Text)],
        Handling::Copy,
    ),
    table(
        "group_inline_policies",
        &[("group_id", Text), ("name", Text), ("document", Text)],
        Handling::Copy,
    ),
    table(
        "role_inline_policies",
        &[("role_id", Text), ("name", Text), ("document", Text)],
        Handling::Copy,
    ),
    table(
        "user_attached_policies",
        &[("user_id", Text), ("policy_id", Text)],
        Handling::Copy,
    ),
    table(
        "group_attached_policies",
        &[("group_id", Text), ("policy_id", Text)],
        Handling::Copy,
    ),
    table(
        "role_attached_policies",
        &[("role_id", Text), ("policy_id", Text)],
        Handling::Copy,
    ),
    table(
        "tags",
        &[
            ("entity_id", Text),
            ("key", Text),
            ("key_lower", Text),
            ("value", Text),
        ],
        Handling::Copy,
    ),
    table(
        "access_keys",
        &[
            ("access_key_id", Text),
            ("account_id", Text),
            ("user_id", Text),
            ("secret_ciphertext", Bytes),
            ("status", Text),
            ("created_at", Text),
            ("last_used_at", Text),
            ("last_used_service", Text),
            ("last_used_region", Text),
        ],
        Handling::Copy,
    ),
    table(
        "login_profiles",
        &[
            ("user_id", Text),
            ("password_hash", Text),
            ("password_reset_required", Bool),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "role_sessions",
        &[
            ("access_key_id", Text),
            ("account_id", Text),
            ("role_id", Text),
            ("user_id", Text),
            ("session_name", Text),
            ("issuer_arn", Text),
            ("secret_ciphertext", Bytes),
            ("token_sha256", Text),
            ("session_policies", Text),
            ("tags", Text),
            ("transitive_tag_keys", Text),
            ("source_identity", Text),
            ("chained", Bool),
            ("issued_at", Text),
            ("expires_at", Text),
            ("revoked_at", Text),
            ("mfa_authenticated_at", Text),
            ("issued_by", Text),
        ],
        Handling::Copy,
    ),
    // Rebuilt by role_sessions' insert trigger (migration 0007). Minutes
    // whose sessions all ended keep a row of 0 on the source; the target
    // has none of those, so only the non-zero counts are compared.
    table(
        "session_expiry_minutes",
        &[("minute", Text), ("live", Int)],
        Handling::Derived {
            check: "SELECT COUNT(*) FROM (
                        SELECT substr(expires_at, 1, 16) AS minute, COUNT(*) AS live
                        FROM role_sessions WHERE revoked_at IS NULL
                        GROUP BY substr(expires_at, 1, 16)
                    ) s
                    FULL JOIN (SELECT minute, live FROM session_expiry_minutes WHERE live <> 0) m
                    ON s.minute = m.minute
                    WHERE s.live IS DISTINCT FROM m.live",
        },
    ),
    // Only BEFORE UPDATE and BEFORE DELETE triggers guard the trail:
    // inserts, the copy's included, pass.
    table(
        "audit_events",
        &[
            ("id", Int),
            ("event_time", Text),
            ("request_id", Text),
            ("account_id", Text),
            ("principal_arn", Text),
            ("access_key_id", Text),
            ("action", Text),
            ("resource", Text),
            ("decision", Text),
            ("error_code", Text),
            ("source_ip", Text),
            ("user_agent", Text),
            ("params", Text),
        ],
        Handling::CopyWithIdentity("id"),
    ),
    table("audit_retention_gate", &[("open", Int)], Handling::Fixed),
    // Rebuilt by audit_events' insert trigger (migration 0012) as the
    // copy inserts the trail; each row must name its principal's newest
    // allowed event of that action.
    table(
        "last_accessed",
        &[
            ("principal", Text),
            ("action", Text),
            ("event_id", Int),
            ("event_time", Text),
            ("principal_arn", Text),
        ],
        Handling::Derived {
            check: "SELECT COUNT(*) FROM (
                        SELECT last_accessed_principal(principal_arn) AS principal,
                               lower(action) AS action, MAX(id) AS event_id
                        FROM audit_events
                        WHERE decision = 'allowed' AND principal_arn IS NOT NULL
                        GROUP BY 1, 2
                    ) e
                    FULL JOIN last_accessed l
                    ON e.principal = l.principal AND e.action = l.action
                    WHERE e.event_id IS DISTINCT FROM l.event_id",
        },
    ),
    table(
        "services",
        &[
            ("prefix", Text),
            ("definition", Text),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "service_principals",
        &[("name", Text), ("description", Text), ("created_at", Text)],
        Handling::Copy,
    ),
    table(
        "instance_profiles",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("name_lower", Text),
            ("path", Text),
            ("role_id", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "workloads",
        &[
            ("id", Text),
            ("account_id", Text),
            ("name", Text),
            ("instance_profile_id", Text),
            ("service", Text),
            ("token_sha256", Text),
            ("token_ttl_seconds", Int),
            ("token_expires_at", Text),
            ("source_cidrs", Text),
            ("created_by", Text),
            ("created_at", Text),
            ("token_issued_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "workload_sessions",
        &[
            ("access_key_id", Text),
            ("workload_id", Text),
            ("issued_at", Text),
            ("expires_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "write_probe",
        &[("id", Int), ("probed_at", Text)],
        Handling::Fixed,
    ),
    // Migration 0009: the change counter starts afresh on the target (nodes
    // compare it only with what they read themselves); the first-start
    // claim and the sign-in failures move with the rest.
    table(
        "coherence",
        &[("id", Int), ("generation", Int), ("catalog", Int)],
        Handling::Fixed,
    ),
    table(
        "bootstrap",
        &[("id", Int), ("account_id", Text)],
        Handling::Copy,
    ),
    table(
        "login_failures",
        &[("name", Text), ("failures", Int), ("last_failure_ms", Int)],
        Handling::Copy,
    ),
    // Migration 0011: the account password policy, password history and
    // account aliases.
    table(
        "password_policies",
        &[
            ("account_id", Text),
            ("minimum_password_length", Int),
            ("require_symbols", Bool),
            ("require_numbers", Bool),
            ("require_uppercase_characters", Bool),
            ("require_lowercase_characters", Bool),
            ("allow_users_to_change_password", Bool),
            ("max_password_age", Int),
            ("password_reuse_prevention", Int),
            ("hard_expiry", Bool),
            ("updated_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "password_history",
        &[
            ("user_id", Text),
            ("seq", Int),
            ("password_hash", Text),
            ("set_at", Text),
        ],
        Handling::Copy,
    ),
    table(
        "account_aliases",
        &[("account_id", Text), ("alias", Text), ("created_at", Text)],
        Handling::Copy,
    ),
    table(
        "master_key",
        &[("id", Int), ("key_check", Text), ("updated_at", Text)],
        Handling::KeyCheck,
    ),
    // Migration 0010: OpenID Connect providers (their tags are in `tags`).
    table(
        "oidc_providers",
        &[
            ("id", Text),
            ("account_id", Text),
            ("url", Text),
            ("client_ids", Text),
            ("thumbprints", Text),
            ("key_source", Text),
            ("jwks_uri", Text),
            ("jwks_json", Text),
            ("ca_bundle_pem", Text),
            ("extra_claims", Text),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    // Migration 0013: virtual MFA devices (their tags are in `tags`).
    table(
        "mfa_devices",
        &[
            ("serial", Text),
            ("account_id", Text),
            ("name", Text),
            ("path", Text),
            ("seed_ciphertext", Bytes),
            ("user_id", Text),
            ("enabled_at", Text),
            ("last_step", Int),
            ("step_offset", Int),
            ("created_at", Text),
        ],
        Handling::Copy,
    ),
    // Migration 0014: generated reports. A report copied is as valid on
    // the target as it was on the source (its times are absolute).
    table(
        "credential_reports",
        &[
            ("account_id", Text),
            ("state", Text),
            ("claim", Text),
            ("started_ms", Int),
            ("generated_ms", Int),
            ("generated_time", Text),
            ("content", Text),
        ],
        Handling::Copy,
    ),
    table(
        "last_accessed_jobs",
        &[
            ("job_id", Text),
            ("account_id", Text),
            ("arn", Text),
            ("granularity", Text),
            ("status", Text),
            ("created_at", Text),
            ("completed_at", Text),
            ("created_ms", Int),
            ("result", Text),
        ],
        Handling::Copy,
    ),
    table(
        "_sqlx_migrations",
        &[
            ("version", Int),
            ("description", Text),
            ("installed_on", Text),
            ("success", Bool),
            ("checksum", Bytes),
            ("execution_time", Int),
        ],
        Handling::Migrations,
    ),
];

/// Checks the source's tables and columns against [`TABLES`]: a table or a
/// column the list does not know, or one it names that the source lacks,
/// stops the copy, named.
pub fn check_schema(source: &BTreeMap<String, Vec<String>>) -> anyhow::Result<()> {
    for name in source.keys() {
        if !TABLES.iter().any(|t| t.name == name) {
            bail!(
                "the source has a table `{name}` that `latchkey store copy` does not know: refusing rather than leaving it behind (add it to TABLES in src/store/copy_tables.rs)"
            );
        }
    }
    for t in TABLES {
        let Some(columns) = source.get(t.name) else {
            bail!(
                "the source has no table `{}`: not a latchkey database of this version",
                t.name
            );
        };
        let known: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        for c in columns {
            if !known.contains(&c.as_str()) {
                bail!(
                    "the source's table `{}` has a column `{c}` that `latchkey store copy` does not know (add it to TABLES in src/store/copy_tables.rs)",
                    t.name
                );
            }
        }
        if let Some(missing) = known.iter().find(|k| !columns.iter().any(|c| c == *k)) {
            bail!("the source's table `{}` has no column `{missing}`", t.name);
        }
    }
    Ok(())
}
