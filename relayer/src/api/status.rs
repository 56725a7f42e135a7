//! `GET /v1/status`: what the relayer knows, as JSON; `GET /metrics` (on the admin address):
//! its metrics in the Prometheus text format, with the chain gauges (escrow, ETH, tokens,
//! allowance) an operator alerts on. Both serve the work loop's latest [`Snapshot`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crowdprove_protocol::{Verdict, hex0x};

use super::{Api, ApiError, ApiResult};
use crate::service::Shared;

#[derive(Serialize)]
struct BatchStatus {
    batch_id: u64,
    /// Round-0 jobs; `jobs` counts the whole tree.
    leaves: u64,
    jobs: u64,
    complete: u64,
    cancelled: bool,
    final_proof: Option<String>,
    /// The tree's progress, level by level (0: the leaves; the last: the top).
    levels: Vec<LevelStatus>,
}

#[derive(Serialize)]
struct LevelStatus {
    level: u8,
    jobs: u64,
    complete: u64,
}

#[derive(Serialize)]
struct ProverStatus {
    prover: String,
    leases: u64,
    valid: u64,
    /// Invalid verdicts: each one a slash.
    invalid: u64,
    /// Missing uploads.
    missing: u64,
    /// Rewards of the jobs it completed, in base units (decimal).
    earnings: String,
    /// Median seconds from a lease to its submission (chain time).
    median_latency_secs: Option<f64>,
}

#[derive(Serialize)]
struct VerdictStatus {
    request_id: u64,
    job_id: u64,
    prover: String,
    verdict: String,
    /// Where the judged proof's bytes are served (none for Missing).
    proof: Option<String>,
}

/// Latency histograms: counts per bucket, the bucket `i` holding values up to `bounds_secs[i]`
/// and the last one those above every bound.
#[derive(Serialize)]
struct Latency {
    bounds_secs: &'static [u64],
    lease_to_submission: Vec<u64>,
    submission_to_verdict: Vec<u64>,
}

/// The histograms' bucket bounds, seconds.
const BOUNDS_SECS: &[u64] = &[1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

fn histogram(values: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut counts = vec![0; BOUNDS_SECS.len() + 1];
    for v in values {
        counts[BOUNDS_SECS.partition_point(|&b| b < v)] += 1;
    }
    counts
}

fn median(mut v: Vec<u64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0
    })
}

#[derive(Serialize)]
pub(super) struct Status {
    relayer: String,
    coordinator: String,
    params: String,
    /// When this snapshot was built (unix ms).
    updated_ms: u64,
    /// How long witnesses and proofs stay served after a batch's final proof is delivered:
    /// the window in which anyone can audit its verdicts.
    audit_window_secs: u64,
    chain_queue: Option<QueueStatus>,
    counts: crate::db::Counts,
    batches: Vec<BatchStatus>,
    provers: Vec<ProverStatus>,
    latency: Latency,
    recent_verdicts: Vec<VerdictStatus>,
}

#[derive(Serialize)]
struct QueueStatus {
    fresh: u64,
    pending: u64,
}

/// What `/v1/status` and `/metrics` serve: built by the work loop's snapshot duty every couple
/// of seconds (database counts on the read-only connection, the chain queue and gauges), so that
/// a request costs neither a database query nor an RPC call and no client can make the relayer
/// do either more often than that.
pub(crate) struct Snapshot {
    /// `/v1/status`, as JSON.
    status: Vec<u8>,
    counts: crate::db::Counts,
}

/// Builds a new snapshot from the database and the chain.
pub(crate) async fn refresh(s: &Shared) -> anyhow::Result<()> {
    let chain_queue =
        tokio::time::timeout(Duration::from_secs(3), s.chain.coordinator.queue().call())
            .await
            .ok()
            .and_then(|r| r.ok())
            .map(|q| QueueStatus {
                fresh: q.freshJobs.to(),
                pending: q.pendingJobs.to(),
            });
    let activity = activity(s)?;
    let batches =
        s.db.batches()?
            .into_iter()
            .rev()
            .map(|b| {
                let levels: Vec<LevelStatus> = activity
                    .levels
                    .iter()
                    .filter(|l| l.0 == b.batch_id)
                    .map(|&(_, level, jobs, complete)| LevelStatus {
                        level,
                        jobs,
                        complete,
                    })
                    .collect();
                BatchStatus {
                    batch_id: b.batch_id,
                    leaves: b.leaf_count,
                    jobs: b.job_count,
                    complete: levels.iter().map(|l| l.complete).sum(),
                    cancelled: b.cancelled,
                    final_proof: b.final_hash.map(|h| hex0x(&h)),
                    levels,
                }
            })
            .take(MAX_BATCHES_SHOWN)
            .collect();
    let mut earned: HashMap<[u8; 20], U256> = HashMap::new();
    for (prover, reward, jobs) in &activity.rewards {
        *earned.entry(*prover).or_default() +=
            reward.parse::<U256>().unwrap_or_default() * U256::from(*jobs);
    }
    let mut latencies: HashMap<[u8; 20], Vec<u64>> = HashMap::new();
    for &(prover, secs) in &activity.lease_to_submission {
        latencies.entry(prover).or_default().push(secs);
    }
    let provers =
        s.db.provers(MAX_PROVERS_SHOWN)?
            .into_iter()
            .map(|c| ProverStatus {
                prover: hex0x(&c.prover),
                leases: c.leases,
                valid: c.valid,
                invalid: c.invalid,
                missing: c.missing,
                earnings: earned
                    .get(&c.prover)
                    .copied()
                    .unwrap_or_default()
                    .to_string(),
                median_latency_secs: median(latencies.remove(&c.prover).unwrap_or_default()),
            })
            .collect();
    let latency = Latency {
        bounds_secs: BOUNDS_SECS,
        lease_to_submission: histogram(activity.lease_to_submission.iter().map(|l| l.1)),
        submission_to_verdict: histogram(activity.submission_to_verdict.iter().copied()),
    };
    let recent_verdicts =
        s.db.recent_verdicts(20)?
            .into_iter()
            .map(|v| VerdictStatus {
                request_id: v.request_id,
                job_id: v.job_id,
                prover: hex0x(&v.prover),
                verdict: v.verdict.name().to_lowercase(),
                proof: (v.verdict != Verdict::Missing)
                    .then(|| format!("v1/proofs/{}", hex0x(&v.proof_hash))),
            })
            .collect();
    let counts = s.db.counts()?;
    let status = Status {
        relayer: s.chain.relayer.to_string(),
        coordinator: s.chain.coordinator.address().to_string(),
        params: s.cfg.jobs.params.to_string(),
        updated_ms: crate::service::now_ms(),
        audit_window_secs: s.cfg.store.retention_secs,
        chain_queue,
        counts,
        batches,
        provers,
        latency,
        recent_verdicts,
    };
    // A failed read keeps the gauges' last values, and `rpc_up` says so.
    let chain = tokio::time::timeout(Duration::from_secs(3), chain_gauges(s))
        .await
        .ok()
        .and_then(|r| r.ok());
    let m = &s.metrics;
    m.rpc_up.set(i64::from(chain.is_some()));
    if let Some([escrow, eth, balance, allowance]) = chain {
        m.escrow_wei.set(wei(escrow));
        m.eth_balance_wei.set(wei(eth));
        m.token_balance_wei.set(wei(balance));
        m.token_allowance_wei.set(wei(allowance));
    }
    let snapshot = Snapshot {
        status: serde_json::to_vec(&status)?,
        counts,
    };
    *s.snapshot_slot() = Some(std::sync::Arc::new(snapshot));
    Ok(())
}

// The status page's heavier reads (tree progress, earnings, latencies), read again once they
// are older than twenty times what reading them took (2 s at least): on a big database they
// take at most a twentieth of the work loop's time, however often the snapshot is built.
fn activity(s: &Shared) -> anyhow::Result<Arc<crate::db::Activity>> {
    let mut cached = s.activity.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((at, took, a)) = cached.as_ref() {
        if at.elapsed() < (*took * 20).max(Duration::from_secs(2)) {
            return Ok(a.clone());
        }
    }
    let started = std::time::Instant::now();
    let a = Arc::new(s.db.activity()?);
    *cached = Some((std::time::Instant::now(), started.elapsed(), a.clone()));
    Ok(a)
}

/// Provers listed in `/v1/status`, those with the most leases.
const MAX_PROVERS_SHOWN: usize = 100;
/// Batches listed in `/v1/status`, the newest.
const MAX_BATCHES_SHOWN: usize = 50;

pub(super) async fn status(State(api): State<Api>) -> ApiResult<Response> {
    let snapshot = api.shared.snapshot().ok_or_else(not_yet)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        snapshot.status.clone(),
    )
        .into_response())
}

fn not_yet() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "the relayer is starting: no status yet",
    )
    .retryable()
}

fn wei(v: U256) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(f64::NAN)
}

async fn chain_gauges(s: &Shared) -> anyhow::Result<[U256; 4]> {
    let escrow = U256::from(s.chain.coordinator.totalEscrow().call().await?);
    let eth = s.chain.provider.get_balance(s.chain.relayer).await?;
    let token = s.chain.token().await?;
    let coordinator: Address = *s.chain.coordinator.address();
    let balance = token.balanceOf(s.chain.relayer).call().await?;
    let allowance = token.allowance(s.chain.relayer, coordinator).call().await?;
    Ok([escrow, eth, balance, allowance])
}

/// `/metrics`, on the admin address only.
pub(crate) async fn metrics(State(s): State<std::sync::Arc<Shared>>) -> Response {
    let m = &s.metrics;
    if let Some(snapshot) = s.snapshot() {
        let c = &snapshot.counts;
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        m.jobs.set(count(c.jobs));
        m.jobs_complete.set(count(c.jobs_complete));
        m.awaiting_upload.set(count(c.awaiting_upload));
        m.awaiting_verdict.set(count(c.awaiting_verdict));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
        .into_response()
}
