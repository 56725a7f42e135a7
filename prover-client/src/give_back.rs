//! Leases this client will not finish go back to the chain (`releaseLease`), so that nobody
//! waits for them: the job of a proof that failed, jobs in hand when the client stops now or
//! for good, a batch of a circuit it does not build. The job goes to the next prover at once
//! and the bond it locked is free again. Without this, such a job waited until LRP handed it
//! on after the minimum reassign age, and its bond stayed locked until then.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinSet;

use crowdprove_bindings::Coordinator::CoordinatorErrors;
use crowdprove_bindings::tx::TxError;

use crate::config::Connected;

/// Gives leases back in the background; the run waits for them before it exits.
pub struct GiveBack {
    conn: Arc<Connected>,
    sent: Mutex<JoinSet<()>>,
}

impl GiveBack {
    /// Gives back through `conn`'s sender.
    pub fn new(conn: Arc<Connected>) -> GiveBack {
        GiveBack {
            conn,
            sent: Mutex::new(JoinSet::new()),
        }
    }

    /// Sends `releaseLease(request_id)` for `job_id`, which this client holds and will not
    /// finish because of `why`.
    pub fn lease(&self, request_id: u64, job_id: u64, why: &str) {
        let conn = self.conn.clone();
        let why = why.to_owned();
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.spawn(async move {
            let call = conn.coordinator.releaseLease(request_id);
            match conn.tx.send("releaseLease", call).await {
                Ok(_) => tracing::info!(
                    job = job_id,
                    request = request_id,
                    why,
                    "gave the lease back: the job goes to the next prover, its bond is free"
                ),
                // Completed by another prover, handed on, or cancelled and cleared meanwhile:
                // nothing is held any more.
                Err(TxError::Refused {
                    error:
                        CoordinatorErrors::JobNotPending(_)
                        | CoordinatorErrors::NotLeaseHolder(_)
                        | CoordinatorErrors::LeaseIsReleased(_),
                    ..
                }) => tracing::debug!(job = job_id, "no lease left to give back"),
                Err(e) => tracing::warn!(
                    job = job_id,
                    error = %e,
                    "could not give the lease back; the chain hands the job on once the lease is old"
                ),
            }
        });
    }

    /// Waits at most `limit` for the leases given back so far to land.
    pub async fn settle(&self, limit: Duration) {
        let mut sent = std::mem::take(&mut *self.sent.lock().unwrap_or_else(|e| e.into_inner()));
        if sent.is_empty() {
            return;
        }
        let all = async { while sent.join_next().await.is_some() {} };
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!(
                "leases still being given back at exit; the chain hands them on once old"
            );
        }
    }
}
