//! `PUT /v1/proofs/{request id}`: an upload, accepted only when the bytes hash to what the
//! chain holds for the request; `GET /v1/proofs/{hash}`: a proof by its hash.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crowdprove_protocol::{LeaseState, RequestId, Verdict, hex0x, keccak256, limits, parse_hash};

use super::{Api, ApiError, ApiResult, octets, parse_id};
use crate::blobs::BlobKind;

pub(super) async fn download(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
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

/// When the relayer got a proof's bytes: public, so that anyone can check a Missing verdict
/// against it (`crowdprove-prover audit`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct UploadInfo {
    /// The proof's keccak256.
    pub(crate) proof_hash: String,
    /// The job it proves.
    pub(crate) job_id: u64,
    /// When its bytes first arrived (unix ms, the relayer's clock; null if not recorded).
    pub(crate) uploaded_ms: Option<u64>,
    /// The same in chain time (s): the latest block's time the relayer had seen, which is
    /// what it holds upload deadlines to (null if not known then).
    pub(crate) uploaded_at: Option<u64>,
}

/// `GET /v1/uploads/{hash}`: when the bytes of a proof arrived.
pub(super) async fn upload_info(
    State(api): State<Api>,
    Path(id): Path<String>,
) -> ApiResult<Json<UploadInfo>> {
    let hash = parse_hash(&id).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "GET /v1/uploads/<hash> takes a 0x-hex keccak256",
        )
    })?;
    let (job_id, uploaded_ms, uploaded_at) = api
        .shared
        .db
        .upload(&hash)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no upload of {id}")))?;
    Ok(Json(UploadInfo {
        proof_hash: hex0x(&hash),
        job_id,
        uploaded_ms,
        uploaded_at,
    }))
}

/// The answer to an accepted upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Accepted {
    /// The request the proof is for.
    pub(crate) request_id: u64,
    /// Its keccak256.
    pub(crate) proof_hash: String,
}

pub(super) async fn upload(
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
    counter.inc();
    result
}

async fn accept_upload(api: &Api, id: &str, body: Bytes) -> ApiResult<Json<Accepted>> {
    let max = RequestId::new(limits::MAX_JOB_ID, limits::MAX_ATTEMPTS as u32).0;
    let request_id = parse_id(id, "request id", max)?;
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
            if sub.onchain_verdict == Some(Verdict::Missing) {
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
            if LeaseState::try_from(info.state) == Ok(LeaseState::None) {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("request {request_id} does not exist"),
                ));
            }
            // The contract keeps 4 bytes of the hash; the event has it whole.
            let submitted = if info.proofPrefix.is_zero() && info.submittedAt == 0 {
                None
            } else {
                crowdprove_bindings::submitted_proof_hash(&s.chain.coordinator, request_id)
                    .await
                    .map_err(|e| {
                        ApiError::internal(format!(
                            "reading request {request_id}'s submission: {e}"
                        ))
                    })?
            };
            let Some(hash) = submitted else {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("request {request_id} has no proof hash on chain yet: submit it on chain first, then retry"),
                )
                .retryable());
            };
            hash.0
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
    crate::faults::crash_point("upload-stored");
    // The relayer's clock for Missing verdicts is the chain's: unknown (not this machine's
    // clock, which a devnet's chain time can run ahead of) until it has read a block.
    let chain_at =
        Some(s.chain_time.load(std::sync::atomic::Ordering::Relaxed)).filter(|&t| t != 0);
    s.db.record_upload(
        &hash,
        RequestId(request_id).job(),
        crate::service::now_ms(),
        chain_at,
    )
    .map_err(ApiError::internal)?;
    s.db.uploaded(&hash).map_err(ApiError::internal)?;
    s.wake.notify_one();
    Ok(Json(Accepted {
        request_id,
        proof_hash: hex0x(&hash),
    }))
}
