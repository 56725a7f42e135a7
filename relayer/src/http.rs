//! The relayer's HTTP API (axum): job witnesses with their leaf and Merkle path, proof uploads
//! (accepted only when their keccak256 is the hash the chain holds for the request), proof
//! downloads, `/v1/status` and `/metrics`. Every error is a JSON body with a clear message and
//! whether retrying can help; a per-client token bucket limits the request rate.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::Provider;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crowdprove_bindings::lease_state;
use crowdprove_circuits::{JobKind, JobTree, keccak256};

use crate::blobs::BlobKind;
use crate::manifest::{Manifest, StatementJson, decode_statement, hex0x, parse_hash};
use crate::service::Shared;

/// An API error: status, message, and whether the client should retry.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retryable: bool,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retryable: status.is_server_error(),
        }
    }

    fn retryable(mut self) -> ApiError {
        self.retryable = true;
        self
    }

    fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::warn!(error = %e, "internal error serving a request");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("temporarily unavailable: {e}"),
        )
        .retryable()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
            retryable: bool,
        }
        (
            self.status,
            Json(Body {
                error: self.message,
                retryable: self.retryable,
            }),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The HTTP state: what the work loop shares, the rate limiter and the job-tree cache.
#[derive(Clone)]
pub struct Api {
    shared: Arc<Shared>,
    limiter: Arc<RateLimiter>,
    trees: Arc<Mutex<TreeCache>>,
}

/// Manifests and their job trees, by batch root.
type TreeCache = HashMap<[u8; 32], Arc<(Manifest, JobTree)>>;

/// The API's routes.
pub fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.cfg.upload_limit;
    let limiter = Arc::new(RateLimiter::new(
        shared.cfg.rate_limit,
        shared.cfg.rate_burst,
    ));
    let api = Api {
        shared,
        limiter,
        trees: Default::default(),
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/status", get(status))
        .route("/metrics", get(metrics))
        .route("/v1/jobs/{job_id}", get(job))
        .route("/v1/jobs/{job_id}/witness", get(witness))
        .route(
            "/v1/proofs/{id}",
            get(download)
                .put(upload)
                .layer(DefaultBodyLimit::max(limit)),
        )
        .layer(middleware::from_fn_with_state(api.clone(), rate_limit))
        .with_state(api)
}

fn parse_u64(s: &str, what: &str) -> ApiResult<u64> {
    s.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{what} must be a decimal integer, got `{s}`"),
        )
    })
}

/// A job as the prover client needs it: what its proof must state, and the leaf and Merkle path
/// that tie its witness to the batch's on-chain root.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobInfo {
    /// The job.
    pub job_id: u64,
    /// Its batch.
    pub batch_id: u64,
    /// Its leaf index in the batch.
    pub index: u64,
    /// 0 round 0, 1 aggregation.
    pub kind: u8,
    /// Tree level.
    pub level: u8,
    /// The parameter set of its circuits.
    pub params: String,
    /// What its proof must state.
    pub statement: StatementJson,
    /// keccak256 of the statement's ABI encoding.
    pub statement_hash: String,
    /// keccak256 of the witness bytes.
    pub witness_hash: String,
    /// The leaf.
    pub leaf: String,
    /// Sibling path of the leaf, leaf level first.
    pub path: Vec<String>,
    /// The batch's witness root (also on chain).
    pub witness_root: String,
}

async fn job(State(api): State<Api>, Path(id): Path<String>) -> ApiResult<Json<JobInfo>> {
    let job_id = parse_u64(&id, "job id")?;
    let s = &api.shared;
    let row =
        s.db.job(job_id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("job {job_id} is not one of this relayer's (yet)"),
                )
                .retryable()
            })?;
    let batch =
        s.db.batch(row.batch_id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("batch of a known job missing"))?;
    let tree = api.tree(&batch.root).await?;
    let (manifest, jobs) = &*tree;
    let statement = decode_statement(&row.statement)
        .ok_or_else(|| ApiError::internal("bad stored statement"))?;
    let kind = if manifest.kind == 0 {
        JobKind::Round0
    } else {
        JobKind::Aggregation
    };
    let leaf = jobs
        .leaf(row.idx as usize)
        .ok_or_else(|| ApiError::internal("leaf out of range"))?;
    debug_assert_eq!(
        leaf,
        crowdprove_circuits::job_leaf(
            row.idx as u32,
            kind,
            row.level,
            statement.hash(),
            row.witness_hash
        )
    );
    Ok(Json(JobInfo {
        job_id,
        batch_id: row.batch_id,
        index: row.idx,
        kind: manifest.kind,
        level: row.level,
        params: manifest.params.to_string(),
        statement: statement.into(),
        statement_hash: hex0x(&statement.hash()),
        witness_hash: hex0x(&row.witness_hash),
        leaf: hex0x(&leaf),
        path: jobs
            .path(row.idx as usize)
            .unwrap_or_default()
            .iter()
            .map(|h| hex0x(h))
            .collect(),
        witness_root: hex0x(&batch.root),
    }))
}

impl Api {
    async fn tree(&self, root: &[u8; 32]) -> ApiResult<Arc<(Manifest, JobTree)>> {
        if let Some(t) = self
            .trees
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(root)
        {
            return Ok(t.clone());
        }
        let bytes = self
            .shared
            .blobs
            .get(BlobKind::Manifest, root)
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::internal("manifest missing"))?;
        let manifest =
            Manifest::decode(&bytes).ok_or_else(|| ApiError::internal("bad manifest"))?;
        let tree = manifest.job_tree();
        let entry = Arc::new((manifest, tree));
        self.trees
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*root, entry.clone());
        Ok(entry)
    }
}

fn octets(bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response()
}

async fn witness(State(api): State<Api>, Path(id): Path<String>) -> ApiResult<Response> {
    let job_id = parse_u64(&id, "job id")?;
    let s = &api.shared;
    let row =
        s.db.job(job_id)
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("job {job_id} is not one of this relayer's (yet)"),
                )
                .retryable()
            })?;
    let bytes = s
        .blobs
        .get(BlobKind::Witness, &row.witness_hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::GONE,
                format!("the witness of job {job_id} was pruned"),
            )
        })?;
    Ok(octets(bytes))
}

async fn download(State(api): State<Api>, Path(id): Path<String>) -> ApiResult<Response> {
    let hash = parse_hash(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "GET /v1/proofs/<hash> takes a 0x-hex keccak256",
        )
    })?;
    let bytes = api
        .shared
        .blobs
        .get(BlobKind::Proof, &hash)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no proof with hash {id}")))?;
    Ok(octets(bytes))
}

/// The answer to an accepted upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Accepted {
    /// The request the proof is for.
    pub request_id: u64,
    /// Its keccak256.
    pub proof_hash: String,
}

async fn upload(
    State(api): State<Api>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Accepted>> {
    let result = accept_upload(&api, &id, body).await;
    let counter = if result.is_ok() {
        &api.shared.metrics.uploads_accepted
    } else {
        &api.shared.metrics.uploads_refused
    };
    counter.fetch_add(1, Ordering::Relaxed);
    result
}

async fn accept_upload(api: &Api, id: &str, body: Bytes) -> ApiResult<Json<Accepted>> {
    let request_id = parse_u64(id, "request id")?;
    if body.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty upload: PUT the proof bytes",
        ));
    }
    let s = &api.shared;
    let hash = keccak256(&body);
    let committed = match s.db.submission(request_id).map_err(ApiError::internal)? {
        Some(sub) => {
            if sub.onchain_verdict == Some(crowdprove_bindings::verdict::MISSING) {
                return Err(ApiError::new(
                    StatusCode::GONE,
                    "too late: this submission was judged Missing",
                ));
            }
            sub.proof_hash
        }
        // Not followed yet (or not confirmed): ask the chain directly.
        None => {
            let info = s
                .chain
                .coordinator
                .leaseInfo(request_id)
                .call()
                .await
                .map_err(|e| ApiError::internal(format!("reading lease {request_id}: {e}")))?;
            if info.state == lease_state::NONE {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("request {request_id} does not exist"),
                ));
            }
            if info.proofHash.is_zero() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("request {request_id} has no proof hash on chain yet: submit it on chain first, then retry"),
                )
                .retryable());
            }
            info.proofHash.0
        }
    };
    if committed != hash {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "these bytes hash to {} but request {request_id} committed to {}",
                hex0x(&hash),
                hex0x(&committed)
            ),
        ));
    }
    s.blobs
        .put_at(BlobKind::Proof, &hash, body.to_vec())
        .await
        .map_err(ApiError::internal)?;
    s.db.uploaded(&hash).map_err(ApiError::internal)?;
    s.wake.notify_one();
    Ok(Json(Accepted {
        request_id,
        proof_hash: hex0x(&hash),
    }))
}

#[derive(Serialize)]
struct BatchStatus {
    batch_id: u64,
    kind: u8,
    level: u8,
    parent: u64,
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
    verdict: &'static str,
}

#[derive(Serialize)]
struct Status {
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

fn verdict_name(v: u8) -> &'static str {
    match v {
        1 => "valid",
        2 => "invalid",
        3 => "missing",
        _ => "unknown",
    }
}

async fn status(State(api): State<Api>) -> ApiResult<Json<Status>> {
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
                kind: b.kind,
                level: b.level,
                parent: b.parent,
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
                verdict: verdict_name(v.verdict),
            })
            .collect();
    Ok(Json(Status {
        relayer: s.chain.relayer.to_string(),
        coordinator: s.chain.coordinator.address().to_string(),
        params: s.cfg.params.to_string(),
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

async fn metrics(State(api): State<Api>) -> ApiResult<Response> {
    let s = &api.shared;
    let m = &s.metrics;
    let c = s.db.counts().map_err(ApiError::internal)?;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP crowdprove_relayer_{name} {help}\n# TYPE crowdprove_relayer_{name} {kind}\ncrowdprove_relayer_{name} {value}"
        );
    };
    let chain = tokio::time::timeout(Duration::from_secs(3), chain_gauges(s))
        .await
        .ok()
        .and_then(|r| r.ok());
    gauge(
        "rpc_up",
        "1 if the chain answered this scrape.",
        "gauge",
        chain.is_some() as u8 as f64,
    );
    if let Some((escrow, eth, balance, allowance)) = chain {
        gauge(
            "escrow_wei",
            "Unspent reward escrow held by the Coordinator.",
            "gauge",
            wei(escrow),
        );
        gauge(
            "eth_balance_wei",
            "The relayer account's ETH, which pays for its transactions.",
            "gauge",
            wei(eth),
        );
        gauge(
            "token_balance_wei",
            "Reward tokens the relayer holds to fund new batches.",
            "gauge",
            wei(balance),
        );
        gauge(
            "token_allowance_wei",
            "Reward tokens the Coordinator may still pull from the relayer.",
            "gauge",
            wei(allowance),
        );
    }
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    gauge(
        "proofs_valid_total",
        "Uploaded proofs verified valid.",
        "counter",
        load(&m.verified_valid),
    );
    gauge(
        "proofs_invalid_total",
        "Uploaded proofs verified invalid.",
        "counter",
        load(&m.verified_invalid),
    );
    gauge(
        "verify_seconds_total",
        "Time spent verifying proofs.",
        "counter",
        load(&m.verify_micros) / 1e6,
    );
    gauge(
        "verdicts_sent_total",
        "Verdicts sent on chain.",
        "counter",
        load(&m.verdicts_sent),
    );
    gauge(
        "verdict_transactions_total",
        "recordVerdicts transactions.",
        "counter",
        load(&m.verdict_txs),
    );
    gauge(
        "verdict_gas_total",
        "Gas used by recordVerdicts transactions.",
        "counter",
        load(&m.verdict_gas),
    );
    gauge(
        "batches_posted_total",
        "Batches posted by this process.",
        "counter",
        load(&m.batches_posted),
    );
    gauge(
        "uploads_accepted_total",
        "Proof uploads accepted.",
        "counter",
        load(&m.uploads_accepted),
    );
    gauge(
        "uploads_refused_total",
        "Proof uploads refused.",
        "counter",
        load(&m.uploads_refused),
    );
    gauge(
        "reorgs_total",
        "Chain reorganizations rolled back.",
        "counter",
        load(&m.reorgs),
    );
    gauge(
        "jobs",
        "Jobs of this relayer's batches.",
        "gauge",
        c.jobs as f64,
    );
    gauge(
        "jobs_complete",
        "Jobs completed by a valid proof.",
        "gauge",
        c.jobs_complete as f64,
    );
    gauge(
        "submissions_awaiting_upload",
        "Submitted proofs whose bytes have not arrived.",
        "gauge",
        c.awaiting_upload as f64,
    );
    gauge(
        "submissions_awaiting_verdict",
        "Submitted proofs without an on-chain verdict.",
        "gauge",
        c.awaiting_verdict as f64,
    );
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

/// A token bucket per client address.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `rate` requests per second with bursts of `burst`.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Default::default(),
        }
    }

    /// Takes a token for `ip`; false if its bucket is empty.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, (_, t)| now.duration_since(*t) < Duration::from_secs(60));
        }
        let (tokens, last) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn rate_limit(State(api): State<Api>, request: Request, next: Next) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip {
        if !api.limiter.allow(ip) {
            let mut resp = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit: slow down")
                .retryable()
                .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return resp;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_allows_bursts_then_refuses() {
        let l = RateLimiter::new(1, 3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!((0..3).all(|_| l.allow(ip)));
        assert!(!l.allow(ip));
        assert!(
            l.allow("127.0.0.2".parse().unwrap()),
            "other clients are apart"
        );
    }
}
