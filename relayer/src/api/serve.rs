//! Serving the API with the limits `axum::serve` leaves open: at most `max_connections`
//! connections at once (more wait in the listen backlog), and a connection that takes longer
//! than `header_timeout` to send a request's headers, or sits idle that long between requests,
//! is closed. Without them, a few hundred half-open connections held the relayer's sockets
//! and tasks for as long as their senders liked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

/// How many connections, and how long a connection may take to send its headers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnLimits {
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// Time to send a request's headers, or to start the next request.
    pub(crate) header_timeout: Duration,
}

/// Serves `app` on `listener` until `stop` is cancelled; connections in progress then finish
/// their current request.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    stop: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            _ = stop.cancelled() => return,
        };
        let (socket, peer) = tokio::select! {
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        let Ok(service) = make.call(peer).await;
        let stop = stop.clone();
        tokio::spawn(async move {
            let hyper_service =
                hyper::service::service_fn(move |r: Request<Incoming>| service.clone().oneshot(r));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(socket), hyper_service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                }
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
}
