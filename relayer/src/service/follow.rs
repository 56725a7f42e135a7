//! Following the chain: read the Coordinator's events from the cursor up to the confirmed
//! head, roll the database back when a reorg replaced blocks under the cursor, and apply the
//! events (with what they need from the blob store and the chain) in one transaction per read.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::{SolEvent, SolEventInterface};
use anyhow::anyhow;

use crowdprove_bindings::Coordinator;
use crowdprove_protocol::{LeaseState, Manifest, RequestId, Verdict};

use super::{Every, Shared};
use crate::blobs::BlobKind;
use crate::chain::retry;
use crate::db::{BatchRow, JobRow};

/// Most blocks read per tick.
const LOG_RANGE: u64 = 2_000;
/// Blocks at least this far under the head are read by range, in one `eth_getLogs`; the
/// shallower ones one by one, by block hash. A node that lags behind the head (one of several
/// behind a load balancer, say) answers a range past its own head with no logs, which reads
/// like blocks without events; asked for a block hash it does not know, it answers an error.
const DEEP: u64 = 64;

/// Reads the next range of confirmed events into the database.
pub(super) async fn run(s: &Shared) -> anyhow::Result<()> {
    let provider = &s.chain.provider;
    let head = retry("read the head", || provider.get_block_number()).await?;
    if let Some(b) = retry("read the head block", || {
        provider.get_block_by_number(BlockNumberOrTag::Number(head))
    })
    .await?
    {
        // Never back: a lagging RPC node behind a balancer can answer an older head, and an
        // upload's recorded time must not fall before a Missing verdict already decided.
        s.chain_time
            .fetch_max(b.header.timestamp, Ordering::Relaxed);
    }
    let safe = head.saturating_sub(s.cfg.follow.confirmations.unwrap_or(0));
    let mut cursor = s.db.cursor()?;
    if let Some(c) = cursor {
        if !block_matches(s, c).await? {
            let fork = find_fork(s).await?;
            tracing::warn!(at = c, back_to = ?fork, "chain reorganized under the cursor; rolling back");
            s.metrics.reorgs.inc();
            // The reorg may have dropped transactions of ours: number the next from the chain.
            s.chain.tx.resync().await;
            let to = fork.unwrap_or(s.cfg.follow.from_block.saturating_sub(1));
            s.db.transaction(|tx| tx.rollback_after(to))?;
            cursor = fork;
            s.metrics.followed_block.set(to as i64);
        }
    }
    let start = cursor.map_or(s.cfg.follow.from_block, |c| c + 1);
    if start > safe {
        return Ok(());
    }
    let end = safe.min(start + LOG_RANGE - 1);
    let Some((logs, end, end_hash)) = read_logs(s, start, end, head).await? else {
        return Ok(());
    };
    let events = decode(s, logs).await?;
    s.db.transaction(|tx| {
        for e in &events {
            e.apply(tx)?;
        }
        tx.record_block(end, &end_hash.0)
    })?;
    s.metrics.followed_block.set(end as i64);
    // An upload that landed between the blob check in `decode` and this commit found no row
    // to mark; look again now that the rows exist, or the submission waits forever.
    for e in &events {
        if let EventKind::Submitted {
            hash,
            uploaded: false,
            ..
        } = &e.kind
        {
            if s.blobs.exists(BlobKind::Proof, hash).await? {
                s.db.uploaded(hash)?;
            }
        }
    }
    if !events.is_empty() {
        tracing::debug!(
            from = start,
            to = end,
            events = events.len(),
            "followed the chain"
        );
    }
    Ok(())
}

/// Leases checked per reconciliation.
const RECONCILE_BATCH: usize = 256;

/// The reconciliation duty: every `--reconcile-secs`, the leases the database holds without a
/// submission are checked against the chain's `leaseInfo`; a submission the chain has in a
/// block already followed was missed (an RPC node that lost events), and is recorded now from
/// its event, so it is judged and its bond released rather than locked until it expires.
#[derive(Default)]
pub(super) struct Reconciler {
    last: Every,
}

impl Reconciler {
    /// Records the missed submissions, if it is time to look.
    pub(super) async fn run(&self, s: &Shared) -> anyhow::Result<()> {
        if !self
            .last
            .due(Duration::from_secs(s.cfg.follow.reconcile_secs.max(1)))
        {
            return Ok(());
        }
        let Some(cursor) = s.db.cursor()? else {
            return Ok(());
        };
        let coordinator = &s.chain.coordinator;
        let mut missed = Vec::new();
        for rid in s.db.unsubmitted_leases(cursor, RECONCILE_BATCH)? {
            let info = retry("read a lease", || async {
                coordinator.leaseInfo(rid).call().await
            })
            .await?;
            if matches!(
                LeaseState::try_from(info.state),
                // Not submitted, or given back (never to be submitted).
                Ok(LeaseState::None | LeaseState::Leased | LeaseState::Released)
            ) {
                continue;
            }
            let filter = Filter::new()
                .address(*coordinator.address())
                .event_signature(Coordinator::ProofSubmitted::SIGNATURE_HASH)
                .topic1(alloy::primitives::U256::from(rid))
                .from_block(s.cfg.follow.from_block)
                .to_block(cursor);
            let logs = retry("read a submission's event", || {
                s.chain.provider.get_logs(&filter)
            })
            .await?;
            missed.extend(logs);
        }
        if missed.is_empty() {
            return Ok(());
        }
        tracing::warn!(
            submissions = missed.len(),
            "following missed submissions the chain has (a lagging or faulty RPC node?): recorded now"
        );
        let events = decode(s, missed).await?;
        s.db.transaction(|tx| {
            for e in &events {
                e.apply(tx)?;
            }
            Ok(())
        })?;
        s.wake.notify_one();
        Ok(())
    }
}

// The Coordinator's logs of blocks `start..=end`, the last block read and its hash: by range
// up to `DEEP` blocks under `head`, then block by block by hash, so that a lagging node cannot
// make recent blocks look empty. A node that names a head whose last blocks it does not serve
// (one behind a balancer; anvil in the middle of a reorg) is read up to the last block it
// serves, none if it serves no new one: the next read goes on from there.
async fn read_logs(
    s: &Shared,
    start: u64,
    end: u64,
    head: u64,
) -> anyhow::Result<Option<(Vec<Log>, u64, alloy::primitives::B256)>> {
    let provider = &s.chain.provider;
    let coordinator = *s.chain.coordinator.address();
    let deep_end = end.min(head.saturating_sub(DEEP));
    let mut logs = Vec::new();
    if start <= deep_end {
        let filter = Filter::new()
            .address(coordinator)
            .from_block(start)
            .to_block(deep_end);
        logs = retry("read events", || provider.get_logs(&filter)).await?;
    }
    let mut end_hash = None;
    let mut served = end;
    for number in start.max(deep_end + 1)..=end {
        let Some(hash) = served_block_hash(s, number).await? else {
            if number == start {
                return Ok(None);
            }
            served = number - 1;
            break;
        };
        let filter = Filter::new().address(coordinator).at_block_hash(hash);
        logs.extend(retry("read a block's events", || provider.get_logs(&filter)).await?);
        end_hash = Some(hash);
    }
    let end_hash = match end_hash {
        Some(h) => h,
        None => block_hash(s, served).await?,
    };
    Ok(Some((logs, served, end_hash)))
}

async fn block_hash(s: &Shared, number: u64) -> anyhow::Result<alloy::primitives::B256> {
    served_block_hash(s, number)
        .await?
        .ok_or_else(|| anyhow!("block {number} not found"))
}

// The hash of block `number`, if the node serves it.
async fn served_block_hash(
    s: &Shared,
    number: u64,
) -> anyhow::Result<Option<alloy::primitives::B256>> {
    Ok(retry("read a block", || {
        s.chain
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
    })
    .await?
    .map(|b| b.header.hash))
}

async fn block_matches(s: &Shared, number: u64) -> anyhow::Result<bool> {
    let stored = s.db.block_hash(number)?;
    let chain = retry("read a block", || {
        s.chain
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
    })
    .await?;
    Ok(match (stored, chain) {
        (Some(a), Some(b)) => a == b.header.hash.0,
        (None, _) => true,
        (Some(_), None) => false,
    })
}

async fn find_fork(s: &Shared) -> anyhow::Result<Option<u64>> {
    for number in s.db.recorded_blocks()? {
        if block_matches(s, number).await? {
            return Ok(Some(number));
        }
    }
    Ok(None)
}

// The chain time of `log`'s block: the log's own, or the block's (read once per block).
async fn block_time(
    s: &Shared,
    log: &Log,
    block: u64,
    times: &mut HashMap<u64, u64>,
) -> anyhow::Result<u64> {
    if let Some(t) = log.block_timestamp.or_else(|| times.get(&block).copied()) {
        return Ok(t);
    }
    let b = retry("read a block", || {
        s.chain
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(block))
    })
    .await?
    .ok_or_else(|| anyhow!("block {block} not found"))?;
    times.insert(block, b.header.timestamp);
    Ok(b.header.timestamp)
}

// Decodes logs and fetches what applying them needs from the blob store and the chain.
async fn decode(s: &Shared, logs: Vec<Log>) -> anyhow::Result<Vec<Event>> {
    let mut out = Vec::with_capacity(logs.len());
    let mut times: HashMap<u64, u64> = HashMap::new();
    for log in logs {
        let (Some(block), Some(log_index)) = (log.block_number, log.log_index) else {
            continue;
        };
        let Ok(event) = Coordinator::CoordinatorEvents::decode_log(&log.inner) else {
            continue;
        };
        let kind = match event.data {
            Coordinator::CoordinatorEvents::BatchPosted(e) => {
                let manifest = s.manifest(&e.witnessRoot.0).await?;
                EventKind::Posted(e, manifest)
            }
            Coordinator::CoordinatorEvents::BatchCancelled(e) => {
                EventKind::Cancelled(e.batchId.into())
            }
            Coordinator::CoordinatorEvents::BatchFinalized(e) => {
                EventKind::Finalized(e.batchId.into(), e.finalProofHash.0)
            }
            Coordinator::CoordinatorEvents::JobLeased(e) => EventKind::Leased {
                request_id: e.requestId,
                job_id: RequestId(e.requestId).job(),
                prover: e.prover.0.0,
                at: block_time(s, &log, block, &mut times).await?,
            },
            Coordinator::CoordinatorEvents::ProofSubmitted(e) => {
                let at = block_time(s, &log, block, &mut times).await?;
                let uploaded = s.blobs.exists(BlobKind::Proof, &e.proofHash.0).await?;
                EventKind::Submitted {
                    request_id: e.requestId,
                    job_id: RequestId(e.requestId).job(),
                    prover: e.prover.0.0,
                    hash: e.proofHash.0,
                    at,
                    uploaded,
                }
            }
            Coordinator::CoordinatorEvents::VerdictRecorded(e) => EventKind::Verdict {
                request_id: e.requestId,
                result: Verdict::try_from(e.result)?,
                completed: e.completed,
                at: block_time(s, &log, block, &mut times).await?,
            },
            Coordinator::CoordinatorEvents::VerdictSkipped(e) => EventKind::Skipped(e.requestId),
            _ => continue,
        };
        out.push(Event {
            block,
            log_index,
            kind,
        });
    }
    Ok(out)
}

struct Event {
    block: u64,
    log_index: u64,
    kind: EventKind,
}

enum EventKind {
    Posted(Coordinator::BatchPosted, Option<Arc<Manifest>>),
    Cancelled(u64),
    Finalized(u64, [u8; 32]),
    Leased {
        request_id: u64,
        job_id: u64,
        prover: [u8; 20],
        at: u64,
    },
    Submitted {
        request_id: u64,
        job_id: u64,
        prover: [u8; 20],
        hash: [u8; 32],
        at: u64,
        uploaded: bool,
    },
    Verdict {
        request_id: u64,
        result: Verdict,
        completed: bool,
        at: u64,
    },
    Skipped(u64),
}

impl Event {
    fn apply(&self, tx: &crate::db::Tx<'_>) -> Result<(), crate::db::DbError> {
        match &self.kind {
            EventKind::Posted(e, manifest) => {
                let batch_id = u64::from(e.batchId);
                let first_job: u64 = e.firstJobId.to();
                let job_count: u64 = e.jobCount.to();
                let leaf_count: u64 = e.leafCount.to();
                tx.insert_batch(&BatchRow {
                    batch_id,
                    root: e.witnessRoot.0,
                    first_job,
                    job_count,
                    leaf_count,
                    reward: e.rewardPerJob.to_string(),
                    circuit: e.circuitId.0,
                    cancelled: false,
                    final_hash: None,
                    block: self.block,
                })?;
                // A batch is ours if we hold its manifest (its root commits to it, so the
                // shape must agree with the chain's counts).
                let Some(m) = manifest else { return Ok(()) };
                let jobs = m.jobs();
                if jobs.len() as u64 != job_count || m.witnesses.len() as u64 != leaf_count {
                    return Ok(());
                }
                for j in jobs {
                    tx.insert_job(&JobRow {
                        job_id: first_job + u64::from(j.index),
                        batch_id,
                        idx: u64::from(j.index),
                        level: j.level,
                        node: u64::from(j.node),
                        statement: j.statement.to_json(),
                        witness_hash: j.witness_hash,
                        winning_proof: None,
                    })?;
                }
                Ok(())
            }
            EventKind::Cancelled(id) => tx.set_cancelled(*id, self.block),
            EventKind::Finalized(id, hash) => tx.set_finalized(*id, hash, self.block),
            EventKind::Leased {
                request_id,
                job_id,
                prover,
                at,
            } => tx.insert_lease(*request_id, *job_id, prover, self.block, *at),
            EventKind::Submitted {
                request_id,
                job_id,
                prover,
                hash,
                at,
                uploaded,
            } => tx.insert_submission(
                *request_id,
                *job_id,
                prover,
                hash,
                *at,
                self.block,
                self.log_index,
                *uploaded,
            ),
            EventKind::Verdict {
                request_id,
                result,
                completed,
                at,
            } => tx.set_onchain_verdict(*request_id, *result, *completed, self.block, *at),
            EventKind::Skipped(request_id) => tx.clear_local_verdict(*request_id),
        }
    }
}
