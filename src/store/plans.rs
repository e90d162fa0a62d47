//! The query plans that keep latchkey flat at scale (issue 20): every list
//! reads its page from an index in the list's own order (no full scan, no
//! sort of the whole match: page 1 and page 1,000 cost the same), every
//! documented audit filter, alone or combined, reads an index (no
//! `SCAN audit_events`), and the active-session count reads a bounded
//! range. [`violations`] asks SQLite for the plan of each (`EXPLAIN QUERY
//! PLAN`) and says what is wrong; the unit test below and
//! `tests/api/security/scale.rs` (on a running server's database) keep it
//! empty. SQLite's planner only: PostgreSQL plans by its statistics, and
//! the same indexes exist there (migrations/postgres).

use sqlx::{AssertSqlSafe, SqlitePool};

use super::audit::{list_audit_sql, AuditQuery};

/// The plan of `sql`, one line per step, with every `$N` bound to NULL (a
/// plan does not depend on the values, only on the statement). A statement
/// SQLite refuses (a missing table) is a one-step plan saying so.
async fn plan(pool: &SqlitePool, sql: &str) -> Vec<String> {
    plan_of(pool, sql)
        .await
        .unwrap_or_else(|e| vec![format!("SCAN nothing: {e}")])
}

async fn plan_of(pool: &SqlitePool, sql: &str) -> sqlx::Result<Vec<String>> {
    let params = count_params(sql);
    let mut q = sqlx::query_as::<_, (i64, i64, i64, String)>(AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {sql}"
    )));
    for _ in 0..params {
        q = q.bind(None::<String>);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect())
}

/// How many parameters `sql` takes: the highest `$N`.
fn count_params(sql: &str) -> usize {
    sql.match_indices('$')
        .filter_map(|(i, _)| {
            sql[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// The list queries: name, SQL.
fn list_queries() -> Vec<(&'static str, &'static str)> {
    vec![
        ("list users", super::users::LIST_USERS_SQL),
        (
            "list virtual MFA devices",
            super::mfa_devices::LIST_VIRTUAL_MFA_DEVICES_SQL,
        ),
        (
            "list a user's MFA devices",
            super::mfa_devices::LIST_USER_MFA_DEVICES_SQL,
        ),
        ("list roles", super::roles::LIST_ROLES_SQL),
        ("list groups", super::groups::LIST_GROUPS_SQL),
        ("list policies", super::policies::LIST_POLICIES_SQL),
        (
            "list instance profiles",
            super::instance_profiles::LIST_INSTANCE_PROFILES_SQL,
        ),
        (
            "list a role's instance profiles",
            super::instance_profiles::LIST_ROLE_INSTANCE_PROFILES_SQL,
        ),
        (
            "list a role's sessions",
            super::sessions::LIST_ROLE_SESSIONS_SQL,
        ),
        (
            "a principal's last accessed actions",
            super::last_accessed::LAST_ACCESSED_SQL,
        ),
        (
            "a user's last password change",
            super::last_accessed::LAST_PASSWORD_CHANGE_SQL,
        ),
        (
            "trim an account's last-accessed jobs",
            super::reports::TRIM_JOBS_SQL,
        ),
        ("purge last-accessed jobs", super::reports::PURGE_JOBS_SQL),
        (
            "list OIDC providers",
            super::oidc_providers::LIST_OIDC_PROVIDERS_SQL,
        ),
    ]
}

/// Every combination of the documented audit filters (principal, action,
/// resource_prefix, decision, start_time, end_time), as a tenant (its
/// account always filtered) and as the management account (every
/// account), on the first page and on a later one. The management
/// account's unfiltered list is left out: it reads the table newest first
/// and stops after a page, which is the right plan for it.
fn audit_queries() -> Vec<(String, AuditQuery)> {
    let names = [
        "principal",
        "action",
        "resource_prefix",
        "decision",
        "start_time",
        "end_time",
    ];
    let mut out = Vec::new();
    for mask in 0u32..(1 << names.len()) {
        for tenant in [true, false] {
            for later_page in [false, true] {
                if mask == 0 && !tenant {
                    continue;
                }
                let on = |i: usize| (mask & (1 << i) != 0).then(|| "x".to_string());
                let q = AuditQuery {
                    account_id: tenant.then(|| "123456789012".to_string()),
                    principal: on(0),
                    action: on(1),
                    resource_prefix: on(2),
                    decision: on(3),
                    start_time: on(4),
                    end_time: on(5),
                    before_id: later_page.then_some(1000),
                    max_items: 100,
                };
                let filters: Vec<&str> = (0..names.len())
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| names[i])
                    .collect();
                let label = format!(
                    "audit events as {} filtered by [{}]{}",
                    if tenant { "a tenant" } else { "management" },
                    filters.join(", "),
                    if later_page { ", a later page" } else { "" }
                );
                out.push((label, q));
            }
        }
    }
    out
}

/// What is wrong with the plans of the list queries, the audit filters and
/// the active-session count on this database: one line per problem, empty
/// when every plan is flat.
pub async fn violations(pool: &SqlitePool) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, sql) in list_queries() {
        let steps = plan(pool, sql).await;
        for step in &steps {
            if step.starts_with("SCAN ") || step.contains("TEMP B-TREE") {
                problems.push(format!("{name}: {step} (plan: {steps:?})"));
            }
        }
    }
    for (name, q) in audit_queries() {
        let (sql, _) = list_audit_sql(&q);
        let steps = plan(pool, &sql).await;
        for step in &steps {
            if step.starts_with("SCAN audit_events") || step.starts_with("SCAN nothing") {
                problems.push(format!("{name}: {step} (plan: {steps:?})"));
            }
        }
    }
    let steps = plan(pool, super::sessions::COUNT_ACTIVE_SESSIONS_SQL).await;
    for step in &steps {
        // Both ends of the expiry range bound the read of role_sessions.
        let unbounded_sessions = step.contains("role_sessions")
            && !(step.contains("expires_at>?") && step.contains("expires_at<?"));
        if (step.starts_with("SCAN ") && step != "SCAN CONSTANT ROW") || unbounded_sessions {
            problems.push(format!("active session count: {step} (plan: {steps:?})"));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_by_their_highest_number() {
        assert_eq!(count_params("a = $1 AND b = $2"), 2);
        assert_eq!(count_params("a = $1 AND b = $3 AND c = $1"), 3);
        assert_eq!(count_params("a = 1"), 0);
    }

    #[test]
    fn every_audit_filter_combination_is_checked() {
        // 64 combinations x (tenant, management) x (first, later page),
        // without the management account's unfiltered pages.
        assert_eq!(audit_queries().len(), 64 * 4 - 2);
    }

    #[tokio::test]
    async fn every_list_and_audit_filter_reads_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::Store::open(&dir.path().join("t.db"))
            .await
            .unwrap();
        let problems = violations(store.sqlite_pool().unwrap()).await;
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
