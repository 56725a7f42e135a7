//! `GET /v1/status`: what the relayer knows, as JSON; `GET /metrics`: its metrics in the
//! Prometheus text format, with the chain gauges (escrow, ETH, tokens, allowance) read at
//! scrape time so an operator can alert on them.

use std::time::Duration;

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use axum::Json;
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

pub(super) async fn status(State(api): State<Api>) -> ApiResult<Json<Status>> {
    let s = &api.shared;
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
        s.db.batches()
            .map_err(ApiError::internal)?
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
        s.db.provers()
            .map_err(ApiError::internal)?
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
        s.db.recent_verdicts(20)
            .map_err(ApiError::internal)?
            .into_iter()
            .map(|v| VerdictStatus {
                request_id: v.request_id,
                job_id: v.job_id,
                prover: hex0x(&v.prover),
                verdict: v.verdict.name().to_lowercase(),
            })
            .collect();
    Ok(Json(Status {
        relayer: s.chain.relayer.to_string(),
        coordinator: s.chain.coordinator.address().to_string(),
        params: s.cfg.jobs.params.to_string(),
        chain_queue,
        counts: s.db.counts().map_err(ApiError::internal)?,
        batches,
        provers,
        recent_verdicts,
    }))
}

fn wei(v: U256) -> f64 {
    v.to_string().parse::<f64>().unwrap_or(f64::NAN)
}

async fn chain_gauges(s: &Shared) -> anyhow::Result<(U256, U256, U256, U256)> {
    let escrow = s.chain.coordinator.totalEscrow().call().await?;
    let eth = s.chain.provider.get_balance(s.chain.relayer).await?;
    let token = s.chain.token().await?;
    let coordinator: Address = *s.chain.coordinator.address();
    let balance = token.balanceOf(s.chain.relayer).call().await?;
    let allowance = token.allowance(s.chain.relayer, coordinator).call().await?;
    Ok((escrow, eth, balance, allowance))
}

pub(super) async fn metrics(State(api): State<Api>) -> ApiResult<Response> {
    let s = &api.shared;
    let m = &s.metrics;
    let c = s.db.counts().map_err(ApiError::internal)?;
    let chain = tokio::time::timeout(Duration::from_secs(3), chain_gauges(s))
        .await
        .ok()
        .and_then(|r| r.ok());
    m.rpc_up.set(i64::from(chain.is_some()));
    if let Some((escrow, eth, balance, allowance)) = chain {
        m.escrow_wei.set(wei(escrow));
        m.eth_balance_wei.set(wei(eth));
        m.token_balance_wei.set(wei(balance));
        m.token_allowance_wei.set(wei(allowance));
    }
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    m.jobs.set(count(c.jobs));
    m.jobs_complete.set(count(c.jobs_complete));
    m.awaiting_upload.set(count(c.awaiting_upload));
    m.awaiting_verdict.set(count(c.awaiting_verdict));
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
        .into_response())
}
