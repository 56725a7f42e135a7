//! The relayer's SQLite database: a cache of what the chain says (batches, jobs, leases,
//! submissions, verdicts) plus the relayer's own decisions not yet on chain. Everything in it
//! can be rebuilt from the chain's events and the blob store: delete it and restart.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use crowdprove_protocol::{BadCode, Verdict};

/// A database error.
#[derive(Debug, thiserror::Error)]
#[error("database: {0}")]
pub(crate) struct DbError(#[from] rusqlite::Error);

type Result<T> = std::result::Result<T, DbError>;

/// A batch as posted on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BatchRow {
    /// On-chain batch id.
    pub(crate) batch_id: u64,
    /// Witness Merkle root.
    pub(crate) root: [u8; 32],
    /// First job id.
    pub(crate) first_job: u64,
    /// Number of jobs: its whole proving tree.
    pub(crate) job_count: u64,
    /// Number of round-0 jobs (the tree's leaves).
    pub(crate) leaf_count: u64,
    /// Reward per job, decimal.
    pub(crate) reward: String,
    /// Circuit id.
    pub(crate) circuit: [u8; 32],
    /// Whether it was cancelled.
    pub(crate) cancelled: bool,
    /// The final proof hash, once finalized.
    pub(crate) final_hash: Option<[u8; 32]>,
    /// Block of the BatchPosted event.
    pub(crate) block: u64,
}

/// A job of one of our batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JobRow {
    /// On-chain job id.
    pub(crate) job_id: u64,
    /// Its batch.
    pub(crate) batch_id: u64,
    /// Index within the batch (its leaf index).
    pub(crate) idx: u64,
    /// Tree level.
    pub(crate) level: u8,
    /// Node index within the level.
    pub(crate) node: u64,
    /// The statement, as `Statement::to_json` encodes it.
    pub(crate) statement: Vec<u8>,
    /// keccak256 of its witness blob; zero for an aggregation node, whose witness (its
    /// children's winning proofs) is put together when asked for.
    pub(crate) witness_hash: [u8; 32],
    /// The winning proof's hash once complete.
    pub(crate) winning_proof: Option<[u8; 32]>,
}

/// A submission seen on chain, with what the relayer decided about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SubmissionRow {
    /// The lease.
    pub(crate) request_id: u64,
    /// Its job.
    pub(crate) job_id: u64,
    /// The lease holder.
    pub(crate) prover: [u8; 20],
    /// The committed proof hash.
    pub(crate) proof_hash: [u8; 32],
    /// Chain time of the submission.
    pub(crate) submitted_at: u64,
    /// Whether the bytes are in the blob store.
    pub(crate) uploaded: bool,
    /// The relayer's verdict not yet on chain.
    pub(crate) local_verdict: Option<Verdict>,
    /// The verdict recorded on chain.
    pub(crate) onchain_verdict: Option<Verdict>,
}

/// The database.
pub(crate) struct Db {
    conn: Mutex<Connection>,
    /// A read-only connection for the status snapshot (none in memory).
    reader: Option<Mutex<Connection>>,
}

/// Version of [`SCHEMA`]: a database of another version is a cache of another layout, so it is
/// dropped and rebuilt from the chain (2: one batch per proving tree).
const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
  batch_id INTEGER PRIMARY KEY, root BLOB NOT NULL, first_job INTEGER NOT NULL,
  job_count INTEGER NOT NULL, leaf_count INTEGER NOT NULL, reward TEXT NOT NULL,
  circuit BLOB NOT NULL, block INTEGER NOT NULL,
  cancelled_block INTEGER, final_hash BLOB, final_block INTEGER, delivered INTEGER NOT NULL DEFAULT 0,
  delivered_ms INTEGER, pruned INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS jobs (
  job_id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, idx INTEGER NOT NULL,
  level INTEGER NOT NULL, node INTEGER NOT NULL,
  statement BLOB NOT NULL, witness_hash BLOB NOT NULL, winning_proof BLOB, completed_block INTEGER);
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs (batch_id, level, node);
CREATE TABLE IF NOT EXISTS leases (
  request_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, prover BLOB NOT NULL, block INTEGER NOT NULL,
  leased_at INTEGER);
CREATE TABLE IF NOT EXISTS submissions (
  request_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, prover BLOB NOT NULL,
  proof_hash BLOB NOT NULL, submitted_at INTEGER NOT NULL, block INTEGER NOT NULL,
  log_index INTEGER NOT NULL, uploaded INTEGER NOT NULL DEFAULT 0, local_verdict INTEGER,
  decided_ms INTEGER, posted_ms INTEGER, onchain_verdict INTEGER, verdict_block INTEGER, verdict_at INTEGER,
  completed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS submissions_job ON submissions (job_id, block, log_index);
CREATE INDEX IF NOT EXISTS submissions_hash ON submissions (proof_hash);
CREATE INDEX IF NOT EXISTS submissions_open ON submissions (block, log_index)
  WHERE local_verdict IS NULL AND onchain_verdict IS NULL;
CREATE TABLE IF NOT EXISTS uploads (proof_hash BLOB PRIMARY KEY, job_id INTEGER NOT NULL, uploaded_ms INTEGER,
  uploaded_at INTEGER);
CREATE INDEX IF NOT EXISTS uploads_job ON uploads (job_id);
";

fn b32(v: Vec<u8>) -> [u8; 32] {
    let mut out = [0u8; 32];
    let n = v.len().min(32);
    out[..n].copy_from_slice(&v[..n]);
    out
}

/// Reads a contract enum stored as its number; a number outside it is a corrupt row.
fn code<T: TryFrom<u8, Error = BadCode>>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
    T::try_from(r.get::<_, u8>(i)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Integer, Box::new(e))
    })
}

/// [`code`] of a nullable column.
fn opt_code<T: TryFrom<u8, Error = BadCode>>(
    r: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<Option<T>> {
    match r.get::<_, Option<u8>>(i)? {
        Some(_) => code(r, i).map(Some),
        None => Ok(None),
    }
}

fn b20(v: Vec<u8>) -> [u8; 20] {
    let mut out = [0u8; 20];
    let n = v.len().min(20);
    out[..n].copy_from_slice(&v[..n]);
    out
}

impl Db {
    /// Opens (creating if needed) the database at `path`.
    pub(crate) fn open(path: &Path) -> Result<Db> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut db = Self::init(conn)?;
        // The status snapshot reads on a connection of its own: under WAL it neither waits for
        // nor holds up the writers (uploads, the work loop).
        db.reader = Some(Mutex::new(Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?));
        Ok(db)
    }

    /// An in-memory database, for tests.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Result<Db> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Db> {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        // Version 3 gains columns in place: its upload records cannot be rebuilt from the
        // chain, nor its deliveries (a rebuild would hand every final proof to the sink again).
        // What the new columns hold is unknown (NULL) for the rows before.
        if version == 3 {
            conn.execute_batch(
                "ALTER TABLE leases ADD COLUMN leased_at INTEGER;
                 ALTER TABLE submissions ADD COLUMN verdict_at INTEGER;
                 ALTER TABLE submissions ADD COLUMN completed INTEGER NOT NULL DEFAULT 0;
                 ALTER TABLE uploads ADD COLUMN uploaded_ms INTEGER;
                 ALTER TABLE uploads ADD COLUMN uploaded_at INTEGER;",
            )?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        } else if version != SCHEMA_VERSION {
            let tables: i64 = conn.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )?;
            if tables != 0 {
                tracing::warn!(
                    version,
                    "database of another layout: dropping it, to be rebuilt from the chain"
                );
                conn.execute_batch(
                    "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS blocks;
                     DROP TABLE IF EXISTS batches; DROP TABLE IF EXISTS jobs;
                     DROP TABLE IF EXISTS leases; DROP TABLE IF EXISTS submissions;
                     DROP TABLE IF EXISTS uploads;",
                )?;
            }
            conn.execute_batch(SCHEMA)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        Ok(Db {
            conn: Mutex::new(conn),
            reader: None,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    // The read-only connection (the one connection of an in-memory database).
    fn reader(&self) -> MutexGuard<'_, Connection> {
        match &self.reader {
            Some(r) => r.lock().unwrap_or_else(|e| e.into_inner()),
            None => self.conn(),
        }
    }

    /// Runs `f` in one transaction.
    pub(crate) fn transaction<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let out = f(&Tx(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    /// The last block whose events were processed.
    pub(crate) fn cursor(&self) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row("SELECT MAX(number) FROM blocks", [], |r| {
                r.get::<_, Option<u64>>(0)
            })?)
    }

    /// The hash recorded for a processed block.
    pub(crate) fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>> {
        Ok(self
            .conn()
            .query_row("SELECT hash FROM blocks WHERE number = ?1", [number], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .optional()?
            .map(b32))
    }

    /// A batch by id.
    pub(crate) fn batch(&self, batch_id: u64) -> Result<Option<BatchRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT batch_id, root, first_job, job_count, leaf_count, reward, circuit,
                        cancelled_block IS NOT NULL, final_hash, block FROM batches WHERE batch_id = ?1",
                [batch_id],
                batch_row,
            )
            .optional()?)
    }

    /// Every batch, in id order.
    pub(crate) fn batches(&self) -> Result<Vec<BatchRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT batch_id, root, first_job, job_count, leaf_count, reward, circuit,
                    cancelled_block IS NOT NULL, final_hash, block FROM batches ORDER BY batch_id",
        )?;
        let rows = st
            .query_map([], batch_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Whether a batch's final proof was handed to the sink.
    pub(crate) fn delivered(&self, batch_id: u64) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT delivered FROM batches WHERE batch_id = ?1",
                [batch_id],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .unwrap_or(0)
            != 0)
    }

    /// Records that a batch's final proof reached the sink at `now_ms`.
    pub(crate) fn set_delivered(&self, batch_id: u64, now_ms: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE batches SET delivered = 1, delivered_ms = ?2 WHERE batch_id = ?1",
            params![batch_id as i64, now_ms as i64],
        )?;
        Ok(())
    }

    /// Batches whose jobs are ours (we hold their manifests), in id order.
    pub(crate) fn our_batches(&self) -> Result<Vec<BatchRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT batch_id, root, first_job, job_count, leaf_count, reward, circuit,
                    cancelled_block IS NOT NULL, final_hash, block FROM batches b
             WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = b.batch_id)
             ORDER BY batch_id",
        )?;
        let rows = st
            .query_map([], batch_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Delivered batches not yet pruned whose delivery is before `before_ms`.
    pub(crate) fn prunable(&self, before_ms: u64) -> Result<Vec<u64>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT batch_id FROM batches WHERE delivered = 1 AND pruned = 0 AND delivered_ms < ?1",
        )?;
        let rows = st
            .query_map([before_ms as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<u64>>>()?;
        Ok(rows)
    }

    /// Records that a batch's blobs were pruned. Its upload records stay (a few dozen bytes
    /// each): when bytes arrived is what a Missing verdict is held against, after the bytes too.
    pub(crate) fn set_pruned(&self, batch_id: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE batches SET pruned = 1 WHERE batch_id = ?1",
            [batch_id as i64],
        )?;
        Ok(())
    }

    /// Records that proof bytes for `job_id` are stored under `hash`. Kept apart from the
    /// submissions, which a reorg can roll back: the bytes of a submission it dropped are still
    /// pruned with their batch.
    /// They arrived at `now_ms` (this machine's clock) and `chain_at` (the chain time of the
    /// latest block the relayer had seen, the clock its Missing verdicts go by; unknown before
    /// it read one): the first upload of the bytes counts, and it is public
    /// (`GET /v1/uploads/{hash}`), so anyone can hold a Missing verdict against it.
    pub(crate) fn record_upload(
        &self,
        hash: &[u8; 32],
        job_id: u64,
        now_ms: u64,
        chain_at: Option<u64>,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO uploads (proof_hash, job_id, uploaded_ms, uploaded_at) VALUES (?1, ?2, ?3, ?4)",
            params![&hash[..], job_id as i64, now_ms as i64, chain_at.map(|t| t as i64)],
        )?;
        Ok(())
    }

    /// The job and arrival times (unix ms; chain time, s; unknown for records from before
    /// they were kept) of the proof bytes under `hash`.
    pub(crate) fn upload(&self, hash: &[u8; 32]) -> Result<Option<UploadRecord>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT job_id, uploaded_ms, uploaded_at FROM uploads WHERE proof_hash = ?1",
                [&hash[..]],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, Option<i64>>(1)?.map(|v| v as u64),
                        r.get::<_, Option<i64>>(2)?.map(|v| v as u64),
                    ))
                },
            )
            .optional()?)
    }

    /// Proof hashes of every submission and every upload for the jobs of a batch's tree.
    pub(crate) fn tree_proof_hashes(&self, batch_id: u64) -> Result<Vec<[u8; 32]>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT s.proof_hash FROM submissions s JOIN jobs j ON j.job_id = s.job_id WHERE j.batch_id = ?1
             UNION SELECT u.proof_hash FROM uploads u JOIN jobs j ON j.job_id = u.job_id WHERE j.batch_id = ?1",
        )?;
        let rows = st
            .query_map([batch_id as i64], |r| r.get::<_, Vec<u8>>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows.into_iter().map(b32).collect())
    }

    /// Numbers of the processed blocks whose hashes are kept, newest first.
    pub(crate) fn recorded_blocks(&self) -> Result<Vec<u64>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT number FROM blocks ORDER BY number DESC")?;
        let rows = st
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<u64>>>()?;
        Ok(rows)
    }

    /// Records that verdicts for these submissions were sent at `now_ms` (None: not sent after
    /// all, so they may go at once).
    pub(crate) fn mark_posted(&self, request_ids: &[u64], now_ms: Option<u64>) -> Result<()> {
        let conn = self.conn();
        for rid in request_ids {
            conn.execute(
                "UPDATE submissions SET posted_ms = ?2 WHERE request_id = ?1",
                params![*rid as i64, now_ms.map(|t| t as i64)],
            )?;
        }
        Ok(())
    }

    /// The stored bytes for `hash` were not its bytes (and are gone): its submissions wait for
    /// an upload again.
    pub(crate) fn not_uploaded(&self, hash: &[u8; 32]) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE submissions SET uploaded = 0 WHERE proof_hash = ?1 AND local_verdict IS NULL",
            [&hash[..]],
        )?)
    }

    /// Bytes for `hash` arrived: submissions that committed to it are marked uploaded, and a
    /// Missing decision not yet sent is withdrawn so the proof is verified instead.
    pub(crate) fn uploaded(&self, hash: &[u8; 32]) -> Result<usize> {
        let conn = self.conn();
        conn.execute(
            &format!(
                "UPDATE submissions SET local_verdict = NULL, decided_ms = NULL
                 WHERE proof_hash = ?1 AND local_verdict = {} AND onchain_verdict IS NULL AND posted_ms IS NULL",
                Verdict::Missing as u8
            ),
            [&hash[..]],
        )?;
        Ok(conn.execute(
            "UPDATE submissions SET uploaded = 1 WHERE proof_hash = ?1",
            [&hash[..]],
        )?)
    }

    /// A job by id (ours only).
    pub(crate) fn job(&self, job_id: u64) -> Result<Option<JobRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT job_id, batch_id, idx, level, node, statement, witness_hash, winning_proof
                 FROM jobs WHERE job_id = ?1",
                [job_id],
                job_row,
            )
            .optional()?)
    }

    /// The jobs of a batch's tree, every level.
    pub(crate) fn tree_jobs(&self, batch_id: u64) -> Result<Vec<JobRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT job_id, batch_id, idx, level, node, statement, witness_hash, winning_proof
             FROM jobs WHERE batch_id = ?1 ORDER BY level, node, job_id",
        )?;
        let rows = st
            .query_map([batch_id], job_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A submission by request id.
    pub(crate) fn submission(&self, request_id: u64) -> Result<Option<SubmissionRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("{SUBMISSION_COLUMNS} FROM submissions s WHERE request_id = ?1"),
                [request_id as i64],
                submission_row,
            )
            .optional()?)
    }

    /// Submissions whose bytes are here and that the relayer has not judged yet, oldest first.
    pub(crate) fn to_verify(&self, limit: usize) -> Result<Vec<SubmissionRow>> {
        self.submissions_where(
            "WHERE uploaded = 1 AND local_verdict IS NULL AND onchain_verdict IS NULL
             ORDER BY block, log_index LIMIT ?1",
            limit,
        )
    }

    /// Submissions without a verdict, decided or on chain, oldest first.
    pub(crate) fn undecided(&self, limit: usize) -> Result<Vec<SubmissionRow>> {
        self.submissions_where(
            "WHERE local_verdict IS NULL AND onchain_verdict IS NULL ORDER BY block, log_index LIMIT ?1",
            limit,
        )
    }

    /// Up to `limit` leases this database holds without a submission, of jobs not complete,
    /// leased at block `upto` or before.
    pub(crate) fn unsubmitted_leases(&self, upto: u64, limit: usize) -> Result<Vec<u64>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT l.request_id FROM leases l JOIN jobs j ON j.job_id = l.job_id
             WHERE j.completed_block IS NULL AND l.block <= ?1
               AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.request_id = l.request_id)
             ORDER BY l.request_id LIMIT ?2",
        )?;
        let rows = st
            .query_map(params![upto as i64, limit as i64], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows.into_iter().map(|r| r as u64).collect())
    }

    /// Submissions whose bytes did not arrive by `deadline_at` (chain time of submission plus
    /// the upload deadline, compared with `now`).
    pub(crate) fn overdue(
        &self,
        now: u64,
        deadline: u64,
        limit: usize,
    ) -> Result<Vec<SubmissionRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "{SUBMISSION_COLUMNS} FROM submissions s WHERE uploaded = 0 AND local_verdict IS NULL AND onchain_verdict IS NULL
             AND submitted_at + ?1 <= ?2 ORDER BY block, log_index LIMIT ?3"
        ))?;
        let rows = st
            .query_map(
                params![deadline as i64, now as i64, limit as i64],
                submission_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Records the relayer's verdict on a submission.
    pub(crate) fn set_local_verdict(
        &self,
        request_id: u64,
        verdict: Option<Verdict>,
        now_ms: u64,
    ) -> Result<()> {
        self.conn().execute(
            "UPDATE submissions SET local_verdict = ?2, decided_ms = ?3 WHERE request_id = ?1",
            params![request_id as i64, verdict.map(u8::from), now_ms as i64],
        )?;
        Ok(())
    }

    /// Verdicts decided but not on chain that may be posted now, in submission order: an entry
    /// waits while an earlier submission for the same job is undecided, so the first valid proof
    /// wins; entries sent after `resend_before_ms` are in flight and left out. Returns each row
    /// with its decision time (ms).
    pub(crate) fn postable(
        &self,
        limit: usize,
        resend_before_ms: u64,
    ) -> Result<Vec<(SubmissionRow, Option<u64>)>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "{SUBMISSION_COLUMNS}, s.decided_ms FROM submissions s WHERE s.local_verdict IS NOT NULL AND s.onchain_verdict IS NULL
             AND (s.posted_ms IS NULL OR s.posted_ms < ?2)
             AND NOT EXISTS (SELECT 1 FROM submissions e WHERE e.job_id = s.job_id
                 AND (e.block, e.log_index) < (s.block, s.log_index)
                 AND e.onchain_verdict IS NULL AND e.local_verdict IS NULL)
             ORDER BY s.block, s.log_index LIMIT ?1"
        ))?;
        let rows = st
            .query_map(params![limit as i64, resend_before_ms as i64], |r| {
                let row = submission_row(r)?;
                Ok((row, r.get::<_, Option<u64>>(8)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Counts for `/status` and `/metrics` (on the read-only connection).
    pub(crate) fn counts(&self) -> Result<Counts> {
        let conn = self.reader();
        let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, u64>(0));
        let with_verdict = "SELECT COUNT(*) FROM submissions WHERE onchain_verdict";
        Ok(Counts {
            batches: one("SELECT COUNT(*) FROM batches")?,
            jobs: one("SELECT COUNT(*) FROM jobs")?,
            jobs_complete: one("SELECT COUNT(*) FROM jobs WHERE winning_proof IS NOT NULL")?,
            leases: one("SELECT COUNT(*) FROM leases")?,
            submissions: one("SELECT COUNT(*) FROM submissions")?,
            awaiting_upload: one(
                "SELECT COUNT(*) FROM submissions WHERE uploaded = 0 AND onchain_verdict IS NULL AND local_verdict IS NULL",
            )?,
            awaiting_verdict: one(
                "SELECT COUNT(*) FROM submissions WHERE onchain_verdict IS NULL",
            )?,
            valid: one(&format!("{with_verdict} = {}", Verdict::Valid as u8))?,
            invalid: one(&format!("{with_verdict} = {}", Verdict::Invalid as u8))?,
            missing: one(&format!("{with_verdict} = {}", Verdict::Missing as u8))?,
            provers: one("SELECT COUNT(DISTINCT prover) FROM leases")?,
        })
    }

    /// Recent verdicts on chain, newest first (on the read-only connection).
    pub(crate) fn recent_verdicts(&self, limit: usize) -> Result<Vec<VerdictRecord>> {
        let conn = self.reader();
        let mut st = conn.prepare(
            "SELECT request_id, job_id, prover, onchain_verdict, proof_hash FROM submissions
             WHERE onchain_verdict IS NOT NULL ORDER BY verdict_block DESC, request_id DESC LIMIT ?1",
        )?;
        let rows = st
            .query_map([limit as i64], |r| {
                Ok(VerdictRecord {
                    request_id: r.get::<_, i64>(0)? as u64,
                    job_id: r.get(1)?,
                    prover: b20(r.get(2)?),
                    verdict: code(r, 3)?,
                    proof_hash: b32(r.get(4)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Tree progress, rewards and latencies for the status page (chain times: the lease's,
    /// submission's and verdict's blocks), over bounded ranges but for the rewards.
    pub(crate) fn activity(&self) -> Result<Activity> {
        let conn = self.reader();
        let levels = conn
            .prepare(&format!(
                "SELECT batch_id, level, COUNT(*), SUM(completed_block IS NOT NULL) FROM jobs
                 WHERE batch_id > (SELECT COALESCE(MAX(batch_id), 0) FROM batches) - {ACTIVITY_BATCHES}
                 GROUP BY batch_id, level ORDER BY batch_id, level"
            ))?
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, i64>(1)? as u8,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, i64>(3)? as u64,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // The verdicts that completed a job (and paid): one per job, a resubmitted duplicate of
        // the same bytes not counted.
        let rewards = conn
            .prepare(
                "SELECT s.prover, b.reward, COUNT(*) FROM submissions s
                 JOIN jobs j ON j.job_id = s.job_id JOIN batches b ON b.batch_id = j.batch_id
                 WHERE s.completed = 1 GROUP BY s.prover, j.batch_id",
            )?
            .query_map([], |r| {
                Ok((
                    b20(r.get(0)?),
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // Latencies of the latest submissions (by request id: the newest jobs).
        let lease_to_submission = conn
            .prepare(&format!(
                "SELECT s.prover, MAX(s.submitted_at - l.leased_at, 0) FROM submissions s
                 JOIN leases l ON l.request_id = s.request_id WHERE l.leased_at IS NOT NULL
                 ORDER BY s.request_id DESC LIMIT {ACTIVITY_SUBMISSIONS}"
            ))?
            .query_map([], |r| Ok((b20(r.get(0)?), r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let submission_to_verdict = conn
            .prepare(&format!(
                "SELECT MAX(verdict_at - submitted_at, 0) FROM submissions WHERE verdict_at IS NOT NULL
                 ORDER BY request_id DESC LIMIT {ACTIVITY_SUBMISSIONS}"
            ))?
            .query_map([], |r| Ok(r.get::<_, i64>(0)? as u64))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Activity {
            levels,
            rewards,
            lease_to_submission,
            submission_to_verdict,
        })
    }

    /// Per-prover counts of leases and verdicts, the `limit` provers with the most leases (on
    /// the read-only connection; one pass over each table, no query per prover).
    pub(crate) fn provers(&self, limit: usize) -> Result<Vec<ProverCounts>> {
        let conn = self.reader();
        let mut st = conn.prepare(&format!(
            "SELECT l.prover, l.n, COALESCE(s.valid, 0), COALESCE(s.invalid, 0), COALESCE(s.missing, 0)
             FROM (SELECT prover, COUNT(*) AS n FROM leases GROUP BY prover) l
             LEFT JOIN (SELECT prover, SUM(onchain_verdict = {}) AS valid,
                               SUM(onchain_verdict = {}) AS invalid, SUM(onchain_verdict = {}) AS missing
                        FROM submissions GROUP BY prover) s ON s.prover = l.prover
             ORDER BY l.n DESC, l.prover LIMIT {limit}",
            Verdict::Valid as u8,
            Verdict::Invalid as u8,
            Verdict::Missing as u8
        ))?;
        let rows = st
            .query_map([], |r| {
                Ok(ProverCounts {
                    prover: b20(r.get(0)?),
                    leases: r.get(1)?,
                    valid: r.get(2)?,
                    invalid: r.get(3)?,
                    missing: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    fn submissions_where(&self, tail: &str, limit: usize) -> Result<Vec<SubmissionRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!("{SUBMISSION_COLUMNS} FROM submissions s {tail}"))?;
        let rows = st
            .query_map([limit as i64], submission_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

/// A verdict recorded on chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VerdictRecord {
    /// The lease judged.
    pub(crate) request_id: u64,
    /// Its job.
    pub(crate) job_id: u64,
    /// Its holder.
    pub(crate) prover: [u8; 20],
    /// The verdict.
    pub(crate) verdict: Verdict,
    /// The proof hash it judged.
    pub(crate) proof_hash: [u8; 32],
}

/// A proof's upload: its job, and when its bytes arrived (unix ms; chain time, s), each
/// unknown (`None`) for records from before they were kept.
pub(crate) type UploadRecord = (u64, Option<u64>, Option<u64>);

/// What the status page shows beyond the counts, read in a few passes on the read-only
/// connection (see [`Db::activity`]).
#[derive(Debug, Default)]
pub(crate) struct Activity {
    /// Per batch and level: (batch, level, jobs, complete).
    pub(crate) levels: Vec<(u64, u8, u64, u64)>,
    /// Per prover and batch: the batch's reward (decimal base units) and the jobs of it the
    /// prover completed.
    pub(crate) rewards: Vec<([u8; 20], String, u64)>,
    /// Seconds from lease to submission, per submitting prover (the latest submissions).
    pub(crate) lease_to_submission: Vec<([u8; 20], u64)>,
    /// Seconds from submission to its on-chain verdict (the latest submissions).
    pub(crate) submission_to_verdict: Vec<u64>,
}

/// Batches whose trees [`Db::activity`] reads, the newest (the status page shows 50).
const ACTIVITY_BATCHES: u64 = 50;
/// Submissions whose latencies [`Db::activity`] reads, the latest.
const ACTIVITY_SUBMISSIONS: u64 = 10_000;

/// One prover's leases and verdicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProverCounts {
    /// The prover.
    pub(crate) prover: [u8; 20],
    /// Leases it took.
    pub(crate) leases: u64,
    /// Its valid verdicts.
    pub(crate) valid: u64,
    /// Its invalid verdicts.
    pub(crate) invalid: u64,
    /// Its missing verdicts.
    pub(crate) missing: u64,
}

/// Row counts the relayer reports.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub(crate) struct Counts {
    /// Batches seen on chain.
    pub(crate) batches: u64,
    /// Our jobs.
    pub(crate) jobs: u64,
    /// Our jobs complete.
    pub(crate) jobs_complete: u64,
    /// Leases seen.
    pub(crate) leases: u64,
    /// Submissions seen.
    pub(crate) submissions: u64,
    /// Submissions whose bytes have not arrived.
    pub(crate) awaiting_upload: u64,
    /// Submissions without an on-chain verdict.
    pub(crate) awaiting_verdict: u64,
    /// Valid verdicts on chain.
    pub(crate) valid: u64,
    /// Invalid verdicts on chain.
    pub(crate) invalid: u64,
    /// Missing verdicts on chain.
    pub(crate) missing: u64,
    /// Distinct provers that leased.
    pub(crate) provers: u64,
}

const SUBMISSION_COLUMNS: &str =
    "SELECT s.request_id, s.job_id, s.prover, s.proof_hash, s.submitted_at,
    s.uploaded, s.local_verdict, s.onchain_verdict";

fn batch_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BatchRow> {
    Ok(BatchRow {
        batch_id: r.get(0)?,
        root: b32(r.get(1)?),
        first_job: r.get(2)?,
        job_count: r.get(3)?,
        leaf_count: r.get(4)?,
        reward: r.get(5)?,
        circuit: b32(r.get(6)?),
        cancelled: r.get(7)?,
        final_hash: r.get::<_, Option<Vec<u8>>>(8)?.map(b32),
        block: r.get(9)?,
    })
}

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        job_id: r.get(0)?,
        batch_id: r.get(1)?,
        idx: r.get(2)?,
        level: r.get(3)?,
        node: r.get(4)?,
        statement: r.get(5)?,
        witness_hash: b32(r.get(6)?),
        winning_proof: r.get::<_, Option<Vec<u8>>>(7)?.map(b32),
    })
}

fn submission_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SubmissionRow> {
    Ok(SubmissionRow {
        request_id: r.get::<_, i64>(0)? as u64,
        job_id: r.get(1)?,
        prover: b20(r.get(2)?),
        proof_hash: b32(r.get(3)?),
        submitted_at: r.get(4)?,
        uploaded: r.get::<_, i64>(5)? != 0,
        local_verdict: opt_code(r, 6)?,
        onchain_verdict: opt_code(r, 7)?,
    })
}

/// Writes inside one transaction (see [`Db::transaction`]).
pub(crate) struct Tx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx<'_> {
    /// Records a processed block's hash.
    pub(crate) fn record_block(&self, number: u64, hash: &[u8; 32]) -> Result<()> {
        self.0.execute(
            "INSERT INTO blocks (number, hash) VALUES (?1, ?2) ON CONFLICT(number) DO UPDATE SET hash = ?2",
            params![number as i64, &hash[..]],
        )?;
        // Reorg detection needs only the recent past.
        self.0.execute(
            "DELETE FROM blocks WHERE number + 1024 < ?1",
            [number as i64],
        )?;
        Ok(())
    }

    /// Forgets everything learned from blocks after `block` (a reorg replaced them).
    pub(crate) fn rollback_after(&self, block: u64) -> Result<()> {
        let b = block as i64;
        self.0
            .execute("DELETE FROM blocks WHERE number > ?1", [b])?;
        self.0.execute(
            "DELETE FROM jobs WHERE batch_id IN (SELECT batch_id FROM batches WHERE block > ?1)",
            [b],
        )?;
        self.0
            .execute("DELETE FROM batches WHERE block > ?1", [b])?;
        self.0.execute(
            "UPDATE batches SET cancelled_block = NULL WHERE cancelled_block > ?1",
            [b],
        )?;
        self.0.execute(
            "UPDATE batches SET final_hash = NULL, final_block = NULL, delivered = 0 WHERE final_block > ?1",
            [b],
        )?;
        self.0.execute("UPDATE jobs SET winning_proof = NULL, completed_block = NULL WHERE completed_block > ?1", [b])?;
        self.0.execute("DELETE FROM leases WHERE block > ?1", [b])?;
        self.0
            .execute("DELETE FROM submissions WHERE block > ?1", [b])?;
        self.0.execute(
            "UPDATE submissions SET onchain_verdict = NULL, verdict_block = NULL, verdict_at = NULL, completed = 0, local_verdict = NULL,
               decided_ms = NULL, posted_ms = NULL
             WHERE verdict_block > ?1",
            [b],
        )?;
        Ok(())
    }

    /// Records a BatchPosted event.
    pub(crate) fn insert_batch(&self, b: &BatchRow) -> Result<()> {
        self.0.execute(
            "INSERT OR REPLACE INTO batches (batch_id, root, first_job, job_count, leaf_count, reward, circuit, block)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                b.batch_id as i64,
                &b.root[..],
                b.first_job as i64,
                b.job_count as i64,
                b.leaf_count as i64,
                b.reward,
                &b.circuit[..],
                b.block as i64
            ],
        )?;
        Ok(())
    }

    /// Records a BatchCancelled event.
    pub(crate) fn set_cancelled(&self, batch_id: u64, block: u64) -> Result<()> {
        self.0.execute(
            "UPDATE batches SET cancelled_block = ?2 WHERE batch_id = ?1",
            params![batch_id as i64, block as i64],
        )?;
        Ok(())
    }

    /// Records a BatchFinalized event.
    pub(crate) fn set_finalized(&self, batch_id: u64, hash: &[u8; 32], block: u64) -> Result<()> {
        self.0.execute(
            "UPDATE batches SET final_hash = ?2, final_block = ?3 WHERE batch_id = ?1",
            params![batch_id as i64, &hash[..], block as i64],
        )?;
        Ok(())
    }

    /// Records one of our jobs.
    pub(crate) fn insert_job(&self, j: &JobRow) -> Result<()> {
        self.0.execute(
            "INSERT OR IGNORE INTO jobs (job_id, batch_id, idx, level, node, statement, witness_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                j.job_id as i64,
                j.batch_id as i64,
                j.idx as i64,
                j.level,
                j.node as i64,
                j.statement,
                &j.witness_hash[..]
            ],
        )?;
        Ok(())
    }

    /// Records a JobLeased event.
    pub(crate) fn insert_lease(
        &self,
        request_id: u64,
        job_id: u64,
        prover: &[u8; 20],
        block: u64,
        at: u64,
    ) -> Result<()> {
        self.0.execute(
            "INSERT OR IGNORE INTO leases (request_id, job_id, prover, block, leased_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![request_id as i64, job_id as i64, &prover[..], block as i64, at as i64],
        )?;
        Ok(())
    }

    /// Records a ProofSubmitted event; `uploaded` if the bytes are already here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_submission(
        &self,
        request_id: u64,
        job_id: u64,
        prover: &[u8; 20],
        proof_hash: &[u8; 32],
        submitted_at: u64,
        block: u64,
        log_index: u64,
        uploaded: bool,
    ) -> Result<()> {
        self.0.execute(
            "INSERT OR IGNORE INTO submissions (request_id, job_id, prover, proof_hash, submitted_at, block, log_index, uploaded)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                request_id as i64,
                job_id as i64,
                &prover[..],
                &proof_hash[..],
                submitted_at as i64,
                block as i64,
                log_index as i64,
                uploaded as i64
            ],
        )?;
        Ok(())
    }

    /// Records a VerdictRecorded event; a completing verdict makes the submission's proof the
    /// job's winning proof.
    pub(crate) fn set_onchain_verdict(
        &self,
        request_id: u64,
        verdict: Verdict,
        completed: bool,
        block: u64,
        at: u64,
    ) -> Result<()> {
        self.0.execute(
            "UPDATE submissions SET onchain_verdict = ?2, verdict_block = ?3, verdict_at = ?4, completed = ?5
             WHERE request_id = ?1",
            params![request_id as i64, u8::from(verdict), block as i64, at as i64, completed],
        )?;
        if completed {
            self.0.execute(
                "UPDATE jobs SET winning_proof = (SELECT proof_hash FROM submissions WHERE request_id = ?1),
                   completed_block = ?2
                 WHERE job_id = (SELECT job_id FROM submissions WHERE request_id = ?1)",
                params![request_id as i64, block as i64],
            )?;
        }
        Ok(())
    }

    /// Records the relayer's verdict on a submission.
    pub(crate) fn set_local_verdict(
        &self,
        request_id: u64,
        verdict: Verdict,
        now_ms: u64,
    ) -> Result<()> {
        self.0.execute(
            "UPDATE submissions SET local_verdict = ?2, decided_ms = ?3 WHERE request_id = ?1",
            params![request_id as i64, u8::from(verdict), now_ms as i64],
        )?;
        Ok(())
    }

    /// Forgets the relayer's own verdict on a submission (the chain skipped it), so it is
    /// decided again.
    pub(crate) fn clear_local_verdict(&self, request_id: u64) -> Result<()> {
        self.0.execute(
            "UPDATE submissions SET local_verdict = NULL, decided_ms = NULL, posted_ms = NULL
             WHERE request_id = ?1 AND onchain_verdict IS NULL",
            [request_id as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 3 database gains the new columns in place: its upload records and deliveries
    /// (which the chain cannot give back) stay, their new times unknown.
    #[test]
    fn a_version_3_database_is_migrated_in_place() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE batches (batch_id INTEGER PRIMARY KEY, delivered INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE leases (request_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL,
               prover BLOB NOT NULL, block INTEGER NOT NULL);
             CREATE TABLE submissions (request_id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL);
             CREATE TABLE uploads (proof_hash BLOB PRIMARY KEY, job_id INTEGER NOT NULL);
             INSERT INTO batches VALUES (1, 1);
             INSERT INTO uploads VALUES (x'0101010101010101010101010101010101010101010101010101010101010101', 7);
             PRAGMA user_version = 3;",
        )
        .unwrap();
        let db = Db::init(conn).unwrap();
        assert_eq!(db.upload(&[1; 32]).unwrap(), Some((7, None, None)));
        let delivered: i64 = db
            .conn()
            .query_row("SELECT delivered FROM batches", [], |r| r.get(0))
            .unwrap();
        assert_eq!(delivered, 1, "the delivery kept");
        let version: i64 = db
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    fn sub(tx: &Tx<'_>, rid: u64, job: u64, block: u64, log: u64) {
        tx.insert_submission(rid, job, &[1; 20], &[rid as u8; 32], 100, block, log, true)
            .unwrap();
    }

    #[test]
    fn postable_waits_for_earlier_submissions_of_the_same_job() {
        let db = Db::in_memory().unwrap();
        db.transaction(|tx| {
            sub(tx, 1, 7, 10, 0); // job 7, first
            sub(tx, 2, 7, 11, 0); // job 7, second
            sub(tx, 3, 8, 11, 1); // job 8
            Ok(())
        })
        .unwrap();
        db.set_local_verdict(2, Some(Verdict::Valid), 5).unwrap();
        db.set_local_verdict(3, Some(Verdict::Valid), 6).unwrap();
        let ids = |rows: &[(SubmissionRow, Option<u64>)]| -> Vec<(u64, Option<u64>)> {
            rows.iter().map(|(r, at)| (r.request_id, *at)).collect()
        };
        let rows = db.postable(10, 0).unwrap();
        assert_eq!(ids(&rows), [(3, Some(6))], "2 waits for 1");
        db.set_local_verdict(1, Some(Verdict::Invalid), 7).unwrap();
        let rows = db.postable(10, 0).unwrap();
        assert_eq!(ids(&rows), [(1, Some(7)), (2, Some(5)), (3, Some(6))]);
        db.mark_posted(&[1, 2], Some(100)).unwrap();
        let rows = db.postable(10, 50).unwrap();
        assert_eq!(ids(&rows), [(3, Some(6))], "1 and 2 are in flight");
        let rows = db.postable(10, 101).unwrap();
        assert_eq!(rows.len(), 3, "resent once the flight is old");
    }

    #[test]
    fn rollback_forgets_later_blocks() {
        let db = Db::in_memory().unwrap();
        db.transaction(|tx| {
            tx.record_block(10, &[1; 32])?;
            tx.record_block(11, &[2; 32])?;
            sub(tx, 1, 7, 10, 0);
            sub(tx, 2, 7, 11, 0);
            tx.set_onchain_verdict(1, Verdict::Valid, false, 11, 0)?;
            Ok(())
        })
        .unwrap();
        db.transaction(|tx| tx.rollback_after(10)).unwrap();
        assert_eq!(db.cursor().unwrap(), Some(10));
        assert!(db.submission(2).unwrap().is_none());
        assert_eq!(
            db.submission(1).unwrap().unwrap().onchain_verdict,
            None,
            "verdict of block 11 undone"
        );
    }

    #[test]
    fn overdue_finds_bytes_that_never_came() {
        let db = Db::in_memory().unwrap();
        db.transaction(|tx| {
            tx.insert_submission(1, 7, &[1; 20], &[1; 32], 100, 10, 0, false)?;
            tx.insert_submission(2, 8, &[1; 20], &[2; 32], 100, 10, 1, true)
        })
        .unwrap();
        assert!(db.overdue(159, 60, 10).unwrap().is_empty());
        assert_eq!(db.overdue(160, 60, 10).unwrap().len(), 1);
        assert_eq!(db.uploaded(&[1; 32]).unwrap(), 1);
        assert!(db.overdue(160, 60, 10).unwrap().is_empty());
    }
}
