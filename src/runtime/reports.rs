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

/// A finished GenerateServiceLastAccessedDetails job.
#[derive(Debug)]
pub struct LastAccessedJob {
    pub account_id: String,
    /// `SERVICE_LEVEL` or `ACTION_LEVEL`.
    pub granularity: &'static str,
    pub created: String,
    pub services: Vec<ServiceLastAccessed>,
}

/// One service the entity's policies grant, with its last use.
#[derive(Debug, Clone)]
pub struct ServiceLastAccessed {
    pub service_name: String,
    pub namespace: String,
    pub last_authenticated: Option<String>,
    /// The user or role (ARN) of that last use.
    pub last_entity: Option<String>,
    /// How many of the entity's principals used the service.
    pub total_entities: i64,
    /// ACTION_LEVEL only: each granted action of the service.
    pub actions: Vec<ActionLastAccessed>,
}

#[derive(Debug, Clone)]
pub struct ActionLastAccessed {
    /// As the catalog spells it, without the prefix: `CreateUser`.
    pub action_name: String,
    pub last_accessed: Option<String>,
    pub last_entity: Option<String>,
}

/// Last-accessed jobs kept at most, over all accounts: the oldest goes
/// first (AWS keeps a job's result for some hours; a caller reads it soon
/// after generating it).
const MAX_JOBS: usize = 4096;

/// Finished last-accessed jobs by id (`iam::last_accessed`), generic so
/// that the floor does not know the operation's types.
pub struct Jobs<T> {
    inner: Arc<Mutex<JobMap<T>>>,
}

/// The jobs by id, and their ids oldest first.
type JobMap<T> = (HashMap<String, Arc<T>>, std::collections::VecDeque<String>);

impl<T> Clone for Jobs<T> {
    fn clone(&self) -> Self {
        Jobs {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Jobs<T> {
    fn default() -> Self {
        Jobs {
            inner: Default::default(),
        }
    }
}

impl<T> Jobs<T> {
    pub fn insert(&self, id: String, job: T) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (jobs, order) = &mut *guard;
        if jobs.len() >= MAX_JOBS {
            if let Some(oldest) = order.pop_front() {
                jobs.remove(&oldest);
            }
        }
        order.push_back(id.clone());
        jobs.insert(id, Arc::new(job));
    }

    pub fn get(&self, id: &str) -> Option<Arc<T>> {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.0.get(id).cloned()
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

    #[test]
    fn jobs_are_bounded_oldest_first() {
        let jobs: Jobs<u32> = Jobs::default();
        for i in 0..=MAX_JOBS {
            jobs.insert(i.to_string(), 1);
        }
        assert!(jobs.get("0").is_none());
        assert!(jobs.get("1").is_some());
        assert!(jobs.get(&MAX_JOBS.to_string()).is_some());
    }
}
