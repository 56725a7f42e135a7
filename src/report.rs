//! The devnet's summary, read back from the chain: who proved what, reassignments, duplicates,
//! rejections and slashes, rewards, gas per proven job from the transactions' receipts, the
//! final proof, and whether the Coordinator's books balance.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEventInterface;
use serde::Serialize;

use crowdprove_bindings::{Coordinator, TestToken};
use crowdprove_protocol::hex0x;

use crate::devnet::{Devnet, Role};

/// One prover's line.
#[derive(Clone, Debug, Serialize)]
pub struct ProverLine {
    /// Anvil account index.
    pub account: usize,
    /// Its role.
    pub role: Role,
    /// Its address.
    pub address: String,
    /// Jobs its proofs completed.
    pub jobs: u64,
    /// Tokens earned (whole tokens, rounded).
    pub earned_tokens: f64,
    /// Times slashed.
    pub slashes: u64,
    /// The client's own account of its time (summed over its runs), from its log.
    pub duty: Option<Duty>,
}

/// A prover client's time, as it reports it when it exits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Duty {
    /// Seconds its worker proved.
    pub proving_secs: f64,
    /// Seconds it had work: jobs in hand, or jobs on the chain it could lease.
    pub available_secs: f64,
    /// Seconds it ran.
    pub wall_secs: f64,
}

impl Duty {
    /// Proving time over the time work was available.
    pub fn cycle(&self) -> f64 {
        if self.available_secs > 0.0 {
            self.proving_secs / self.available_secs
        } else {
            0.0
        }
    }

    /// Sums the summary lines a client's log holds, one per run that exited; None if it
    /// holds none.
    pub fn from_log(log: &str) -> Option<Duty> {
        let mut total: Option<Duty> = None;
        for (p, a, w) in log
            .lines()
            .filter_map(crowdprove_prover::runner::Summary::times_in_line)
        {
            let t = total.get_or_insert_default();
            t.proving_secs += p;
            t.available_secs += a;
            t.wall_secs += w;
        }
        total
    }
}

/// Gas from the receipts, by kind of call.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Gas {
    /// All protocol transactions (posts, leases, submissions, verdicts; a batch finalizes in
    /// the verdict transaction of its top job).
    pub total: u64,
    /// `total` over the jobs completed.
    pub per_proven_job: u64,
    /// `postBatch` transactions and their gas.
    pub post: (u64, u64),
    /// `lease`/`leaseMany` transactions and their gas.
    pub lease: (u64, u64),
    /// `submitProof` transactions and their gas.
    pub submit: (u64, u64),
    /// `submitAndLease` transactions that leased (a submission and a lease in one) and their
    /// gas; one that leased nothing counts as a submission.
    pub submit_and_lease: (u64, u64),
    /// `recordVerdicts` transactions and their gas.
    pub verdicts: (u64, u64),
    /// Verdicts applied in those transactions.
    pub verdict_count: u64,
    /// Nodes leased in a verdict's transaction to the prover whose proof readied them (a
    /// handoff: no lease transaction of their own).
    pub handoffs: u64,
}

/// The batch's final proof, as the summary shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FinalSummary {
    /// keccak256 of the proof.
    pub hash: String,
    /// State root before the batch.
    pub pre_root: String,
    /// State root after it.
    pub post_root: String,
}

/// One job's way through the run, in seconds after its batch was posted (block times, so to
/// the second): where the makespan went.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JobTimes {
    /// Job id.
    pub job: u64,
    /// Its level in the tree (0: a chunk).
    pub level: u8,
    /// When it could be leased: at the post for a chunk, at its last child's completion for a
    /// node.
    pub ready: f64,
    /// Its first lease.
    pub leased: Option<f64>,
    /// Leases of it in all.
    pub leases: u32,
    /// The winning submission.
    pub submitted: Option<f64>,
    /// The verdict that completed it.
    pub completed: Option<f64>,
    /// The account index of the prover that completed it.
    pub prover: Option<usize>,
}

/// Where the makespan went, summed over the jobs of the tree (see [`JobTimes`]).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Waits {
    /// Ready to first leased, over aggregation nodes (the critical path's handoffs).
    pub node_lease_secs: f64,
    /// The largest of those.
    pub node_lease_max_secs: f64,
    /// Submitted to completed, mean over jobs (upload, verification, the verdict's block).
    pub verdict_mean_secs: f64,
    /// First lease to winning submission, mean over chunks and over nodes (fetch and prove).
    pub chunk_prove_mean_secs: f64,
    /// The same for aggregation nodes.
    pub node_prove_mean_secs: f64,
}

/// What a devnet run did.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Parameter set.
    pub params: String,
    /// Chunks in the batch.
    pub chunks: u32,
    /// Seconds from posting to the final proof on chain.
    pub makespan_secs: f64,
    /// Jobs completed (chunks and aggregations).
    pub jobs_completed: u64,
    /// Per prover.
    pub provers: Vec<ProverLine>,
    /// Leases that took a job from another holder (LRP).
    pub reassignments: u64,
    /// Valid proofs of jobs already complete.
    pub duplicate_proofs: u64,
    /// Proofs judged invalid.
    pub rejected_proofs: u64,
    /// Tokens slashed.
    pub slashed_tokens: f64,
    /// Submissions judged Missing.
    pub missing: u64,
    /// Tokens paid in rewards.
    pub rewards_paid_tokens: f64,
    /// Gas.
    pub gas: Gas,
    /// The final proof, once recorded.
    pub final_proof: Option<FinalSummary>,
    /// token balance = bonds + unbonding + earnings + unspent escrow + slashes owed.
    pub books_balance: bool,
    /// One prover proving the batch's jobs one after another on this machine (see
    /// [`sequential_reference`]), when measured.
    pub sequential: Option<Sequential>,
    /// Each job of the first batch, in id order.
    pub timeline: Vec<JobTimes>,
    /// Where the makespan went.
    pub waits: Waits,
}

/// The makespan's reference: one chunk and one aggregation proven in turn on this machine,
/// after the run (so the provers' processes are gone), scaled to the batch's jobs.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Sequential {
    /// Seconds to prove the batch's first chunk.
    pub chunk_secs: f64,
    /// Seconds to prove the tree's top aggregation.
    pub aggregation_secs: f64,
    /// Chunks x chunk_secs + aggregations x aggregation_secs.
    pub total_secs: f64,
}

/// Proves the batch's first chunk and its top job once each, in this process, with the
/// witnesses the relayer serves (after one untimed warm-up proof), and scales their times to
/// the batch's jobs: what one prover proving every job one after another would take on this
/// machine.
pub async fn sequential_reference(devnet: &Devnet) -> anyhow::Result<Sequential> {
    let ids = devnet.coord().nextIds().call().await?;
    let top: u64 = ids.nextJobId.to::<u64>() - 1;
    let base = devnet.relayer_url();
    let set = devnet.opts.params;
    let prover = crowdprove_circuits::ProverAddress([0x11; 20]);
    let mut secs = Vec::new();
    // The first proof in a process pays one-time costs (FFT tables, thread pools, allocator
    // growth) that no prover pays per job: it warms up, untimed.
    for (i, job) in [1u64, 1, top].into_iter().enumerate() {
        let bytes = reqwest::get(format!("{base}/v1/jobs/{job}/witness"))
            .await?
            .error_for_status()?
            .bytes()
            .await?
            .to_vec();
        let took = tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
            let w = crowdprove_circuits::JobWitness::decode(&bytes)
                .map_err(|e| anyhow::anyhow!("job {job}'s witness: {e}"))?;
            let circuits = crowdprove_circuits::Circuits::shared(set);
            let t = std::time::Instant::now();
            circuits
                .prove_job(&w, job, prover)
                .map_err(|e| anyhow::anyhow!("proving job {job}: {e}"))?;
            Ok(t.elapsed().as_secs_f64())
        })
        .await??;
        if i > 0 {
            secs.push(took);
        }
    }
    let chunks = f64::from(devnet.opts.chunks);
    let aggregations = (top as f64 - chunks).max(0.0);
    Ok(Sequential {
        chunk_secs: secs[0],
        aggregation_secs: secs[1],
        total_secs: chunks * secs[0] + aggregations * secs[1],
    })
}

fn tokens(v: U256) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(0.0) / 1e18
}

/// Reads the summary of the run from the chain.
pub async fn summarize(devnet: &Devnet, makespan: Duration) -> anyhow::Result<Summary> {
    let provider = &devnet.operator;
    let coord = devnet.coord();
    let filter = Filter::new().address(devnet.coordinator).from_block(0);
    let logs = provider.get_logs(&filter).await?;
    let (mut reassignments, mut duplicates, mut rejected, mut missing, mut completed) =
        (0, 0, 0, 0, 0);
    let (mut slashed, mut paid) = (U256::ZERO, U256::ZERO);
    let mut kinds: HashMap<B256, u8> = HashMap::new();
    // Leases per transaction: in a verdict's they are handoffs.
    let mut handed: HashMap<B256, u64> = HashMap::new();
    let mut verdict_count = 0u64;
    let mut completed_by: BTreeMap<Address, u64> = BTreeMap::new();
    for log in &logs {
        let Some(tx) = log.transaction_hash else {
            continue;
        };
        let Ok(ev) = Coordinator::CoordinatorEvents::decode_log(&log.inner) else {
            continue;
        };
        let kind = match ev.data {
            Coordinator::CoordinatorEvents::BatchPosted(_) => 1,
            Coordinator::CoordinatorEvents::JobLeased(e) => {
                if !e.previousHolder.is_zero() {
                    reassignments += 1;
                }
                *handed.entry(tx).or_insert(0) += 1;
                2
            }
            Coordinator::CoordinatorEvents::ProofSubmitted(_) => 3,
            Coordinator::CoordinatorEvents::VerdictRecorded(e) => {
                verdict_count += 1;
                match e.result {
                    1 if e.completed => {
                        completed += 1;
                        paid += e.amount;
                        *completed_by.entry(e.prover).or_default() += 1;
                    }
                    1 => duplicates += 1,
                    2 => {
                        rejected += 1;
                        slashed += e.amount;
                    }
                    3 => missing += 1,
                    _ => {}
                }
                4
            }
            Coordinator::CoordinatorEvents::VerdictSkipped(_) => 4,
            _ => continue,
        };
        // A bit per kind: a transaction with a lease and a submission is a submitAndLease.
        *kinds.entry(tx).or_insert(0) |= 1 << kind;
    }
    let mut gas = Gas {
        verdict_count,
        ..Gas::default()
    };
    for (tx, kind) in &kinds {
        let Some(receipt) = provider.get_transaction_receipt(*tx).await? else {
            continue;
        };
        let g = receipt.gas_used;
        gas.total += g;
        let slot = match kind {
            k if k & (1 << 1) != 0 => &mut gas.post,
            // A verdict's transaction may lease a node it readied (a handoff).
            k if k & (1 << 4) != 0 => {
                if k & (1 << 2) != 0 {
                    gas.handoffs += handed.get(tx).copied().unwrap_or(0);
                }
                &mut gas.verdicts
            }
            k if k & (1 << 2 | 1 << 3) == (1 << 2 | 1 << 3) => &mut gas.submit_and_lease,
            k if k & (1 << 2) != 0 => &mut gas.lease,
            k if k & (1 << 3) != 0 => &mut gas.submit,
            _ => &mut gas.verdicts,
        };
        slot.0 += 1;
        slot.1 += g;
    }
    gas.per_proven_job = gas.total.checked_div(completed).unwrap_or(0);

    let token = TestToken::new(devnet.token, devnet.operator.clone());
    let mut held =
        U256::from(coord.totalEscrow().call().await?) + coord.slashedOwed().call().await?;
    let mut provers = Vec::new();
    for a in &devnet.accounts {
        let p = coord.prover(a.address()).call().await?;
        held += p.bond + p.unbonding + p.earnings;
        provers.push(ProverLine {
            account: a.index,
            role: a.role,
            address: a.address().to_string(),
            jobs: completed_by.get(&a.address()).copied().unwrap_or(0),
            earned_tokens: tokens(p.earnings),
            slashes: p.slashes.to(),
            duty: std::fs::read_to_string(devnet.log_of(a.index))
                .ok()
                .and_then(|l| Duty::from_log(&l)),
        });
    }
    let books_balance = token.balanceOf(devnet.coordinator).call().await? == held;

    let timeline = timeline(devnet, &logs).await?;
    let final_proof = devnet.final_proof()?.map(|f| FinalSummary {
        hash: hex0x(&f.proof_hash),
        pre_root: f.statement.pre_root.0.to_string(),
        post_root: f.statement.post_root.0.to_string(),
    });
    Ok(Summary {
        params: devnet.opts.params.to_string(),
        chunks: devnet.opts.chunks,
        makespan_secs: makespan.as_secs_f64(),
        jobs_completed: completed,
        provers,
        reassignments,
        duplicate_proofs: duplicates,
        rejected_proofs: rejected,
        slashed_tokens: tokens(slashed),
        missing,
        rewards_paid_tokens: tokens(paid),
        gas,
        final_proof,
        books_balance,
        sequential: None,
        waits: waits(&timeline),
        timeline,
    })
}

// The first batch's jobs, from the run's events and their blocks' times.
async fn timeline(
    devnet: &Devnet,
    logs: &[alloy::rpc::types::Log],
) -> anyhow::Result<Vec<JobTimes>> {
    let mut times: HashMap<u64, f64> = HashMap::new();
    let mut at = async |log: &alloy::rpc::types::Log| -> anyhow::Result<Option<f64>> {
        let Some(n) = log.block_number else {
            return Ok(None);
        };
        if let Some(t) = log.block_timestamp {
            return Ok(Some(t as f64));
        }
        if let Some(&t) = times.get(&n) {
            return Ok(Some(t));
        }
        let block = devnet
            .operator
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(n))
            .await?;
        let t = block.map(|b| b.header.timestamp as f64);
        if let Some(t) = t {
            times.insert(n, t);
        }
        Ok(t)
    };
    let index_of = |a: Address| {
        devnet
            .accounts
            .iter()
            .find(|x| x.address() == a)
            .map(|x| x.index)
    };
    let mut jobs: Vec<JobTimes> = Vec::new();
    let (mut first, mut posted, mut shape) = (0u64, 0.0, None);
    for log in logs {
        let Ok(ev) = Coordinator::CoordinatorEvents::decode_log(&log.inner) else {
            continue;
        };
        match ev.data {
            Coordinator::CoordinatorEvents::BatchPosted(e) if shape.is_none() => {
                first = e.firstJobId.to::<u64>();
                posted = at(log).await?.unwrap_or(0.0);
                let tree = crowdprove_protocol::TreeShape::new(e.leafCount.to::<u32>())
                    .ok_or_else(|| anyhow::anyhow!("a batch of no leaves"))?;
                jobs = tree
                    .jobs()
                    .enumerate()
                    .map(|(i, n)| JobTimes {
                        job: first + i as u64,
                        level: n.level,
                        ..JobTimes::default()
                    })
                    .collect();
                shape = Some(tree);
            }
            Coordinator::CoordinatorEvents::JobLeased(e) => {
                if let Some(j) = of_batch(&mut jobs, first, e.requestId) {
                    j.leases += 1;
                    if j.leased.is_none() {
                        j.leased = at(log).await?.map(|t| t - posted);
                    }
                }
            }
            Coordinator::CoordinatorEvents::ProofSubmitted(e) => {
                if let Some(j) = of_batch(&mut jobs, first, e.requestId) {
                    // The winner's is the last before the completion (overwritten until then).
                    if j.completed.is_none() {
                        j.submitted = at(log).await?.map(|t| t - posted);
                    }
                }
            }
            Coordinator::CoordinatorEvents::VerdictRecorded(e) if e.completed => {
                if let Some(j) = of_batch(&mut jobs, first, e.requestId) {
                    j.completed = at(log).await?.map(|t| t - posted);
                    j.prover = index_of(e.prover);
                }
            }
            _ => {}
        }
    }
    if let Some(tree) = shape {
        for i in 0..jobs.len() {
            let children = tree.children_of(i as u32);
            if !children.is_empty() {
                jobs[i].ready = children
                    .iter()
                    .filter_map(|&c| jobs[c as usize].completed)
                    .fold(0.0, f64::max);
            }
        }
    }
    Ok(jobs)
}

// The entry of the job that lease `request_id` leases, if it is of the batch.
fn of_batch(jobs: &mut [JobTimes], first: u64, request_id: u64) -> Option<&mut JobTimes> {
    let job = crowdprove_protocol::RequestId(request_id).job();
    jobs.get_mut(usize::try_from(job.checked_sub(first)?).ok()?)
}

fn waits(jobs: &[JobTimes]) -> Waits {
    let mean = |v: Vec<f64>| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let node_waits: Vec<f64> = jobs
        .iter()
        .filter(|j| j.level > 0)
        .filter_map(|j| j.leased.map(|l| (l - j.ready).max(0.0)))
        .collect();
    let proving = |nodes: bool| {
        mean(
            jobs.iter()
                .filter(|j| (j.level > 0) == nodes)
                .filter_map(|j| Some(j.submitted? - j.leased?))
                .collect(),
        )
    };
    Waits {
        node_lease_secs: node_waits.iter().sum(),
        node_lease_max_secs: node_waits.iter().copied().fold(0.0, f64::max),
        verdict_mean_secs: mean(
            jobs.iter()
                .filter_map(|j| Some(j.completed? - j.submitted?))
                .collect(),
        ),
        chunk_prove_mean_secs: proving(false),
        node_prove_mean_secs: proving(true),
    }
}

/// The summary as a table for the terminal (and the docs).
pub fn table(s: &Summary) -> String {
    let mut out = String::new();
    let mut row = |k: &str, v: String| out.push_str(&format!("| {k} | {v} |\n"));
    row(
        "parameter set / chunks",
        format!("{} / {}", s.params, s.chunks),
    );
    row("makespan", format!("{:.1} s", s.makespan_secs));
    if let Some(q) = &s.sequential {
        row(
            "one prover, every job in turn",
            format!(
                "{:.1} s ({} x {:.2} s chunk + {} x {:.2} s aggregation, this machine); makespan {:.2}x that",
                q.total_secs,
                s.chunks,
                q.chunk_secs,
                s.jobs_completed.saturating_sub(u64::from(s.chunks)),
                q.aggregation_secs,
                s.makespan_secs / q.total_secs
            ),
        );
    }
    row("jobs completed", s.jobs_completed.to_string());
    for p in &s.provers {
        row(
            &format!("prover #{} ({:?})", p.account, p.role),
            format!(
                "{} jobs, {:.1} tokens earned, {} slashes{}",
                p.jobs,
                p.earned_tokens,
                p.slashes,
                p.duty.map_or(String::new(), |d| format!(
                    "; duty cycle {:.1}% ({:.1} s proving of {:.1} s with work available, {:.1} s running)",
                    d.cycle() * 100.0,
                    d.proving_secs,
                    d.available_secs,
                    d.wall_secs
                ))
            ),
        );
    }
    let w = &s.waits;
    row(
        "where the time went",
        format!(
            "fetch + prove {:.1} s per chunk, {:.1} s per node (first lease to submission); submission to verdict {:.1} s; nodes ready to leased {:.1} s in all (at most {:.1} s)",
            w.chunk_prove_mean_secs,
            w.node_prove_mean_secs,
            w.verdict_mean_secs,
            w.node_lease_secs,
            w.node_lease_max_secs
        ),
    );
    row("reassignments (LRP)", s.reassignments.to_string());
    row("duplicate proofs", s.duplicate_proofs.to_string());
    row(
        "rejected proofs / slashed",
        format!("{} / {:.1} tokens", s.rejected_proofs, s.slashed_tokens),
    );
    row("missing uploads", s.missing.to_string());
    row(
        "rewards paid",
        format!("{:.1} tokens", s.rewards_paid_tokens),
    );
    let per = |(n, g): (u64, u64)| match g.checked_div(n) {
        Some(each) => format!("{n} txs, {each} gas each"),
        None => "-".to_string(),
    };
    row(
        "gas per proven job (from receipts)",
        s.gas.per_proven_job.to_string(),
    );
    row("  postBatch", per(s.gas.post));
    row("  lease", per(s.gas.lease));
    row("  submitProof", per(s.gas.submit));
    row("  submitAndLease", per(s.gas.submit_and_lease));
    row(
        "  recordVerdicts",
        format!(
            "{}, {} verdicts, {} nodes handed over with them",
            per(s.gas.verdicts),
            s.gas.verdict_count,
            s.gas.handoffs
        ),
    );
    match &s.final_proof {
        Some(f) => {
            row("final proof", f.hash.clone());
            row("  pre-state root", f.pre_root.clone());
            row("  post-state root", f.post_root.clone());
        }
        None => row("final proof", "none".into()),
    }
    row(
        "books balance",
        if s.books_balance {
            "yes".into()
        } else {
            "NO".into()
        },
    );
    format!("| | |\n|---|---|\n{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(level: u8, ready: f64, leased: f64, submitted: f64, completed: f64) -> JobTimes {
        JobTimes {
            level,
            ready,
            leased: Some(leased),
            submitted: Some(submitted),
            completed: Some(completed),
            ..JobTimes::default()
        }
    }

    #[test]
    fn waits_count_node_handoffs_verdicts_and_proving_per_level() {
        let jobs = [
            job(0, 0.0, 1.0, 11.0, 12.0),
            job(0, 0.0, 1.0, 13.0, 13.0),
            // Ready at 13, leased 4 s late; a node leased "before" it was ready (one block's
            // rounding) counts no wait.
            job(1, 13.0, 17.0, 20.0, 21.0),
            job(1, 13.0, 12.0, 19.0, 19.0),
            // Never completed: no verdict latency from it.
            JobTimes {
                level: 2,
                ready: 21.0,
                leased: Some(30.0),
                ..JobTimes::default()
            },
        ];
        let w = waits(&jobs);
        assert_eq!(w.node_lease_secs, 4.0 + 0.0 + 9.0);
        assert_eq!(w.node_lease_max_secs, 9.0);
        assert_eq!(w.verdict_mean_secs, (1.0 + 0.0 + 1.0 + 0.0) / 4.0);
        assert_eq!(w.chunk_prove_mean_secs, (10.0 + 12.0) / 2.0);
        assert_eq!(w.node_prove_mean_secs, (3.0 + 7.0) / 2.0);
        assert_eq!(waits(&[]).verdict_mean_secs, 0.0);
    }
}
