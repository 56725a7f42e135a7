//! relayer/: the operator's side of CrowdProve. It turns a rollup's witnesses into on-chain
//! batches (one Merkle root each), serves witnesses and their Merkle paths over HTTP, accepts
//! proof uploads that match the hash submitted on chain, verifies them off-chain and posts
//! verdicts in batches, drives each batch's aggregation tree to one final proof, finalizes it
//! on chain and hands it to a sink. Its SQLite database is a cache of the chain: delete it,
//! restart, and it rebuilds from the chain's events and the blob store.

pub mod blobs;
pub mod chain;
pub mod config;
pub mod db;
pub mod http;
pub mod manifest;
pub mod service;
pub mod sink;
pub mod source;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crowdprove_circuits::Circuits;

pub use config::RelayerConfig;
pub use service::{Service, Shared};

/// A running relayer: its HTTP address and the means to stop it.
pub struct RelayerHandle {
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    /// What the API and the work loop share (database, blobs, chain, metrics).
    pub shared: Arc<Shared>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl RelayerHandle {
    /// Stops the work loop and the HTTP server and waits for both.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// A token that stops the relayer when cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits until the relayer stops (its token was cancelled).
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Opens the database and blob store, checks the chain, builds the circuits and starts the
/// HTTP API and the work loop.
pub async fn start(cfg: RelayerConfig) -> anyhow::Result<RelayerHandle> {
    let db = Arc::new(
        db::Db::open(&cfg.db)
            .with_context(|| format!("opening the database {}", cfg.db.display()))?,
    );
    let blobs = blobs::BlobStore::open(&cfg.blobs)?;
    let chain = chain::Chain::new(&cfg.rpc_url, cfg.relayer_key.0.clone(), cfg.coordinator)?;
    let on_chain = chain::retry("read the Coordinator's relayer", || async {
        chain.coordinator.relayer().call().await
    })
    .await
    .with_context(|| {
        format!(
            "reading the Coordinator at {} through {}",
            cfg.coordinator, cfg.rpc_url
        )
    })?;
    anyhow::ensure!(
        on_chain == chain.relayer,
        "the Coordinator's relayer is {on_chain}, not {} (this key's address): pass the relayer's key with --relayer-key",
        chain.relayer
    );
    let set = cfg.params;
    let circuits = tokio::task::spawn_blocking(move || Circuits::shared(set)).await?;
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {} (--listen)", cfg.listen))?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        cfg,
        db,
        blobs,
        chain,
        circuits,
        metrics: Default::default(),
        wake: Default::default(),
    });
    let cancel = CancellationToken::new();
    let app = http::router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let stop = cancel.clone();
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });
    let service = Service::new(shared.clone())?;
    let work = tokio::spawn(service.run(cancel.clone()));
    tracing::info!(%addr, relayer = %shared.chain.relayer, params = %set, "relayer running");
    Ok(RelayerHandle {
        addr,
        shared,
        cancel,
        tasks: vec![server, work],
    })
}
