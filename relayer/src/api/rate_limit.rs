//! A rate limit per client: each client may make `rate` requests per second with bursts of
//! `burst` (governor's keyed GCRA limiter). A client is an IPv4 address or an IPv6 /64, the
//! block one subscriber gets: keyed per /128, one machine could take 2^64 allowances. Idle
//! clients are forgotten so the table stays small, in a sweep at most every few seconds, never
//! one per request.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::{Api, ApiError};

/// Clients remembered before the idle ones are dropped.
const MAX_CLIENTS: usize = 10_000;
/// The least time between two sweeps of idle clients (each locks the table's shards in turn).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// The limit per client.
pub(crate) struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    started: Instant,
    /// Milliseconds since `started` of the last sweep.
    last_sweep_ms: AtomicU64,
    /// Sweeps done.
    sweeps: AtomicU64,
}

impl RateLimiter {
    /// `rate` requests per second with bursts of `burst` (each at least 1).
    pub(crate) fn new(rate: u32, burst: u32) -> RateLimiter {
        let at_least_one = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
        let quota = Quota::per_second(at_least_one(rate)).allow_burst(at_least_one(burst));
        RateLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            started: Instant::now(),
            last_sweep_ms: AtomicU64::new(0),
            sweeps: AtomicU64::new(0),
        }
    }

    /// Takes one request's allowance for `ip`'s client; false if it has none left.
    pub(crate) fn allow(&self, ip: IpAddr) -> bool {
        if self.limiter.len() > MAX_CLIENTS {
            let now = self.started.elapsed().as_millis() as u64;
            let last = self.last_sweep_ms.load(Ordering::Relaxed);
            // One request wins the sweep; the others go on meanwhile.
            if now.saturating_sub(last) >= SWEEP_EVERY.as_millis() as u64
                && self
                    .last_sweep_ms
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                self.sweeps.fetch_add(1, Ordering::Relaxed);
                self.limiter.retain_recent();
            }
        }
        self.limiter.check_key(&client(ip)).is_ok()
    }
}

/// The client an address belongs to: an IPv4 address (an IPv4-mapped IPv6 one too), or an
/// IPv6 address's /64.
fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
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

    #[test]
    fn an_ipv6_client_is_its_64_block() {
        let l = RateLimiter::new(1, 2);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        assert!(l.allow(a) && l.allow(b), "the /64's burst, shared");
        assert!(!l.allow(a), "another address of the same /64 used it up");
        assert!(
            l.allow("2001:db8:1:3::1".parse().unwrap()),
            "the next /64 is apart"
        );
        assert_eq!(
            client("::ffff:10.0.0.1".parse().unwrap()),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_full_table_is_swept_once_per_interval_not_per_request() {
        let l = RateLimiter::new(1, 1);
        // More clients than the table keeps, all recent: a sweep frees nothing.
        for i in 0..=MAX_CLIENTS as u32 {
            l.allow(IpAddr::from(i.to_be_bytes()));
        }
        for i in 0..1_000u32 {
            l.allow(IpAddr::from(((i + 1) << 24).to_be_bytes()));
        }
        assert!(
            l.sweeps.load(Ordering::Relaxed) <= 1,
            "{} sweeps of a full table",
            l.sweeps.load(Ordering::Relaxed)
        );
    }
}
