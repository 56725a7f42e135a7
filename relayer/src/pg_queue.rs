//! The operator's PostgreSQL job queue (issue 19, first part): a table shaped like zkSync Era's
//! `prover_jobs_fri` (migrations/postgres/001_prover_jobs.sql), claimed with
//! `FOR UPDATE SKIP LOCKED` so that the operator's own provers and the relayer, which hands its
//! claims to the crowd, share one queue without taking a job twice. Results go back as one of
//! the operator's provers would write them; a job the crowd fails goes back to the queue with its
//! attempts, and is marked failed only when they run out: never lost. Not yet wired to the
//! relayer's posting (see the stop notes).

use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

/// The migration the queue expects, run by [`PgQueue::migrate`].
pub const MIGRATION: &str = include_str!("../migrations/postgres/001_prover_jobs.sql");

/// A claimed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedJob {
    /// The row.
    pub id: i64,
    /// The rollup's batch.
    pub l1_batch_number: i64,
    /// Its place in the batch.
    pub sequence_number: i32,
    /// Where its witness is.
    pub witness_blob_url: String,
    /// Claims before this one.
    pub attempts: i16,
}

/// Where a failed job went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeued {
    /// Back in the queue, for another attempt.
    Queued,
    /// Out of attempts: failed, with its error, for the operator to look at.
    Failed,
}

/// The queue, through a connection pool.
pub struct PgQueue {
    pool: Pool,
    picked_by: String,
    max_attempts: i16,
}

impl PgQueue {
    /// Connects to the database at `url` (`postgres://user@host:port/db`); claims are marked
    /// `picked_by`; a job is failed for good after `max_attempts` claims.
    pub fn connect(url: &str, picked_by: &str, max_attempts: i16) -> anyhow::Result<PgQueue> {
        let config: tokio_postgres::Config = url
            .parse()
            .with_context(|| format!("the job queue's URL `{url}`"))?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(4)
            .build()
            .context("building the job queue's connection pool")?;
        Ok(PgQueue {
            pool,
            picked_by: picked_by.to_string(),
            max_attempts: max_attempts.max(1),
        })
    }

    async fn client(&self) -> anyhow::Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .context("connecting to the job queue's database")
    }

    /// Creates the table and its index if missing.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        self.client()
            .await?
            .batch_execute(MIGRATION)
            .await
            .context("running the job queue's migration")
    }

    /// Claims up to `limit` queued jobs, oldest batch first, in one transaction that skips the
    /// rows another prover is claiming: none is claimed twice.
    pub async fn claim(&self, limit: i64) -> anyhow::Result<Vec<QueuedJob>> {
        let rows = self
            .client()
            .await?
            .query(
                "UPDATE prover_jobs SET status = 'in_progress', attempts = attempts + 1,
                        picked_by = $2, processing_started_at = now(), updated_at = now()
                 WHERE id IN (
                     SELECT id FROM prover_jobs WHERE status = 'queued'
                     ORDER BY aggregation_round DESC, l1_batch_number, id
                     LIMIT $1 FOR UPDATE SKIP LOCKED)
                 RETURNING id, l1_batch_number, sequence_number, witness_blob_url, (attempts - 1)::smallint",
                &[&limit, &self.picked_by],
            )
            .await
            .context("claiming queued jobs")?;
        let mut jobs: Vec<QueuedJob> = rows
            .iter()
            .map(|r| QueuedJob {
                id: r.get(0),
                l1_batch_number: r.get(1),
                sequence_number: r.get(2),
                witness_blob_url: r.get(3),
                attempts: r.get(4),
            })
            .collect();
        jobs.sort_by_key(|j| (j.l1_batch_number, j.sequence_number));
        Ok(jobs)
    }

    /// Records a job proven: its proof's location and how long it took. False if the job is no
    /// longer this claimer's (requeued as stale and claimed by another): nothing is written.
    pub async fn succeed(
        &self,
        id: i64,
        proof_blob_url: &str,
        took: Duration,
    ) -> anyhow::Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE prover_jobs SET status = 'successful', proof_blob_url = $2,
                        time_taken = make_interval(secs => $3), error = NULL, updated_at = now()
                 WHERE id = $1 AND status = 'in_progress' AND picked_by = $4",
                &[&id, &proof_blob_url, &took.as_secs_f64(), &self.picked_by],
            )
            .await
            .context("recording a proven job")?;
        Ok(n == 1)
    }

    /// Records a failed claim: the job goes back to the queue while attempts remain, else it is
    /// failed with `error`. `None` if the job is not this claimer's.
    pub async fn fail(&self, id: i64, error: &str) -> anyhow::Result<Option<Requeued>> {
        let row = self
            .client()
            .await?
            .query_opt(
                "UPDATE prover_jobs SET
                        status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END,
                        error = $2, picked_by = NULL, updated_at = now()
                 WHERE id = $1 AND status = 'in_progress' AND picked_by = $4
                 RETURNING status",
                &[&id, &error, &self.max_attempts, &self.picked_by],
            )
            .await
            .context("recording a failed job")?;
        Ok(row.map(|r| {
            if r.get::<_, &str>(0) == "failed" {
                Requeued::Failed
            } else {
                Requeued::Queued
            }
        }))
    }

    /// Puts back in the queue the jobs claimed (by anyone) longer than `timeout` ago and not
    /// finished, as zkSync's housekeeper does; those out of attempts fail. Returns how many.
    pub async fn requeue_stale(&self, timeout: Duration) -> anyhow::Result<u64> {
        self.client()
            .await?
            .execute(
                "UPDATE prover_jobs SET
                        status = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'queued' END,
                        error = COALESCE(error, 'claim timed out'), picked_by = NULL,
                        updated_at = now()
                 WHERE status = 'in_progress'
                   AND processing_started_at < now() - make_interval(secs => $1)",
                &[&timeout.as_secs_f64(), &self.max_attempts],
            )
            .await
            .context("requeueing stale jobs")
    }
}
