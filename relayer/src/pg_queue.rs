//! The operator's PostgreSQL job queue: a table shaped like zkSync Era's `prover_jobs_fri`
//! (migrations/postgres/001_prover_jobs.sql), claimed with `FOR UPDATE SKIP LOCKED` so that the
//! operator's own provers and the relayer, which hands its claims to the crowd, share one queue
//! without taking a job twice. Results go back as one of the operator's provers would write
//! them; a job the crowd fails goes back to the queue with its attempts, and is marked failed
//! only when they run out: never lost.
//!
//! The relayer claims a rollup batch's round-0 jobs whole ([`PgQueue::claim_batch`]): its
//! chunks chain state roots, and the crowd proves them as one tree, so a batch the operator's
//! provers have started stays theirs. What it claimed, and which on-chain batch each job went
//! into, it records beside the table (002_crowdprove_claims.sql), so that a restarted relayer
//! still writes results back and a batch the crowd once failed goes back to the operator's own
//! provers rather than to the crowd again.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};

/// The migrations the queue expects, in order, run by [`PgQueue::migrate`]: the operator's
/// table (skipped where it exists) and the relayer's record of its claims.
pub const MIGRATIONS: [&str; 2] = [
    include_str!("../migrations/postgres/001_prover_jobs.sql"),
    include_str!("../migrations/postgres/002_crowdprove_claims.sql"),
];

/// A claim's update of its rows (the claimer is `$2`), one place for every way of claiming.
const CLAIMED: &str = "status = 'in_progress', attempts = attempts + 1, picked_by = $2,
     processing_started_at = now(), updated_at = now()";
/// What a claim returns of each row (see `queued_jobs`): attempts before the claim.
const RETURNED: &str =
    "id, l1_batch_number, sequence_number, witness_blob_url, (attempts - 1)::smallint";

/// What the relayer's claims are marked `picked_by` with, before its Coordinator's address
/// (see [`relayer_name`]).
pub const RELAYER: &str = "crowdprove-relayer";

/// What the relayer of the Coordinator at `coordinator` marks its claims with: two relayers
/// sharing one database (two chains, a blue/green deployment) never take up each other's.
pub fn relayer_name(coordinator: &str) -> String {
    format!("{RELAYER}@{}", coordinator.to_ascii_lowercase())
}

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

/// A job the relayer handed to the crowd: its row and where it went on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The row.
    pub id: i64,
    /// The on-chain batch's witness root.
    pub root: [u8; 32],
    /// Its leaf in that batch.
    pub leaf: i32,
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
            // Not echoed: it may hold a password.
            .context("the job queue's URL (postgres://user:password@host:port/db)")?;
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

    /// Creates the tables and the index if missing.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let client = self.client().await?;
        for (i, m) in MIGRATIONS.iter().enumerate() {
            client
                .batch_execute(m)
                .await
                .with_context(|| format!("running the job queue's migration {:03}", i + 1))?;
        }
        Ok(())
    }

    /// Claims up to `limit` queued jobs, oldest batch first, in one transaction that skips the
    /// rows another prover is claiming: none is claimed twice.
    pub async fn claim(&self, limit: i64) -> anyhow::Result<Vec<QueuedJob>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!(
                    "UPDATE prover_jobs SET {CLAIMED}
                 WHERE id IN (
                     SELECT id FROM prover_jobs WHERE status = 'queued'
                     ORDER BY aggregation_round DESC, l1_batch_number, id
                     LIMIT $1 FOR UPDATE SKIP LOCKED)
                 RETURNING {RETURNED}"
                ),
                &[&limit, &self.picked_by],
            )
            .await
            .context("claiming queued jobs")?;
        Ok(queued_jobs(&rows))
    }

    /// Claims the round-0 jobs of circuit `circuit_id` of the oldest rollup batch that is
    /// wholly queued and that the crowd never had, all of them or none: a batch one of the
    /// operator's provers has started (or is claiming now: its rows are locked and skipped)
    /// is left to them. Jobs in sequence order; `None` when no batch qualifies.
    pub async fn claim_batch(&self, circuit_id: i16) -> anyhow::Result<Option<Vec<QueuedJob>>> {
        let mut client = self.client().await?;
        // A few candidates: the oldest may be taken between this read and the lock.
        let candidates: Vec<i64> = client
            .query(
                "SELECT p.l1_batch_number FROM prover_jobs p
                 LEFT JOIN crowdprove_claims c ON c.prover_job_id = p.id
                 WHERE p.aggregation_round = 0 AND p.circuit_id = $1
                   AND p.l1_batch_number IN (
                       SELECT l1_batch_number FROM prover_jobs
                       WHERE status = 'queued' AND aggregation_round = 0 AND circuit_id = $1)
                 GROUP BY p.l1_batch_number
                 HAVING bool_and(p.status = 'queued') AND count(c.prover_job_id) = 0
                 ORDER BY p.l1_batch_number LIMIT 8",
                &[&circuit_id],
            )
            .await
            .context("looking for a queued batch")?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for batch in candidates {
            let tx = client.transaction().await.context("starting a claim")?;
            let rows = tx
                .query(
                    "SELECT p.id, p.l1_batch_number, p.sequence_number, p.witness_blob_url, p.attempts
                     FROM prover_jobs p
                     WHERE p.l1_batch_number = $1 AND p.aggregation_round = 0 AND p.circuit_id = $2
                       AND p.status = 'queued'
                       AND NOT EXISTS (SELECT 1 FROM crowdprove_claims c WHERE c.prover_job_id = p.id)
                     FOR UPDATE SKIP LOCKED",
                    &[&batch, &circuit_id],
                )
                .await
                .context("locking a batch's jobs")?;
            let total: i64 = tx
                .query_one(
                    "SELECT count(*) FROM prover_jobs
                     WHERE l1_batch_number = $1 AND aggregation_round = 0 AND circuit_id = $2",
                    &[&batch, &circuit_id],
                )
                .await
                .context("counting a batch's jobs")?
                .get(0);
            if total == 0 || rows.len() as i64 != total {
                // Someone else holds part of it: theirs. Dropping `tx` rolls back.
                continue;
            }
            let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            tx.execute(
                &format!(
                    "UPDATE prover_jobs SET {CLAIMED}
                 WHERE id = ANY($1)"
                ),
                &[&ids, &self.picked_by],
            )
            .await
            .context("claiming a batch's jobs")?;
            tx.commit().await.context("committing a claim")?;
            return Ok(Some(queued_jobs(&rows)));
        }
        Ok(None)
    }

    /// Claims one queued round-0 job of circuit `circuit_id` that the crowd never had (an
    /// external circuit's job: each is a batch of its own on chain), oldest first.
    pub async fn claim_one(&self, circuit_id: i16) -> anyhow::Result<Option<QueuedJob>> {
        let rows = self
            .client()
            .await?
            .query(
                &format!("UPDATE prover_jobs SET {CLAIMED}
                 WHERE id = (
                     SELECT p.id FROM prover_jobs p
                     WHERE p.status = 'queued' AND p.aggregation_round = 0 AND p.circuit_id = $1
                       AND NOT EXISTS (SELECT 1 FROM crowdprove_claims c WHERE c.prover_job_id = p.id)
                     ORDER BY p.l1_batch_number, p.id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING {RETURNED}"),
                &[&circuit_id, &self.picked_by],
            )
            .await
            .context("claiming a queued job")?;
        Ok(queued_jobs(&rows).pop())
    }

    /// The round-0 jobs of circuit `circuit_id` this claimer holds and must post (again) after a
    /// restart: a rollup batch claimed but never recorded (a crash between the claim and the
    /// record), whole, in sequence order; or the jobs recorded under one root, all still held
    /// (the batch may not be on chain: posting it again is recognised by its root), in leaf
    /// order. Jobs under a root of which some were already written back are on chain for sure:
    /// the write-back finishes them, they are not handed out again.
    pub async fn held_batches(&self, circuit_id: i16) -> anyhow::Result<Vec<Vec<QueuedJob>>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT p.id, p.l1_batch_number, p.sequence_number, p.witness_blob_url,
                        (p.attempts - 1)::smallint, c.batch_root, c.leaf,
                        (SELECT count(*) FROM crowdprove_claims r WHERE r.batch_root = c.batch_root)
                 FROM prover_jobs p LEFT JOIN crowdprove_claims c ON c.prover_job_id = p.id
                 WHERE p.status = 'in_progress' AND p.picked_by = $1 AND p.aggregation_round = 0
                   AND p.circuit_id = $2",
                &[&self.picked_by, &circuit_id],
            )
            .await
            .context("reading the jobs this relayer holds")?;
        // Keyed by the recorded root, or by the rollup batch where none was recorded; each job
        // with its place (leaf or sequence number).
        type Key = (Option<Vec<u8>>, i64);
        let mut groups: std::collections::BTreeMap<Key, Vec<(i32, QueuedJob)>> = Default::default();
        let mut recorded: HashMap<Vec<u8>, i64> = HashMap::new();
        for (r, job) in rows.iter().zip(queued_jobs_unsorted(&rows)) {
            let root: Option<Vec<u8>> = r.get(5);
            let order = match &root {
                Some(root) => {
                    recorded.insert(root.clone(), r.get(7));
                    r.get::<_, i32>(6)
                }
                None => job.sequence_number,
            };
            let key = match root {
                Some(root) => (Some(root), 0),
                None => (None, job.l1_batch_number),
            };
            groups.entry(key).or_default().push((order, job));
        }
        let mut held: Vec<Vec<QueuedJob>> = groups
            .into_iter()
            .filter(|((root, _), jobs)| {
                root.as_ref()
                    .is_none_or(|r| recorded.get(r) == Some(&(jobs.len() as i64)))
            })
            .map(|(_, mut jobs)| {
                jobs.sort_by_key(|(order, _)| *order);
                jobs.into_iter().map(|(_, j)| j).collect()
            })
            .collect();
        // Oldest claims first.
        held.sort_by_key(|jobs| jobs.iter().map(|j| j.id).min());
        Ok(held)
    }

    /// Hands claimed jobs back untouched after a failure that is not theirs (their witness
    /// store did not answer, a tool timed out): queued again, the attempt not counted, nothing
    /// recorded, so that the crowd may take them later.
    pub async fn release(&self, ids: &[i64]) -> anyhow::Result<()> {
        self.client()
            .await?
            .execute(
                "UPDATE prover_jobs SET status = 'queued', attempts = GREATEST(attempts - 1, 0),
                        picked_by = NULL, processing_started_at = NULL, updated_at = now()
                 WHERE id = ANY($1) AND status = 'in_progress' AND picked_by = $2",
                &[&ids, &self.picked_by],
            )
            .await
            .context("handing claimed jobs back")?;
        Ok(())
    }

    /// Records that the claimed jobs `ids` became the leaves, in order, of the on-chain batch
    /// with witness root `root`. Recording again is harmless.
    pub async fn record_claims(&self, root: &[u8; 32], ids: &[i64]) -> anyhow::Result<()> {
        let leaves: Vec<i32> = (0..ids.len() as i32).collect();
        self.client()
            .await?
            .execute(
                "INSERT INTO crowdprove_claims (prover_job_id, batch_root, leaf)
                 SELECT * FROM unnest($1::bigint[], array_fill($2::bytea, ARRAY[cardinality($1)]), $3::int[])
                 ON CONFLICT (prover_job_id) DO UPDATE
                   SET batch_root = EXCLUDED.batch_root, leaf = EXCLUDED.leaf",
                &[&ids, &root.as_slice(), &leaves],
            )
            .await
            .context("recording which batch the claimed jobs went into")?;
        Ok(())
    }

    /// Hands claimed jobs back that the relayer cannot post (an unreadable witness, chunks
    /// that do not chain): each fails with `error` (queued again while attempts remain) and is
    /// recorded as refused, so that it goes to the operator's own provers, not to the crowd.
    pub async fn refuse(&self, ids: &[i64], error: &str) -> anyhow::Result<()> {
        self.client()
            .await?
            .execute(
                "INSERT INTO crowdprove_claims (prover_job_id, batch_root, leaf)
                 SELECT id, NULL, 0 FROM unnest($1::bigint[]) AS id
                 ON CONFLICT (prover_job_id) DO NOTHING",
                &[&ids],
            )
            .await
            .context("recording refused jobs")?;
        for id in ids {
            self.fail(*id, error).await?;
        }
        Ok(())
    }

    /// The jobs this claimer holds that went into on-chain batches: their rows, batch roots
    /// and leaves.
    pub async fn open_claims(&self) -> anyhow::Result<Vec<Claim>> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT c.prover_job_id, c.batch_root, c.leaf FROM crowdprove_claims c
                 JOIN prover_jobs p ON p.id = c.prover_job_id
                 WHERE p.status = 'in_progress' AND p.picked_by = $1 AND c.batch_root IS NOT NULL
                 ORDER BY c.prover_job_id",
                &[&self.picked_by],
            )
            .await
            .context("reading the open claims")?;
        rows.iter()
            .map(|r| {
                let root: Vec<u8> = r.get(1);
                Ok(Claim {
                    id: r.get(0),
                    root: root
                        .try_into()
                        .map_err(|_| anyhow::anyhow!("a claim's batch root is not 32 bytes"))?,
                    leaf: r.get(2),
                })
            })
            .collect()
    }

    /// Marks this claimer's jobs that went into on-chain batches alive: their
    /// `processing_started_at`, which zkSync's housekeeper compares with its timeout, moves to
    /// now (the time taken is counted from the claim's record instead, see
    /// [`PgQueue::succeed_claimed`]). A claim never recorded is left to the housekeeper.
    pub async fn heartbeat(&self) -> anyhow::Result<u64> {
        self.client()
            .await?
            .execute(
                "UPDATE prover_jobs p SET processing_started_at = now(), updated_at = now()
                 FROM crowdprove_claims c
                 WHERE c.prover_job_id = p.id AND c.batch_root IS NOT NULL
                   AND p.status = 'in_progress' AND p.picked_by = $1",
                &[&self.picked_by],
            )
            .await
            .context("marking the relayer's jobs alive")
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

    /// [`PgQueue::succeed`] for a job the relayer handed to the crowd: the time taken runs
    /// from its recorded claim.
    pub async fn succeed_claimed(&self, id: i64, proof_blob_url: &str) -> anyhow::Result<bool> {
        let n = self
            .client()
            .await?
            .execute(
                "UPDATE prover_jobs p SET status = 'successful', proof_blob_url = $2,
                        time_taken = now() - c.claimed_at, error = NULL, updated_at = now()
                 FROM crowdprove_claims c
                 WHERE p.id = $1 AND c.prover_job_id = p.id AND p.status = 'in_progress'
                   AND p.picked_by = $3",
                &[&id, &proof_blob_url, &self.picked_by],
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

// Rows of (id, l1_batch_number, sequence_number, witness_blob_url, attempts before the
// claim, ...), in batch and sequence order.
fn queued_jobs(rows: &[tokio_postgres::Row]) -> Vec<QueuedJob> {
    let mut jobs = queued_jobs_unsorted(rows);
    jobs.sort_by_key(|j| (j.l1_batch_number, j.sequence_number));
    jobs
}

// The same, in the rows' order.
fn queued_jobs_unsorted(rows: &[tokio_postgres::Row]) -> Vec<QueuedJob> {
    rows.iter()
        .map(|r| QueuedJob {
            id: r.get(0),
            l1_batch_number: r.get(1),
            sequence_number: r.get(2),
            witness_blob_url: r.get(3),
            attempts: r.get(4),
        })
        .collect()
}
