//! `GET /v1/status`: what the relayer knows, as JSON; `GET /metrics` (on the admin address):
//! its metrics in the Prometheus text format, with the chain gauges (escrow, ETH, tokens,
//! allowance) an operator alerts on. Both serve the work loop's latest [`Snapshot`].

use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crowdprove_protocol::hex0x;

use super::{Api, ApiError, ApiResult};
use crate::service::Shared;

#[derive(Serialize)]
struct BatchStatus {
    batch_id: u64,
    /// Round-0 jobs; `jobs` counts the whole tree.
    leaves: u64,
    jobs: u64,
    cancelled: bool,
    final_proof: Option<String>,
}

#[derive(Serialize)]
struct ProverStatus {
    prover: String,
    leases: u64,
    valid: u64,
    invalid: u64,
    missing: u64,
}

#[derive(Serialize)]
struct VerdictStatus {
    request_id: u64,
    job_id: u64,
    prover: String,
    verdict: String,
}

#[derive(Serialize)]
pub(super) struct Status {
    relayer: String,
    coordinator: String,
    params: String,
    chain_queue: Option<QueueStatus>,
    counts: crate::db::Counts,
    batches: Vec<BatchStatus>,
    provers: Vec<ProverStatus>,
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
    let batches =
        s.db.batches()?
            .into_iter()
            .map(|b| BatchStatus {
                batch_id: b.batch_id,
                leaves: b.leaf_count,
                jobs: b.job_count,
                cancelled: b.cancelled,
                final_proof: b.final_hash.map(|h| hex0x(&h)),
            })
            .collect();
    let provers =
        s.db.provers(MAX_PROVERS_SHOWN)?
            .into_iter()
            .map(|c| ProverStatus {
                prover: hex0x(&c.prover),
                leases: c.leases,
                valid: c.valid,
                invalid: c.invalid,
                missing: c.missing,
            })
            .collect();
    let recent_verdicts =
        s.db.recent_verdicts(20)?
            .into_iter()
            .map(|v| VerdictStatus {
                request_id: v.request_id,
                job_id: v.job_id,
                prover: hex0x(&v.prover),
                verdict: v.verdict.name().to_lowercase(),
            })
            .collect();
    let counts = s.db.counts()?;
    let status = Status {
        relayer: s.chain.relayer.to_string(),
        coordinator: s.chain.coordinator.address().to_string(),
        params: s.cfg.jobs.params.to_string(),
        chain_queue,
        counts,
        batches,
        provers,
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

/// Provers listed in `/v1/status`, those with the most leases.
const MAX_PROVERS_SHOWN: usize = 100;

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
