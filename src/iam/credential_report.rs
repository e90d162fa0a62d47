//! The credential report: one CSV row per user (the account root first)
//! with its password, MFA, access-key and certificate state, in AWS's
//! columns and conventions. GenerateCredentialReport starts it in the
//! background (STARTED, then COMPLETE), GetCredentialReport reads it; it
//! is kept in the database, one per account, valid four hours
//! (`store::reports`), so any node answers for a report another node
//! generated.
//!
//! Conventions (AWS's): times ISO-8601 with `+00:00`; `N/A` where a value
//! cannot exist (no password, no key, a key never used: its region and
//! service), `no_information` where it exists but is unknown (a password
//! never used to sign in), `not_supported` for the root's password cells.
//! `password_next_rotation` follows the account password policy's maximum
//! age (`N/A` without one). `mfa_active` is true for a user with a virtual
//! MFA device enabled (the root has none here). Latchkey has no signing
//! certificates: those cells are `false` and `N/A`.

use super::authorize;
use crate::auth::Caller;
use crate::domain::{now, AccessKey, Arn, User};
use crate::error::{ApiError, ApiResult};
use crate::state::OpContext;
use crate::store::ListParams;

/// How long a report may be read, in milliseconds (AWS: four hours).
pub const REPORT_VALIDITY_MS: i64 = 4 * 3600 * 1000;

/// A generation that has not completed after this long is taken for dead
/// (its node stopped) and the next GenerateCredentialReport starts over.
/// Far above what a report of AWS's 5,000-user quota takes; a generation
/// that still finishes after it finds its claim taken and is dropped.
const GENERATION_TIMEOUT_MS: i64 = 10 * 60 * 1000;

/// A finished credential report: its rows, each with one cell per column.
#[derive(Debug)]
pub struct CredentialReport {
    /// ISO-8601, as GetCredentialReport's `GeneratedTime`.
    pub generated_time: String,
    pub rows: Vec<Vec<String>>,
}

pub(crate) fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
}

pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// What GenerateCredentialReport answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenerationState {
    Started,
    InProgress,
    Complete,
}

impl GenerationState {
    pub fn wire_name(self) -> &'static str {
        match self {
            GenerationState::Started => "STARTED",
            GenerationState::InProgress => "INPROGRESS",
            GenerationState::Complete => "COMPLETE",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            GenerationState::Started => "No report exists. Starting a new report generation task",
            GenerationState::InProgress => "Report generation task is in progress",
            GenerationState::Complete => "Report is complete and available",
        }
    }
}

pub async fn generate_credential_report(
    state: &OpContext,
    caller: &Caller,
) -> ApiResult<GenerationState> {
    authorize(state, caller, "iam:GenerateCredentialReport", "*").await?;
    let account = caller.account_id.clone();
    let store = &state.store;
    let now = now_ms();
    // A read decides the usual answers; only a generation to start writes.
    // Two tries: a claim lost to a generation that then failed and was
    // forgotten leaves no row to answer from.
    for _ in 0..2 {
        match store.credential_report(&account).await? {
            Some(r) if r.state == "STARTED" && r.started_ms > now - GENERATION_TIMEOUT_MS => {
                return Ok(GenerationState::InProgress)
            }
            Some(r)
                if r.state == "COMPLETE"
                    && r.generated_ms.is_some_and(|t| t > now - REPORT_VALIDITY_MS) =>
            {
                return Ok(GenerationState::Complete)
            }
            _ => {}
        }
        let claim = uuid::Uuid::new_v4().to_string();
        if store
            .claim_credential_report(
                &account,
                &claim,
                now,
                now - GENERATION_TIMEOUT_MS,
                now - REPORT_VALIDITY_MS,
            )
            .await?
        {
            let context = state.clone();
            tokio::spawn(async move { generate(&context, &account, &claim).await });
            return Ok(GenerationState::Started);
        }
    }
    Ok(GenerationState::InProgress)
}

/// Builds the report of the generation `claim` and completes it; on a
/// failure, forgets it so that the next Generate starts over.
async fn generate(state: &OpContext, account: &str, claim: &str) {
    let store = &state.store;
    let done = match build_report(state, account).await {
        Ok(report) => match serde_json::to_string(&report.rows) {
            Ok(content) => store
                .complete_credential_report(
                    account,
                    claim,
                    now_ms(),
                    &report.generated_time,
                    &content,
                )
                .await
                .map(|_| ())
                .map_err(ApiError::from),
            Err(e) => Err(ApiError::Unexpected(e.into())),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = done {
        tracing::error!(account_id = %account, error = ?e, "credential report failed");
        if let Err(e) = store.abandon_credential_report(account, claim).await {
            tracing::warn!(account_id = %account, error = ?e, "forgetting a failed credential report failed");
        }
    }
}

pub async fn get_credential_report(
    state: &OpContext,
    caller: &Caller,
) -> ApiResult<CredentialReport> {
    authorize(state, caller, "iam:GetCredentialReport", "*").await?;
    let row = state.store.credential_report(&caller.account_id).await?;
    let not_present = || ApiError::Report {
        code: "ReportNotPresent",
        status: 410,
        message:
            "Credential report not present. Use GenerateCredentialReport to generate a report."
                .into(),
    };
    let Some(row) = row else {
        return Err(not_present());
    };
    let (Some(generated_ms), Some(generated_time), Some(content)) =
        (row.generated_ms, row.generated_time, row.content)
    else {
        return Err(ApiError::Report {
            code: "ReportInProgress",
            status: 404,
            message: "Credential report generation is in progress; try again shortly.".into(),
        });
    };
    if generated_ms <= now_ms() - REPORT_VALIDITY_MS {
        return Err(ApiError::Report {
            code: "ReportExpired",
            status: 410,
            message: "The credential report has expired. Use GenerateCredentialReport to generate a new one.".into(),
        });
    }
    let rows = serde_json::from_str(&content).map_err(|e| ApiError::Unexpected(e.into()))?;
    Ok(CredentialReport {
        generated_time,
        rows,
    })
}

/// The report as CSV text: AWS's header, then the rows.
pub fn to_csv(report: &CredentialReport) -> String {
    let mut out = COLUMNS.join(",");
    for row in &report.rows {
        out.push('\n');
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
    }
    out
}

/// IAM names may hold a comma: such a cell is quoted.
fn csv_cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// `2026-12-02T16:42:41Z` (or with milliseconds) as AWS writes it in the
/// report: `2026-12-02T16:42:41+00:00`.
fn report_time(stored: &str) -> String {
    match stored.get(..19) {
        Some(seconds) => format!("{seconds}+00:00"),
        None => stored.to_string(),
    }
}

fn opt_time(stored: Option<&str>, absent: &str) -> String {
    stored.map_or_else(|| absent.to_string(), report_time)
}

/// The five cells of one access key slot.
fn key_cells(key: Option<&AccessKey>) -> [String; 5] {
    match key {
        None => [
            "false".into(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
            "N/A".into(),
        ],
        Some(k) => [
            (k.status == "Active").to_string(),
            report_time(&k.created_at),
            opt_time(k.last_used_at.as_deref(), "N/A"),
            k.last_used_region.clone().unwrap_or_else(|| "N/A".into()),
            k.last_used_service.clone().unwrap_or_else(|| "N/A".into()),
        ],
    }
}

fn row(head: [String; 8], keys: &[AccessKey]) -> Vec<String> {
    let mut cells: Vec<String> = head.into();
    cells.extend(key_cells(keys.first()));
    cells.extend(key_cells(keys.get(1)));
    cells.extend(["false", "N/A", "false", "N/A"].map(String::from));
    cells
}

/// When a password set at `set_at` must change under a maximum age.
fn next_rotation(set_at: &str, max_age_days: Option<i64>) -> String {
    let parsed = time::PrimitiveDateTime::parse(
        set_at.get(..19).unwrap_or(set_at),
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
    );
    match (max_age_days, parsed) {
        (Some(days), Ok(t)) => report_time(&crate::domain::format_time(
            t.assume_utc() + time::Duration::days(days),
        )),
        _ => "N/A".into(),
    }
}

async fn user_row(
    state: &OpContext,
    user: &User,
    max_age_days: Option<i64>,
    with_mfa: &[String],
) -> ApiResult<Vec<String>> {
    let store = &state.store;
    let arn = user.arn().to_string();
    let profile = store.get_login_profile(&user.id).await?;
    let (enabled, last_used, last_changed, next) = match &profile {
        None => ("false".into(), "N/A".into(), "N/A".into(), "N/A".into()),
        Some(p) => {
            let used = store.last_accessed_action(&arn, "sts:login").await?;
            // The password history knows; a password set before it was
            // kept is dated by the audit trail, else by its profile.
            let changed = match store.password_set_at(&user.id).await? {
                Some(t) => t,
                None => store
                    .last_password_change(&arn)
                    .await?
                    .unwrap_or_else(|| p.created_at.clone()),
            };
            (
                "true".to_string(),
                opt_time(used.as_deref(), "no_information"),
                report_time(&changed),
                next_rotation(&changed, max_age_days),
            )
        }
    };
    let keys = store.list_user_access_keys(&user.id).await?;
    Ok(row(
        [
            user.name.clone(),
            arn,
            report_time(&user.created_at),
            enabled,
            last_used,
            last_changed,
            next,
            with_mfa.contains(&user.id).to_string(),
        ],
        &keys,
    ))
}

async fn build_report(state: &OpContext, account_id: &str) -> ApiResult<CredentialReport> {
    let store = &state.store;
    let generated_time = now();
    let created = store
        .get_account(account_id)
        .await?
        .map_or_else(|| generated_time.clone(), |a| a.created_at);
    let root_arn = Arn::root(account_id).to_string();
    let root_login = store.last_accessed_action(&root_arn, "sts:login").await?;
    let mut rows = vec![row(
        [
            "<root_account>".into(),
            root_arn,
            report_time(&created),
            "not_supported".into(),
            opt_time(root_login.as_deref(), "no_information"),
            "not_supported".into(),
            "not_supported".into(),
            "false".into(),
        ],
        &store.list_root_access_keys(account_id).await?,
    )];
    let max_age_days = store
        .get_password_policy(account_id)
        .await?
        .and_then(|p| p.max_password_age);
    let with_mfa = store.users_with_mfa(account_id).await?;
    let mut after = String::new();
    loop {
        let params = ListParams {
            path_prefix: "/".into(),
            after: after.clone(),
            max_items: 1000,
        };
        let page = store.list_users(account_id, &params).await?;
        for user in &page.items {
            rows.push(user_row(state, user, max_age_days, &with_mfa).await?);
        }
        match (page.is_truncated, page.items.last()) {
            (true, Some(last)) => after = last.name.to_ascii_lowercase(),
            _ => break,
        }
    }
    Ok(CredentialReport {
        generated_time,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_follow_aws_conventions() {
        assert_eq!(
            report_time("2026-12-02T16:42:41Z"),
            "2026-12-02T16:42:41+00:00"
        );
        assert_eq!(
            report_time("2026-12-02T16:42:41.123Z"),
            "2026-12-02T16:42:41+00:00"
        );
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("plain"), "plain");
        let r = row(Default::default(), &[]);
        assert_eq!(r.len(), COLUMNS.len());
        assert_eq!(&r[8..13], ["false", "N/A", "N/A", "N/A", "N/A"]);
        assert_eq!(
            next_rotation("2026-12-02T16:42:41.5Z", Some(90)),
            "2027-03-02T16:42:41+00:00"
        );
        assert_eq!(next_rotation("2026-12-02T16:42:41Z", None), "N/A");
    }
}
