//! The chain side: a provider signing as the relayer, the Coordinator and token contracts,
//! and retries of RPC calls with backoff.

use std::future::IntoFuture;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;

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
}

impl Chain {
    /// Connects to `rpc_url` signing with `key`.
    pub(crate) fn new(
        rpc_url: &str,
        key: PrivateKeySigner,
        coordinator: Address,
    ) -> anyhow::Result<Chain> {
        let relayer = key.address();
        let provider = crowdprove_bindings::signing_provider(key, rpc_url)
            .map_err(|e| anyhow::anyhow!("--rpc-url: {e}"))?;
        let coordinator = Coordinator::new(coordinator, provider.clone());
        Ok(Chain {
            provider,
            relayer,
            coordinator,
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
