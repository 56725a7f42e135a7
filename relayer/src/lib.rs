//! relayer/: the operator's side of CrowdProve. It turns a rollup's witnesses into on-chain
//! batches (one Merkle root each), serves witnesses and their Merkle paths over HTTP, accepts
//! proof uploads that match the hash submitted on chain, verifies them off-chain and posts
//! verdicts in batches, drives each batch's aggregation tree to one final proof, finalizes it
//! on chain and hands it to a sink. Its SQLite database is a cache of the chain: delete it,
//! restart, and it rebuilds from the chain's events and the blob store.
//!
//! Its API is [`start`] (with [`RelayerConfig`]) and [`cancel_batch`], the [`source`] trait
//! an operator plugs a rollup in with, and [`bench`]; the rest (database, blobs, chain, HTTP
//! handlers, the work loop's duties) is internal. Provers reach it over HTTP and never link
//! this crate: the wire types are crowdprove-protocol's.
//!
//! ## Feature Flags
//! - `test-utils`: [`test_utils`], a chain with a relayer configured for it, for tests and
//!   benchmarks.

mod api;
pub mod bench;
mod blobs;
mod chain;
pub mod cli;
pub mod config;
mod db;
mod faults;
#[cfg(feature = "fault-injection")]
pub use faults::Lies;
mod metrics;
pub mod pg_queue;
mod service;
mod sink;
pub mod source;
#[cfg(feature = "test-utils")]
pub mod test_utils;

use std::net::SocketAddr;
use std::sync::Arc;

use alloy::providers::Provider;
use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crowdprove_circuits::Circuits;

pub use config::RelayerConfig;

use crate::service::{Service, Shared};

/// A running relayer: its HTTP address and the means to stop it.
pub struct RelayerHandle {
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    /// Where `/metrics` is served.
    pub admin_addr: SocketAddr,
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

/// Connects to the chain as the configured relayer and checks that the Coordinator there
/// names this key as its relayer.
async fn connect(cfg: &RelayerConfig) -> anyhow::Result<chain::Chain> {
    let key = cfg.chain.signer()?;
    let coordinator = cfg.chain.coordinator_address()?;
    let rpc = &cfg.chain.rpc_url;
    let stuck_after = std::time::Duration::from_secs(cfg.follow.stuck_after_secs.max(1));
    let chain = chain::Chain::new(rpc, key, coordinator, stuck_after)?;
    let on_chain = chain::retry("read the Coordinator's relayer", || async {
        chain.coordinator.relayer().call().await
    })
    .await
    .with_context(|| format!("reading the Coordinator at {coordinator} through {rpc}"))?;
    anyhow::ensure!(
        on_chain == chain.relayer,
        "the Coordinator's relayer is {on_chain}, not {} (this key's address): pass the relayer's key with --relayer-key",
        chain.relayer
    );
    Ok(chain)
}

/// Opens the database and blob store, checks the chain, builds the circuits and starts the
/// HTTP API and the work loop.
pub async fn start(mut cfg: RelayerConfig) -> anyhow::Result<RelayerHandle> {
    let db = Arc::new(
        db::Db::open(&cfg.store.db)
            .with_context(|| format!("opening the database {}", cfg.store.db.display()))?,
    );
    let blobs = blobs::BlobStore::open(&cfg.store.blobs)?;
    let chain = connect(&cfg).await?;
    if cfg.follow.confirmations.is_none() {
        let id = chain::retry("read the chain id", || async {
            chain.provider.get_chain_id().await
        })
        .await?;
        let n = config::default_confirmations(id);
        tracing::info!(
            chain_id = id,
            confirmations = n,
            "confirmations by chain id (--confirmations overrides)"
        );
        cfg.follow.confirmations = Some(n);
    }
    let set = cfg.jobs.params;
    let circuits = tokio::task::spawn_blocking(move || Circuits::shared(set)).await?;
    let listen = cfg.http.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen} (--listen)"))?;
    let addr = listener.local_addr()?;
    let admin_listen = cfg.http.admin_listen;
    let admin = tokio::net::TcpListener::bind(admin_listen)
        .await
        .with_context(|| format!("listening on {admin_listen} (--admin-listen)"))?;
    let admin_addr = admin.local_addr()?;
    let pg = match &cfg.jobs.source {
        config::SourceSpec::Postgres(url) => {
            let name = pg_queue::relayer_name(&format!("{:#x}", cfg.chain.coordinator_address()?));
            let q = pg_queue::PgQueue::connect(url, &name, cfg.jobs.queue_max_attempts)?;
            q.migrate()
                .await
                .context("the PostgreSQL job source (--source)")?;
            Some(Arc::new(q))
        }
        _ => None,
    };
    let registry = match &cfg.verdicts.circuits {
        Some(path) => crowdprove_circuits::registry::Registry::load(path)?,
        None => Default::default(),
    };
    let shared = Shared::new(cfg, db, blobs, chain, circuits).with_registry(registry);
    let shared = Arc::new(match pg {
        Some(pg) => shared.with_queue(pg),
        None => shared,
    });
    let cancel = CancellationToken::new();
    let http = &shared.cfg.http;
    let limits = api::ConnLimits {
        max_connections: http.max_connections,
        header_timeout: std::time::Duration::from_secs(http.header_timeout_secs.max(1)),
    };
    let server = tokio::spawn(api::serve(
        listener,
        api::router(shared.clone()),
        limits,
        cancel.clone(),
    ));
    let admin_server = tokio::spawn(api::serve(
        admin,
        api::admin_router(shared.clone()),
        limits,
        cancel.clone(),
    ));
    let service = Service::new(shared.clone())?;
    let work = tokio::spawn(service.run(cancel.clone()));
    tracing::info!(%addr, relayer = %shared.chain.relayer, params = %set, "relayer running");
    Ok(RelayerHandle {
        addr,
        admin_addr,
        cancel,
        tasks: vec![server, admin_server, work],
    })
}

/// Cancels batch `batch_id` as the configured relayer: its fresh jobs are never leased and
/// its unspent escrow comes back to whoever posted it. Then clears its pending jobs, so that
/// their holders' bonds are free at once and reassignment never has to step over them.
/// Returns the cancellation's transaction hash.
pub async fn cancel_batch(cfg: &RelayerConfig, batch_id: u32) -> anyhow::Result<[u8; 32]> {
    let chain = connect(cfg).await?;
    let receipt = chain
        .tx
        .send("cancelBatch", chain.coordinator.cancelBatch(batch_id))
        .await
        .map_err(|e| anyhow::anyhow!("cancelBatch({batch_id}): {e}"))?;
    let cleared = clear_cancelled(&chain, batch_id).await?;
    tracing::info!(
        batch = batch_id,
        cleared,
        "batch cancelled and its pending jobs cleared"
    );
    Ok(receipt.transaction_hash.0)
}

/// Clears the pending jobs of cancelled batch `batch_id`, MAX_CLEAR_PER_CALL per transaction;
/// returns how many were pending. Leases would clear them too, a few at a time.
async fn clear_cancelled(chain: &chain::Chain, batch_id: u32) -> anyhow::Result<usize> {
    use crowdprove_protocol::JobStatus;
    let coordinator = &chain.coordinator;
    let b = coordinator.batch(batch_id).call().await?;
    let first: u64 = b.firstJobId.to();
    let mut pending = Vec::new();
    for id in first..first + u64::from(b.jobCount.to::<u32>()) {
        let job = alloy::primitives::aliases::U40::from(id);
        if coordinator.job(job).call().await?.status == JobStatus::Pending as u8 {
            pending.push(job);
        }
    }
    for ids in pending.chunks(crowdprove_protocol::limits::MAX_CLEAR_PER_CALL) {
        chain
            .tx
            .send("clearCancelled", coordinator.clearCancelled(ids.to_vec()))
            .await
            .map_err(|e| anyhow::anyhow!("clearCancelled: {e}"))?;
    }
    Ok(pending.len())
}
