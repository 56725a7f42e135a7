//! The relayer's HTTP API (axum), one module per resource: [`jobs`] (job descriptions with
//! their leaf and Merkle path, and witnesses), [`proofs`] (uploads, accepted only when their
//! keccak256 is the hash the chain holds for the request, and downloads), [`status`]
//! (`/v1/status`, and `/metrics` on the admin address); a per-client token bucket
//! ([`rate_limit`]) guards the public routes.
//! Every error is a JSON body with a clear message and whether retrying can help.

mod jobs;
mod proofs;
mod rate_limit;
mod serve;
mod status;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::service::Shared;

pub(crate) use rate_limit::RateLimiter;
pub(crate) use serve::{ConnLimits, serve};
pub(crate) use status::{Snapshot, refresh};

/// An API error: status, message, and whether the client should retry.
#[derive(Debug)]
pub(crate) struct ApiError {
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

    /// A failure of the relayer's own parts (database, object store, RPC): logged whole, and
    /// answered without its text, which can name an RPC URL with its key or a file path.
    fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::warn!(error = %e, "internal error serving a request");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily unavailable (the relayer's log has the details): retry later",
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
struct Api {
    shared: Arc<Shared>,
    limiter: Arc<RateLimiter>,
    trees: Arc<jobs::TreeCache>,
    /// Requests being handled, at most `--max-requests`.
    in_flight: Arc<Semaphore>,
    /// How long a request may take, its body included.
    request_timeout: Duration,
}

/// The API's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let http = &shared.cfg.http;
    let limit = http.upload_limit;
    let limiter = Arc::new(RateLimiter::new(http.rate_limit, http.rate_burst));
    let api = Api {
        in_flight: Arc::new(Semaphore::new(http.max_requests.max(1))),
        request_timeout: Duration::from_secs(http.request_timeout_secs.max(1)),
        shared,
        limiter,
        trees: Default::default(),
    };
    Router::new()
        .route("/", get(page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/status", get(status::status))
        .route("/v1/jobs/{job_id}", get(jobs::job))
        .route("/v1/jobs/{job_id}/witness", get(jobs::witness))
        .route("/v1/uploads/{hash}", get(proofs::upload_info))
        .route(
            "/v1/proofs/{id}",
            get(proofs::download)
                .put(proofs::upload)
                .layer(DefaultBodyLimit::max(limit)),
        )
        .layer(middleware::from_fn_with_state(api.clone(), bounded))
        .layer(middleware::from_fn_with_state(
            api.clone(),
            rate_limit::middleware,
        ))
        .with_state(api)
}

/// The live status page: one file, its script and style inline (no CDN: it must work where
/// there is no internet), polling `/v1/status`.
const PAGE: &str = include_str!("page/index.html");

async fn page() -> axum::response::Html<&'static str> {
    axum::response::Html(PAGE)
}

// At most `--max-requests` at once, each within `--request-timeout-secs` (a slow upload body
// included): past either, a clear answer instead of a task held for as long as the client likes.
async fn bounded(State(api): State<Api>, request: Request, next: Next) -> Response {
    let Ok(_permit) = api.in_flight.clone().try_acquire_owned() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy: too many requests at once; retry shortly",
        )
        .into_response();
    };
    match tokio::time::timeout(api.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request took too long (a slow upload?); retry",
        )
        .retryable()
        .into_response(),
    }
}

/// The admin routes (`/metrics`, `/healthz`), for an address only the operator reaches: a
/// scrape is the operator's, not the public's.
pub(crate) fn admin_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(status::metrics))
        .with_state(shared)
}

/// A decimal id of at most `max`: 400 if it is no number, 404 (final) past `max`, which no id
/// of its kind can reach on chain (and which the database's signed integers could not hold).
fn parse_id(s: &str, what: &str, max: u64) -> ApiResult<u64> {
    let id: u64 = s.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{what} must be a decimal integer, got `{s}`"),
        )
    })?;
    if id > max {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no {what} is {id}: they are at most {max}"),
        ));
    }
    Ok(id)
}

fn octets(bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from(bytes),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_echo_their_text() {
        let e =
            ApiError::internal("error sending request for url (https://rpc.example/v2/SECRETKEY)");
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(e.retryable);
        assert!(!e.message.contains("SECRETKEY"), "{}", e.message);
    }

    #[test]
    fn ids_past_their_maximum_are_404_and_final() {
        let e = parse_id("9223372036854775808", "job id", u64::from(u32::MAX)).unwrap_err();
        assert_eq!((e.status, e.retryable), (StatusCode::NOT_FOUND, false));
        assert_eq!(
            parse_id("4294967295", "job id", u64::from(u32::MAX)).unwrap(),
            4294967295
        );
        assert_eq!(
            parse_id("x", "job id", 1).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
    }
}
