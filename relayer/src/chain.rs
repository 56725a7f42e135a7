//! The chain side: a provider signing as the relayer, the transaction sender every one of its
//! transactions goes through, the Coordinator and token contracts, and retries of RPC calls
//! with backoff.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;

use crowdprove_bindings::tx::TxSender;
use crowdprove_bindings::{Coordinator, TestToken};

/// The Coordinator bound to the relayer's provider.
pub(crate) type CoordinatorContract = Coordinator::CoordinatorInstance<DynProvider>;
/// The reward token (any ERC-20; the test token's binding has the ERC-20 calls).
pub(crate) type TokenContract = TestToken::TestTokenInstance<DynProvider>;

/// A connection to the chain as the relayer.
#[derive(Clone)]
pub(crate) struct Chain {
    /// The provider (signs as the relayer).
    pub(crate) provider: DynProvider,
    /// The relayer's address.
    pub(crate) relayer: Address,
    /// The Coordinator.
    pub(crate) coordinator: CoordinatorContract,
    /// Sends the relayer's transactions: its own nonces, a bounded wait for each receipt, and
    /// a stuck or dropped transaction sent again with a higher fee.
    pub(crate) tx: Arc<TxSender>,
}

impl Chain {
    /// Connects to `rpc_url` signing with `key`; a transaction unmined after `stuck_after` is
    /// sent again with a higher fee.
    pub(crate) fn new(
        rpc_url: &str,
        key: PrivateKeySigner,
        coordinator: Address,
        stuck_after: Duration,
    ) -> anyhow::Result<Chain> {
        let relayer = key.address();
        // Nonces, gas and fees are the sender's: a provider that filled them too would number
        // transactions the sender does not know of.
        let provider = crowdprove_bindings::wallet_provider(key, rpc_url)
            .map_err(|e| anyhow::anyhow!("--rpc-url: {e}"))?;
        let coordinator = Coordinator::new(coordinator, provider.clone());
        let tx = Arc::new(TxSender::new(provider.clone(), relayer, stuck_after));
        Ok(Chain {
            provider,
            relayer,
            coordinator,
            tx,
        })
    }

    /// The reward token.
    pub(crate) async fn token(&self) -> anyhow::Result<TokenContract> {
        let address = retry("read the token", || async {
            self.coordinator.token().call().await
        })
        .await?;
        Ok(TestToken::new(address, self.provider.clone()))
    }
}

/// Runs `f` until it succeeds, backing off from 200 ms to 5 s between tries, for at most
/// `RETRIES` tries: RPC endpoints fail now and then and the relayer must not.
pub(crate) async fn retry<T, E, F, Fut>(what: &str, mut f: F) -> Result<T, E>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: IntoFuture<Output = Result<T, E>>,
{
    const RETRIES: u32 = 8;
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < RETRIES => {
                tracing::warn!(what, attempt, error = %e, "RPC call failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}
