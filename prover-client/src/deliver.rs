//! The third stage: every spooled proof is submitted, uploaded and unspooled, each by its own
//! task so that one slow relayer answer never holds another proof (or the prover) back. A
//! task tries until the chain has judged the lease: a relayer that is down or lags the chain
//! costs time, never a proof. A revert re-reads the lease before anything is deleted. On start
//! the spool is scanned and what an earlier run left is finished the same way. Delivered
//! proofs are watched until their verdict.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crowdprove_bindings::Coordinator::CoordinatorErrors;
use crowdprove_bindings::tx::TxError;
use crowdprove_protocol::{LeaseState, RequestId, TreeShape, limits, parse_hash};

use crate::api::{RelayerApi, Upload};
use crate::config::Connected;
use crate::give_back::GiveBack;
use crate::leaser::{CHAINED_LEASE_GAS, Leased, leased_in};
use crate::proving::{Proven, taken};
use crate::runner::{Stop, stopped_now};
use crate::spool::{Spool, SpoolEntry};
use crate::state::{Failure, Shared};

/// What every delivery task needs.
pub struct Ctx {
    /// The chain.
    pub conn: Arc<Connected>,
    /// The relayer.
    pub api: RelayerApi,
    /// The spool.
    pub spool: Arc<Spool>,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Where leases taken by `submitAndLease` go (to the leaser).
    pub rides: mpsc::UnboundedSender<Vec<Leased>>,
    /// Warn below this ETH balance (wei).
    pub min_eth: U256,
    /// Where leases nobody will prove go.
    pub give_back: Arc<GiveBack>,
}

/// The delivering stage.
pub struct Deliverer {
    /// What the tasks share.
    pub ctx: Arc<Ctx>,
    /// Spooled proofs from the prover.
    pub proven: mpsc::UnboundedReceiver<Proven>,
    /// How often verdicts are looked for.
    pub poll: Duration,
    /// How the run is asked to stop.
    pub stop: Stop,
}

/// The longest wait between two tries of one delivery: a relayer back from a restart has the
/// bytes within this, well inside the upload window it gives from its restart.
const MAX_DELAY: Duration = Duration::from_secs(5);

/// The wait between two tries of an upload the relayer refuses outright.
const REFUSED_DELAY: Duration = Duration::from_secs(30);

impl Deliverer {
    /// Delivers until the prover stage is done and every proof in hand is delivered (or the
    /// run stops now, the spool keeping the rest); then reads the verdicts once more.
    pub async fn run(mut self) {
        let ctx = self.ctx.clone();
        let mut tasks = JoinSet::new();
        let mut active = HashSet::new();
        match ctx.spool.list() {
            Ok(spooled) if !spooled.is_empty() => {
                tracing::info!(
                    proofs = spooled.len(),
                    "finishing spooled proofs from an earlier run"
                );
                for (entry, proof) in spooled {
                    active.insert(entry.request_id);
                    ctx.shared.update(|c| c.delivering += 1);
                    tasks.spawn(deliver(ctx.clone(), entry, proof, false, self.stop.clone()));
                }
            }
            Ok(_) => {}
            Err(e) => ctx
                .shared
                .fail(Failure::Own(format!("cannot read the spool: {e:#}"))),
        }
        let mut awaiting: Vec<(u64, [u8; 32])> = Vec::new();
        let mut settled: Vec<Settled> = Vec::new();
        let mut open = true;
        let mut tick = tokio::time::interval(self.poll);
        // A slow check (a transaction waiting for its receipt) is not followed by a burst.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_eth = None::<Instant>;
        let mut stop = self.stop.clone();
        loop {
            tokio::select! {
                p = self.proven.recv(), if open => match p {
                    Some(p) if active.insert(p.entry.request_id) => {
                        tasks.spawn(deliver(ctx.clone(), p.entry, p.proof, p.ride, self.stop.clone()));
                    }
                    // Already on its way (recovered from the spool): one task per lease.
                    Some(p) => ctx.shared.update(|c| {
                        c.delivering -= 1;
                        c.riding -= usize::from(p.ride);
                    }),
                    None => open = false,
                },
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok((rid, delivered)) = done {
                        ctx.shared.update(|c| c.delivering -= 1);
                        active.remove(&rid);
                        if let Some(hash) = delivered {
                            awaiting.push((rid, hash));
                        }
                    }
                }
                _ = tick.tick() => {
                    check_settled(&ctx, &mut settled, &mut awaiting).await;
                    check_verdicts(&ctx, &mut awaiting, &mut settled).await;
                    if last_eth.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        last_eth = Some(Instant::now());
                        check_eth(&ctx).await;
                    }
                }
                _ = stopped_now(&mut stop) => {
                    tasks.abort_all();
                    return;
                }
            }
            if !open && tasks.is_empty() {
                break;
            }
        }
        tokio::select! {
            _ = check_verdicts(&ctx, &mut awaiting, &mut settled) => {}
            _ = stopped_now(&mut stop) => {}
        }
        tracing::debug!("delivering stage done");
    }
}

// Waits `delay` (then doubles it up to MAX_DELAY); false if the run stops now meanwhile.
async fn pause(delay: &mut Duration, stop: &mut Stop) -> bool {
    let d = *delay;
    *delay = (*delay * 2).min(MAX_DELAY);
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = stopped_now(stop) => false,
    }
}

// Delivers one spooled proof: submits its hash unless the chain has it, uploads the bytes
// until the relayer takes them or the lease is judged, then unspools it. `ride`: a lease is
// booked on its first submission (`submitAndLease`); whatever comes of it, the booking is
// settled there, and what was leased goes to the leaser. Returns the lease and, if delivered,
// the proof hash to watch.
async fn deliver(
    ctx: Arc<Ctx>,
    entry: SpoolEntry,
    proof: Vec<u8>,
    mut ride: bool,
    mut stop: Stop,
) -> (u64, Option<[u8; 32]>) {
    let rid = entry.request_id;
    // The leases go to the leaser before the booking is dropped, so it never leases twice.
    let settle = |ride: &mut bool, leased: Option<Vec<Leased>>| {
        if std::mem::take(ride) {
            if let Some(l) = leased {
                if let Err(mpsc::error::SendError(l)) = ctx.rides.send(l) {
                    for l in l {
                        ctx.give_back
                            .lease(l.request_id, l.job_id, "leased while stopping");
                    }
                }
            }
            ctx.shared.update(|c| c.riding -= 1);
        }
    };
    let Some(hash) = parse_hash(&entry.proof_hash) else {
        settle(&mut ride, None);
        tracing::warn!(
            request = rid,
            "a spool entry without a proof hash; removing it"
        );
        let _ = ctx.spool.remove(rid);
        return (rid, None);
    };
    let coord = &ctx.conn.coordinator;
    let mut delay = Duration::from_millis(200);
    let mut refused_upload = false;
    let mut lagging = false;
    loop {
        let lease = match coord.leaseInfo(rid).call().await {
            Ok(l) => l,
            Err(e) => {
                settle(&mut ride, None);
                tracing::warn!(request = rid, error = %e, "cannot read the lease; the proof stays spooled and is tried again");
                if !pause(&mut delay, &mut stop).await {
                    return (rid, None);
                }
                continue;
            }
        };
        let ours = lease.holder == ctx.conn.address;
        // The contract keeps the hash's first 4 bytes: enough to tell that a reorg put another
        // submission in place of ours.
        let our_submission = ours && lease.proofPrefix.0 == hash[..4]
            // A job won by its only lease keeps no record of its holder (the contract deletes
            // it for a refund): Valid with none is that lease, ours, submitted by us alone.
            || (lease.holder.is_zero()
                && LeaseState::try_from(lease.state) == Ok(LeaseState::Valid));
        match LeaseState::try_from(lease.state) {
            Ok(LeaseState::Leased) if ours => {
                // A lease booked to ride goes only if the run is not stopping.
                let chained = ride && *stop.borrow() == 0;
                let sent = if chained {
                    let call = coord.submitAndLease(rid, B256::from(hash));
                    ctx.conn
                        .tx
                        .send_padded("submitAndLease", call, CHAINED_LEASE_GAS)
                        .await
                } else {
                    let call = coord.submitProof(rid, B256::from(hash));
                    ctx.conn.tx.send("submitProof", call).await
                };
                if sent.is_err() {
                    settle(&mut ride, None);
                }
                match sent {
                    Ok(receipt) => {
                        tracing::info!(request = rid, job = entry.job_id, "proof hash submitted");
                        // The gas paid for a submission and any lease: the lease's share
                        // stands for it in the reward check.
                        let leased = chained.then(|| leased_in(&receipt, 1));
                        settle(&mut ride, leased);
                        delay = Duration::from_millis(200);
                    }
                    // The lease was handed on and submitting it would count it against a bond
                    // that backs no more leases: a verdict on another lease frees room, and the
                    // job may still be open then.
                    Err(TxError::Refused {
                        error: CoordinatorErrors::LeaseCapReached(_),
                        ..
                    }) => {
                        tracing::info!(
                            request = rid,
                            "the bond backs no more leases now; the proof stays spooled until a verdict frees room"
                        );
                        let changed = ctx.shared.changed.notified();
                        tokio::select! {
                            _ = changed => {}
                            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                            _ = stopped_now(&mut stop) => return (rid, None),
                        }
                    }
                    // Refused with a reason, or reverted without one (an RPC behind the chain, a
                    // mined transaction that ran short): the proof is dropped only if the job
                    // closed. Otherwise the loop re-reads the lease: an earlier copy mined
                    // meanwhile (AlreadySubmitted) turns into an upload, a lease handed on into a
                    // drop.
                    Err(e @ (TxError::Refused { .. } | TxError::Reverted(_))) => {
                        if taken(&ctx.conn, entry.job_id).await {
                            tracing::info!(request = rid, why = %e, "submission refused and the job is closed; dropping the proof");
                            return drop_proof(&ctx, rid);
                        }
                        tracing::warn!(request = rid, why = %e, "submission refused or reverted; reading the lease again before anything is dropped");
                        if !pause(&mut delay, &mut stop).await {
                            return (rid, None);
                        }
                    }
                    Err(e @ TxError::Rpc(_)) => {
                        tracing::warn!(request = rid, error = %e, "submission failed; the proof stays spooled and is tried again");
                        if !pause(&mut delay, &mut stop).await {
                            return (rid, None);
                        }
                    }
                }
            }
            Ok(LeaseState::Submitted) if our_submission => {
                settle(&mut ride, None);
                match ctx.api.upload(rid, &proof).await {
                    Upload::Accepted => {
                        let _ = ctx.spool.remove(rid);
                        ctx.shared.update(|c| {
                            c.delivered += 1;
                            c.awaiting_verdict += 1;
                            c.relayer_down = false;
                        });
                        tracing::info!(request = rid, job = entry.job_id, "proof delivered");
                        return (rid, Some(hash));
                    }
                    Upload::Gone => {
                        let _ = ctx.spool.remove(rid);
                        ctx.shared.fail(Failure::Job(format!(
                            "request {rid}: judged Missing before the upload arrived"
                        )));
                        return (rid, None);
                    }
                    Upload::NotYet { why, down } => {
                        if down != ctx.shared.counts().relayer_down {
                            ctx.shared.update(|c| c.relayer_down = down);
                            if down {
                                tracing::warn!(
                                    request = rid,
                                    why,
                                    "the relayer is down; the proof stays spooled and is uploaded when it is back"
                                );
                            }
                        }
                        if !std::mem::replace(&mut lagging, true) {
                            tracing::info!(
                                request = rid,
                                why,
                                "upload not taken yet; trying again until the lease is judged"
                            );
                        }
                        if !pause(&mut delay, &mut stop).await {
                            return (rid, None);
                        }
                    }
                    Upload::Refused(why) => {
                        // Not ours to fix (the chain holds this proof's hash); tried again
                        // slowly in case the relayer is, until the lease is judged.
                        if !std::mem::replace(&mut refused_upload, true) {
                            tracing::warn!(
                                request = rid,
                                why,
                                "the relayer refuses the upload; trying again until the lease is judged"
                            );
                        }
                        if !pause(&mut REFUSED_DELAY.clone(), &mut stop).await {
                            return (rid, None);
                        }
                    }
                }
            }
            // Judged already: the relayer had the bytes (an earlier run uploaded them and
            // stopped before unspooling); the verdict watch takes it from here.
            Ok(LeaseState::Valid | LeaseState::Invalid) if our_submission => {
                settle(&mut ride, None);
                let _ = ctx.spool.remove(rid);
                ctx.shared.update(|c| c.awaiting_verdict += 1);
                return (rid, Some(hash));
            }
            Ok(LeaseState::Missing | LeaseState::Expired) if our_submission => {
                settle(&mut ride, None);
                let _ = ctx.spool.remove(rid);
                ctx.shared.fail(Failure::Job(format!(
                    "request {rid}: judged {:?} before the upload arrived",
                    LeaseState::try_from(lease.state)
                )));
                return (rid, None);
            }
            // Another holder, another submission, or a lease gone with a reorg.
            _ => {
                settle(&mut ride, None);
                tracing::info!(
                    request = rid,
                    "the lease is no longer ours; dropping the proof"
                );
                return drop_proof(&ctx, rid);
            }
        }
    }
}

fn drop_proof(ctx: &Ctx, rid: u64) -> (u64, Option<[u8; 32]>) {
    let _ = ctx.spool.remove(rid);
    ctx.shared.update(|c| c.dropped += 1);
    (rid, None)
}

/// Blocks a Valid verdict stays watched after this client first saw it: until then a reorg
/// could drop it with the submission it judged, and the lease would hold the bond for nothing.
const SETTLE_BLOCKS: u64 = 64;

// A Valid request, its proof hash, and the head block when it was first watched (read on the
// first check after the verdict).
type Settled = (u64, [u8; 32], Option<u64>);

// Re-reads the leases of recent Valid verdicts: one that a reorg took back to Leased (the
// submission gone with its verdict) goes back among the awaiting, where it is submitted again
// (the relayer keeps the bytes by hash). Forgotten once `SETTLE_BLOCKS` deep.
async fn check_settled(
    ctx: &Arc<Ctx>,
    settled: &mut Vec<Settled>,
    awaiting: &mut Vec<(u64, [u8; 32])>,
) {
    if settled.is_empty() {
        return;
    }
    let Ok(head) = ctx.conn.provider.get_block_number().await else {
        return;
    };
    let coord = &ctx.conn.coordinator;
    let mut keep = Vec::new();
    for (rid, hash, seen) in std::mem::take(settled) {
        let seen = seen.unwrap_or(head);
        if head >= seen + SETTLE_BLOCKS {
            continue;
        }
        match coord.leaseInfo(rid).call().await {
            Ok(lease)
                if LeaseState::try_from(lease.state) == Ok(LeaseState::Leased)
                    && lease.holder == ctx.conn.address =>
            {
                tracing::warn!(
                    request = rid,
                    "the verdict vanished from the chain with its submission (a reorg?)"
                );
                ctx.shared.update(|c| {
                    c.valid = c.valid.saturating_sub(1);
                    c.awaiting_verdict += 1;
                });
                awaiting.push((rid, hash));
            }
            _ => keep.push((rid, hash, Some(seen))),
        }
    }
    *settled = keep;
}

// Reads the verdicts of delivered proofs; resubmits one a reorg dropped; expires one the
// relayer never judged. Valid ones go on to `settled`, watched for a while longer.
async fn check_verdicts(
    ctx: &Arc<Ctx>,
    awaiting: &mut Vec<(u64, [u8; 32])>,
    settled: &mut Vec<Settled>,
) {
    if awaiting.is_empty() {
        return;
    }
    let coord = &ctx.conn.coordinator;
    let mut still = Vec::new();
    let mut judged = false;
    // Chain time, read once per check and only if a submission awaits its verdict.
    let mut now = None;
    for (rid, hash) in std::mem::take(awaiting) {
        let Ok(lease) = coord.leaseInfo(rid).call().await else {
            still.push((rid, hash));
            continue;
        };
        match LeaseState::try_from(lease.state) {
            Ok(LeaseState::Valid) => {
                tracing::info!(request = rid, "judged Valid");
                ctx.shared.update(|c| c.valid += 1);
                ctx.shared.succeed();
                judged = true;
                settled.push((rid, hash, None));
                look_for_handoff(ctx, rid);
            }
            Ok(LeaseState::Invalid) => {
                ctx.shared.fail(Failure::Own(format!(
                    "request {rid}: the relayer judged the proof invalid"
                )));
                judged = true;
            }
            Ok(LeaseState::Missing) => {
                ctx.shared
                    .fail(Failure::Job(format!("request {rid}: judged Missing")));
                judged = true;
            }
            Ok(LeaseState::Expired) => {
                ctx.shared.fail(Failure::Job(format!(
                    "request {rid}: never judged; expired past its verdict deadline (bond freed, unpaid)"
                )));
                judged = true;
            }
            // Unjudged past its deadlines, the relayer is down or hostile: expiring it frees
            // the bond (unpaid), so it can back leases elsewhere or leave.
            Ok(LeaseState::Submitted)
                if expire_if_overdue(ctx, rid, lease.submittedAt, &mut now).await =>
            {
                ctx.shared.fail(Failure::Job(format!(
                    "request {rid}: the relayer never judged it; expired past its verdict deadline (bond freed, unpaid)"
                )));
                judged = true;
            }
            Ok(LeaseState::Submitted) => still.push((rid, hash)),
            // The submission is gone but the lease is still ours: a reorg dropped the
            // transaction. The relayer keeps the bytes by hash, so submitting the hash again is
            // all it takes; without it the lease would stay held for nothing.
            Ok(LeaseState::Leased) if lease.holder == ctx.conn.address => {
                tracing::warn!(
                    request = rid,
                    "the submission vanished from the chain (a reorg?); submitting it again"
                );
                ctx.conn.tx.resync().await;
                let call = coord.submitProof(rid, B256::from(hash));
                match ctx.conn.tx.send("submitProof", call).await {
                    Ok(_) => still.push((rid, hash)),
                    Err(e @ (TxError::Refused { .. } | TxError::Reverted(_))) => {
                        tracing::info!(request = rid, why = %e, "resubmission refused; dropping it");
                        ctx.shared.update(|c| c.dropped += 1);
                        judged = true;
                    }
                    Err(e) => {
                        tracing::warn!(request = rid, error = %e, "resubmission failed; trying again later");
                        still.push((rid, hash));
                    }
                }
            }
            // The lease itself is gone (reorged out) or the job was settled without it.
            _ => {
                tracing::info!(request = rid, "the lease is no longer ours; forgetting it");
                ctx.shared.update(|c| c.dropped += 1);
                judged = true;
            }
        }
    }
    let n = still.len();
    *awaiting = still;
    if judged {
        let earnings = coord
            .prover(ctx.conn.address)
            .call()
            .await
            .ok()
            .map(|p| p.earnings.to::<u128>());
        ctx.shared.update(|c| {
            c.awaiting_verdict = n;
            if let Some(e) = earnings {
                c.earnings = e;
            }
        });
    }
}

// The node the Valid verdict on `rid` readied, if the contract handed it to us in the same
// transaction (our `submitAndLease` found nothing to lease, so we waited for it): its first
// lease is ours and goes to the leaser like a lease that rode on a submission, or back to the
// chain if no job is wanted now (stopping, the breaker open, `--max-jobs` reached). Its own
// task, so that the verdict loop never waits on these reads; a read that fails is tried again
// for a while (a handed node nobody proves waits out the minimum age and lapses us).
fn look_for_handoff(ctx: &Arc<Ctx>, rid: u64) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let mut delay = Duration::from_millis(500);
        for _ in 0..10 {
            match handed_on(&ctx, rid).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::debug!(request = rid, error = %e, "looking for a handed node; trying again")
                }
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX_DELAY);
        }
        tracing::warn!(
            request = rid,
            "could not read whether a node was handed to us"
        );
    });
}

async fn handed_on(ctx: &Ctx, rid: u64) -> Result<(), alloy::contract::Error> {
    let coord = &ctx.conn.coordinator;
    let job = RequestId(rid).job();
    let Ok(id) = job.try_into() else {
        return Ok(());
    };
    let j = coord.job(id).call().await?;
    let b = coord.batch(j.batchId).call().await?;
    let first: u64 = b.firstJobId.to();
    let parent = TreeShape::new(b.leafCount.to())
        .and_then(|shape| shape.parent_of(job.checked_sub(first)?.try_into().ok()?));
    let Some(parent) = parent else {
        return Ok(());
    };
    let node = first + u64::from(parent);
    let request_id = RequestId::new(node, 1).0;
    let l = coord.leaseInfo(request_id).call().await?;
    let ours =
        l.holder == ctx.conn.address && LeaseState::try_from(l.state) == Ok(LeaseState::Leased);
    // Ours and Leased is also what a lease of our own transaction looks like, or the second of
    // two children both ours: the leaser takes a request id in hand once.
    if !ours || ctx.shared.seen(request_id) {
        return Ok(());
    }
    if ctx.shared.wanted() == 0 || !ctx.shared.may_lease() {
        ctx.give_back
            .lease(request_id, node, "handed when no job is wanted");
        return Ok(());
    }
    tracing::info!(
        request = request_id,
        job = node,
        "handed the node this proof readied"
    );
    let handed = Leased {
        request_id,
        job_id: node,
        gas: 0,
        price: 0,
    };
    if let Err(mpsc::error::SendError(l)) = ctx.rides.send(vec![handed]) {
        for h in l {
            ctx.give_back
                .lease(h.request_id, h.job_id, "handed while stopping");
        }
    }
    Ok(())
}

// Expires submission `rid` (made at chain time `submitted_at`) if it is past the upload and
// verdict deadlines it is held to; true once expired. `now` caches the chain time.
async fn expire_if_overdue(ctx: &Ctx, rid: u64, submitted_at: u32, now: &mut Option<u64>) -> bool {
    let at = u64::from(submitted_at);
    let now = match *now {
        Some(t) => t,
        None => match ctx
            .conn
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
        {
            Ok(Some(block)) => *now.insert(block.header.timestamp),
            _ => return false,
        },
    };
    // No deadline pair is shorter than the least of each: skip the reads until then.
    let earliest = at + limits::MIN_UPLOAD_DEADLINE + limits::MIN_VERDICT_DEADLINE;
    if now < earliest {
        return false;
    }
    let coord = &ctx.conn.coordinator;
    let Ok(d) = coord.deadlinesAt(U256::from(at)).call().await else {
        return false;
    };
    let due = at + d.uploadDeadline.to::<u64>() + d.verdictDeadline.to::<u64>();
    if now < due {
        return false;
    }
    match ctx
        .conn
        .tx
        .send("expireSubmission", coord.expireSubmission(rid))
        .await
    {
        Ok(_) => {
            tracing::warn!(
                request = rid,
                "no verdict past the deadlines: expired the submission"
            );
            true
        }
        Err(e) => {
            tracing::warn!(request = rid, error = %e, "could not expire the overdue submission; trying again later");
            false
        }
    }
}

async fn check_eth(ctx: &Ctx) {
    if let Ok(balance) = ctx.conn.provider.get_balance(ctx.conn.address).await {
        if balance < ctx.min_eth {
            tracing::warn!(balance = %balance, "the prover's ETH balance is low: fund it to keep leasing and submitting");
        }
    }
}
