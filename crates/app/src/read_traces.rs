//! What reading patient data leaves behind — its audit event, the reader's
//! read receipts and read notifications — written for many readers at once.
//!
//! A read is answered only once its trace is durable (no patient datum
//! leaves without its audit event on disk). Under load, dozens of readers
//! finish at the same moment; instead of each one queueing for the writer
//! connection with its own short write transaction, each hands its trace to
//! a combiner, which writes every trace waiting at that moment in one use
//! case of the group commit (`tsunagu_store` `group_commit.rs`) and wakes
//! the readers once that batch is committed. While one batch waits for its
//! commit, the combiner already writes the next, so the disk is never idle
//! while traces wait.
//!
//! If writing a batch fails, every reader in it gets the error and is shown
//! nothing; their traces are not half-kept (the batch is one savepoint).

use crate::AppError;
use std::mem;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::sync::oneshot;
use tsunagu_domain::audit::AuditRecord;
use tsunagu_store::{Store, StoreError};
use uuid::Uuid;

/// One read's trace.
pub(crate) struct ReadTrace {
    pub audit: AuditRecord,
    /// The reader's read receipts to add: `(reader, entries)`.
    pub receipts: Option<(Uuid, Vec<Uuid>)>,
    /// The reader's notifications about a patient that are now read: `(reader, patient)`.
    pub notifications_read: Option<(Uuid, Uuid)>,
    pub at: OffsetDateTime,
}

type Reply = oneshot::Sender<Result<(), String>>;

#[derive(Default)]
struct Queue {
    traces: Vec<(ReadTrace, Reply)>,
    /// Whether a combiner task is running (it empties the queue before it stops).
    combining: bool,
}

/// The queue of traces and the combiner that writes them.
#[derive(Default)]
pub(crate) struct ReadTraces {
    queue: Mutex<Queue>,
}

impl ReadTraces {
    /// Writes `trace` and returns once it is durable.
    pub(crate) async fn record(self: &Arc<Self>, store: &Arc<dyn Store>, trace: ReadTrace) -> Result<(), AppError> {
        let (reply, outcome) = oneshot::channel();
        let start = {
            let mut queue = self.queue.lock().map_err(|_| AppError::Internal("read trace queue poisoned".into()))?;
            queue.traces.push((trace, reply));
            !mem::replace(&mut queue.combining, true)
        };
        if start {
            // Its own task: a reader whose request is cancelled must not take
            // the others' traces down with it.
            tokio::spawn(combine(self.clone(), store.clone()));
        }
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(StoreError::Batch(why).into()),
            Err(_) => Err(StoreError::Batch("the read trace was dropped before its commit".into()).into()),
        }
    }

    fn take(&self) -> Vec<(ReadTrace, Reply)> {
        match self.queue.lock() {
            Ok(mut queue) => {
                let taken = mem::take(&mut queue.traces);
                if taken.is_empty() {
                    queue.combining = false;
                }
                taken
            }
            // A poisoned lock means a panic while pushing: nothing sane to do but stop.
            Err(_) => Vec::new(),
        }
    }
}

async fn combine(traces: Arc<ReadTraces>, store: Arc<dyn Store>) {
    loop {
        let batch = traces.take();
        if batch.is_empty() {
            return;
        }
        let (records, replies): (Vec<ReadTrace>, Vec<Reply>) = batch.into_iter().unzip();
        match write(store.as_ref(), &records).await {
            // The commit waits for the batch's fsync; meanwhile the next traces are written.
            Ok(tx) => {
                tokio::spawn(async move {
                    let outcome = tx.commit().await.map_err(|e| e.to_string());
                    for reply in replies {
                        let _ = reply.send(outcome.clone());
                    }
                });
            }
            Err(e) => {
                tracing::error!(error = %e, traces = replies.len(), "writing read traces failed");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

async fn write(store: &dyn Store, traces: &[ReadTrace]) -> Result<Box<dyn tsunagu_store::StoreTx>, StoreError> {
    let mut tx = store.begin().await?;
    let records: Vec<&AuditRecord> = traces.iter().map(|t| &t.audit).collect();
    tx.append_audits(&records).await?;
    for trace in traces {
        if let Some((reader, entries)) = &trace.receipts
            && !entries.is_empty()
        {
            tx.mark_read(entries, *reader, trace.at).await?;
        }
        if let Some((reader, patient)) = trace.notifications_read {
            tx.mark_notifications_read(reader, patient, trace.at).await?;
        }
    }
    Ok(tx)
}
