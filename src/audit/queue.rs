//! The bounded audit queue: events that are not part of a mutation are
//! handed to a background task that writes them in batches, one
//! transaction per batch, so that `/v1/authorize` never waits on SQLite.
//! A full queue drops the event: counted in a metric and logged (at most
//! every few seconds), never silently. [`AuditLog::shutdown`] flushes what
//! is queued.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::AuditEvent;
use crate::domain::format_time_ms;
use crate::runtime::metrics::Metrics;
use crate::store::audit_writer::AuditWriter;
use crate::store::{CarriesStoreError as _, Store};

/// Most events written in one transaction.
const BATCH: usize = 1024;
/// How long the writer lets events gather after the first of a batch
/// arrives, unless a flush waits for them. Without it an idle writer wakes
/// (a cross-thread wake-up) and commits a transaction for nearly every
/// event at moderate rates: the fixed cost per transaction and per wake-up,
/// paid on the cores that serve requests, outweighs the rows.
const LINGER: Duration = Duration::from_millis(20);
/// Least time between two "queue full" warnings.
const WARN_EVERY: Duration = Duration::from_secs(10);
/// While the disk refuses writes, a batch is retried after these waits
/// (doubling from the first to the longest) for at most this long in all;
/// the queue meanwhile fills and drops, counted, what does not fit.
const STORAGE_RETRY_FIRST: Duration = Duration::from_millis(100);
const STORAGE_RETRY_MAX: Duration = Duration::from_secs(2);
const STORAGE_RETRY_FOR: Duration = Duration::from_secs(30);

/// What the queue carries: events, and flush requests that are answered
/// once every event queued before them is written.
// Events are nearly every message: boxing them would cost an allocation
// each to save space only on the rare flush.
#[allow(clippy::large_enum_variant)]
enum Msg {
    Event(AuditEvent),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

struct Inner {
    sender: mpsc::Sender<Msg>,
    shutdown: Arc<Notify>,
    /// Cuts the writer's linger short: a flush is waiting.
    hurry: Arc<Notify>,
    writer: Mutex<Option<JoinHandle<()>>>,
    metrics: Arc<Metrics>,
    started: Instant,
    /// Milliseconds after `started` of the last overflow warning, plus one
    /// (0: never warned).
    last_warning: AtomicU64,
}

impl AuditLog {
    /// Starts the writer task. Must run inside the tokio runtime.
    pub fn start(store: Store, capacity: usize, metrics: Arc<Metrics>) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let shutdown = Arc::new(Notify::new());
        let hurry = Arc::new(Notify::new());
        let writer = tokio::spawn(write_loop(
            store,
            receiver,
            shutdown.clone(),
            hurry.clone(),
            metrics.clone(),
        ));
        AuditLog {
            inner: Arc::new(Inner {
                sender,
                shutdown,
                hurry,
                writer: Mutex::new(Some(writer)),
                metrics,
                started: Instant::now(),
                last_warning: AtomicU64::new(0),
            }),
        }
    }

    /// Queues an event; never waits. The event's time is taken now.
    pub fn record(&self, mut event: AuditEvent) {
        event.event_time = format_time_ms(time::OffsetDateTime::now_utc());
        if self.inner.sender.try_send(Msg::Event(event)).is_err() {
            self.inner.metrics.audit_dropped.inc();
            self.warn_dropped();
        }
    }

    fn warn_dropped(&self) {
        let now = self.inner.started.elapsed().as_millis() as u64 + 1;
        let last = self.inner.last_warning.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < WARN_EVERY.as_millis() as u64 {
            return;
        }
        if self
            .inner
            .last_warning
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            tracing::warn!(
                dropped_total = self.inner.metrics.audit_dropped.get(),
                "audit queue full or closed: events dropped (see latchkey_audit_events_dropped_total)"
            );
        }
    }

    /// Events waiting to be written.
    pub fn depth(&self) -> usize {
        self.inner.sender.max_capacity() - self.inner.sender.capacity()
    }

    /// Waits until every event queued before this call is written (or
    /// dropped): the audit query reads its own writes. Waits for room when
    /// the queue is full.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.inner.sender.send(Msg::Flush(done)).await.is_ok() {
            self.inner.hurry.notify_one();
            let _ = written.await;
        }
    }

    /// Writes everything queued so far and stops the writer. Events
    /// recorded afterwards are dropped (and counted).
    pub async fn shutdown(&self) {
        self.inner.shutdown.notify_one();
        let writer = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(writer) = writer {
            if let Err(e) = writer.await {
                tracing::error!(error = %e, "audit writer task failed");
            }
        }
    }
}

async fn write_loop(
    store: Store,
    mut receiver: mpsc::Receiver<Msg>,
    shutdown: Arc<Notify>,
    hurry: Arc<Notify>,
    metrics: Arc<Metrics>,
) {
    let mut writer = store.audit_writer();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = receiver.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    return;
                }
                if batch.len() < BATCH && !batch.iter().any(|m| matches!(m, Msg::Flush(_))) {
                    // Sleeping (rather than waiting on the queue) is what
                    // spares the senders from waking the writer per event.
                    tokio::select! {
                        _ = tokio::time::sleep(LINGER) => {}
                        _ = hurry.notified() => {}
                        _ = shutdown.notified() => shutdown.notify_one(),
                    }
                    while batch.len() < BATCH {
                        match receiver.try_recv() {
                            Ok(msg) => batch.push(msg),
                            Err(_) => break,
                        }
                    }
                }
                write(&mut writer, &mut batch, &metrics).await;
            }
            _ = shutdown.notified() => {
                receiver.close();
                while receiver.recv_many(&mut batch, BATCH).await > 0 {
                    write(&mut writer, &mut batch, &metrics).await;
                }
                tracing::info!("audit queue flushed");
                return;
            }
        }
    }
}

async fn write(writer: &mut AuditWriter, batch: &mut Vec<Msg>, metrics: &Metrics) {
    let mut events = Vec::with_capacity(batch.len());
    let mut flushes = Vec::new();
    for msg in batch.drain(..) {
        match msg {
            Msg::Event(e) => events.push(e),
            Msg::Flush(done) => flushes.push(done),
        }
    }
    write_events(writer, events, metrics).await;
    for done in flushes {
        let _ = done.send(());
    }
}

async fn write_events(writer: &mut AuditWriter, batch: Vec<AuditEvent>, metrics: &Metrics) {
    let events = batch.len();
    if events == 0 {
        return;
    }
    let mut retry_at = STORAGE_RETRY_FIRST;
    let mut waited = Duration::ZERO;
    let mut batch = batch;
    loop {
        // A database that cannot be reached fails before the batch is
        // handed over, so the batch is still here to retry. A failure while
        // writing consumes it (the store moves events into its statements):
        // while the disk refuses writes each batch is copied first, so that
        // an episode of a full disk costs the batch that found it, not
        // everything after.
        let (error, again) = match writer.ready().await {
            Err(e) => (e, Some(batch)),
            Ok(()) => {
                let kept = writer.write_health().failing().then(|| batch.clone());
                match writer.insert(batch).await {
                    Ok(()) => {
                        metrics.audit_written.inc_by(events as u64);
                        return;
                    }
                    Err(e) => (e, kept),
                }
            }
        };
        match again {
            Some(again) if error.is_storage_unavailable() && waited < STORAGE_RETRY_FOR => {
                tokio::time::sleep(retry_at).await;
                waited += retry_at;
                retry_at = (retry_at * 2).min(STORAGE_RETRY_MAX);
                batch = again;
            }
            _ if error.is_storage_unavailable() => {
                metrics.audit_dropped.inc_by(events as u64);
                tracing::error!(
                    events,
                    "writing audit events failed: the disk refuses writes; dropped"
                );
                return;
            }
            _ => {
                metrics.audit_dropped.inc_by(events as u64);
                tracing::error!(error = ?error, events, "writing audit events failed; dropped");
                return;
            }
        }
    }
}
