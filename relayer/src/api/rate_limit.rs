//! A rate limit per client address: each client may make `rate` requests per second with bursts
//! of `burst` (governor's keyed GCRA limiter); idle clients are forgotten so the table stays
//! small.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::{Api, ApiError};

/// Clients remembered before the idle ones are dropped.
const MAX_CLIENTS: usize = 10_000;

/// The limit per client address.
pub(crate) struct RateLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl RateLimiter {
    /// `rate` requests per second with bursts of `burst` (each at least 1).
    pub(crate) fn new(rate: u32, burst: u32) -> RateLimiter {
        let at_least_one = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
        let quota = Quota::per_second(at_least_one(rate)).allow_burst(at_least_one(burst));
        RateLimiter(DefaultKeyedRateLimiter::keyed(quota))
    }

    /// Takes one request's allowance for `ip`; false if it has none left.
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        if self.0.len() > MAX_CLIENTS {
            self.0.retain_recent();
        }
        self.0.check_key(&ip).is_ok()
    }
}

pub(super) async fn middleware(State(api): State<Api>, request: Request, next: Next) -> Response {
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
