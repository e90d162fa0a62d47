//! Generated reports kept in memory, per account: the credential report
//! (GenerateCredentialReport starts it, GetCredentialReport reads it), as
//! AWS keeps one per account, valid four hours. A report is recomputed
//! from the store on demand, so nothing of it needs to survive a restart;
//! each node keeps its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a report may be read (AWS: four hours).
pub const REPORT_VALIDITY: Duration = Duration::from_secs(4 * 3600);

/// A finished credential report: its rows, each with one cell per column.
#[derive(Debug)]
pub struct CredentialReport {
    /// ISO-8601, as GetCredentialReport's `GeneratedTime`.
    pub generated_time: String,
    pub generated_at: Instant,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub enum ReportSlot {
    InProgress,
    Complete(Arc<CredentialReport>),
}

#[derive(Clone, Default)]
pub struct CredentialReports {
    slots: Arc<Mutex<HashMap<String, ReportSlot>>>,
}

impl CredentialReports {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, ReportSlot>> {
        // A poisoned map still holds whole slots: each is replaced, never
        // edited in place.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, account_id: &str) -> Option<ReportSlot> {
        self.slots().get(account_id).cloned()
    }

    /// Marks a generation started unless one runs or a fresh report
    /// exists: returns what was there (None: the caller must generate).
    pub fn start(&self, account_id: &str) -> Option<ReportSlot> {
        let mut slots = self.slots();
        match slots.get(account_id) {
            Some(ReportSlot::InProgress) => Some(ReportSlot::InProgress),
            Some(ReportSlot::Complete(r)) if r.generated_at.elapsed() < REPORT_VALIDITY => {
                Some(ReportSlot::Complete(r.clone()))
            }
            _ => {
                slots.insert(account_id.to_string(), ReportSlot::InProgress);
                None
            }
        }
    }

    pub fn finish(&self, account_id: &str, report: Option<CredentialReport>) {
        let mut slots = self.slots();
        match report {
            Some(r) => {
                slots.insert(account_id.to_string(), ReportSlot::Complete(Arc::new(r)));
            }
            None => {
                slots.remove(account_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_generation_at_a_time_then_the_report() {
        let reports = CredentialReports::default();
        assert!(reports.start("a").is_none());
        assert!(matches!(reports.start("a"), Some(ReportSlot::InProgress)));
        reports.finish(
            "a",
            Some(CredentialReport {
                generated_time: "t".into(),
                generated_at: Instant::now(),
                rows: Vec::new(),
            }),
        );
        assert!(matches!(reports.start("a"), Some(ReportSlot::Complete(_))));
        assert!(reports.get("b").is_none());
        assert!(reports.start("b").is_none());
        reports.finish("b", None);
        assert!(reports.get("b").is_none());
    }
}
