//! The multi-row INSERT of audit records, shared by the audit queue's
//! writer and a SQLite batch's commit (`group.rs`). A file of its own,
//! importing nothing of the store, so that the batch can write its
//! members' records without `group.rs` and `audit.rs` importing each other.

use std::sync::LazyLock;

use sqlx::{PgConnection, SqliteConnection};

use crate::domain::audit::AuditEvent;

/// Rows per multi-row INSERT: 12 parameters each, well under SQLite's
/// 32766 parameters per statement (and PostgreSQL's 65535). A power of two
/// (see [`insert_sql`]).
const ROWS_PER_INSERT: usize = 128;

/// Columns an INSERT of the audit queue binds per row.
const COLUMNS_INSERTED: usize = 12;

/// How a dialect writes the `n`th (1-based) bound parameter.
#[derive(Clone, Copy)]
enum Placeholders {
    /// SQLite: anonymous `?`. A named or numbered parameter (`$1`, `?1`)
    /// costs a linear search of the statement's parameter names for every
    /// bind (`sqlite3_bind_parameter_name`, which sqlx calls per argument):
    /// quadratic in the 1,536 parameters of a 128-row INSERT, which made
    /// the writer spend ~40 µs per row and drop most decisions under load.
    Anonymous,
    /// PostgreSQL: `$1`, `$2`, ...
    Numbered,
}

/// The INSERT of `rows` rows (a power of two up to [`ROWS_PER_INSERT`])
/// in a dialect, built once: the queue writer runs it for every 128 events.
fn insert_sql(rows: usize, placeholders: Placeholders) -> &'static str {
    fn build(placeholders: Placeholders) -> Vec<String> {
        (0..=ROWS_PER_INSERT.ilog2())
            .map(|shift| {
                let values: Vec<String> = (0..1usize << shift)
                    .map(|row| {
                        let params: Vec<String> = (1..=COLUMNS_INSERTED)
                            .map(|col| match placeholders {
                                Placeholders::Anonymous => "?".to_string(),
                                Placeholders::Numbered => {
                                    format!("${}", row * COLUMNS_INSERTED + col)
                                }
                            })
                            .collect();
                        format!("({})", params.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO audit_events (event_time, request_id, account_id, principal_arn,
                         access_key_id, action, resource, decision, error_code, source_ip,
                         user_agent, params) VALUES {}",
                    values.join(", ")
                )
            })
            .collect()
    }
    static SQLITE: LazyLock<Vec<String>> = LazyLock::new(|| build(Placeholders::Anonymous));
    static POSTGRES: LazyLock<Vec<String>> = LazyLock::new(|| build(Placeholders::Numbered));
    let shapes = match placeholders {
        Placeholders::Anonymous => &SQLITE,
        Placeholders::Numbered => &POSTGRES,
    };
    &shapes[rows.ilog2() as usize]
}

/// Binds each event's columns (moved, not copied), in the order of
/// [`insert_sql`]; a macro so that it serves both drivers' queries.
macro_rules! bind_events {
    ($query:expr, $events:expr) => {{
        let mut q = $query;
        for e in $events {
            q = q
                .bind(e.event_time)
                .bind(e.request_id)
                .bind(e.account_id)
                .bind(e.principal_arn)
                .bind(e.access_key_id)
                .bind(e.action)
                .bind(e.resource)
                .bind(e.decision)
                .bind(e.error_code)
                .bind(e.source_ip)
                .bind(e.user_agent)
                .bind(e.params);
        }
        q
    }};
}

/// Inserts `events` in statements of up to [`ROWS_PER_INSERT`] rows: full
/// chunks, then the remainder in power-of-two chunks, so that every
/// statement has one of eight shapes, each prepared once and cached (a
/// statement per remainder size would be prepared anew for nearly every
/// batch). The events are moved into the statement's arguments (bound by
/// reference, each string would be copied once more). A macro, so that it
/// serves both drivers.
macro_rules! insert_events {
    ($conn:expr, $events:expr, $placeholders:expr) => {{
        let mut left = $events.len();
        let mut events = $events.into_iter();
        while left > 0 {
            let rows = if left >= ROWS_PER_INSERT {
                ROWS_PER_INSERT
            } else {
                1 << left.ilog2()
            };
            left -= rows;
            let chunk = events.by_ref().take(rows);
            bind_events!(sqlx::query(insert_sql(rows, $placeholders)), chunk)
                .persistent(true)
                .execute(&mut *$conn)
                .await?;
        }
        Ok(())
    }};
}

pub(super) async fn insert_sqlite(
    conn: &mut SqliteConnection,
    events: Vec<AuditEvent>,
) -> sqlx::Result<()> {
    insert_events!(conn, events, Placeholders::Anonymous)
}

pub(super) async fn insert_postgres(
    conn: &mut PgConnection,
    events: Vec<AuditEvent>,
) -> sqlx::Result<()> {
    insert_events!(conn, events, Placeholders::Numbered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_insert_shape_binds_its_rows() {
        for shift in 0..=ROWS_PER_INSERT.ilog2() {
            let rows = 1usize << shift;
            let params = rows * COLUMNS_INSERTED;
            let postgres = insert_sql(rows, Placeholders::Numbered);
            assert_eq!(postgres.matches('$').count(), params);
            assert!(postgres.ends_with(&format!("${params})")), "{rows} rows");
            let sqlite = insert_sql(rows, Placeholders::Anonymous);
            assert_eq!(sqlite.matches('?').count(), params);
            assert!(!sqlite.contains('$'));
        }
    }
}
