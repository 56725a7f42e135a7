//! The client's configuration: flags, environment variables, or a `.env` file. A missing or
//! wrong value gets one line naming it and how to fix it; the key never appears in output.

use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use anyhow::bail;
use clap::Args;

use crowdprove_bindings::Coordinator;
use crowdprove_bindings::opts::{ChainOpts, Prover};

use crowdprove_bindings::tx::TxSender;

/// How to reach the chain and who the prover is: the chain options the relayer shares, with
/// the prover's key names (`--private-key`, `PROVER_KEY`, `PROVER_KEYSTORE`), and the fee-bump
/// delay of the prover's own transaction sender.
#[derive(Clone, Debug, Args)]
pub struct Connection {
    /// The chain, the key and the Coordinator.
    #[command(flatten)]
    pub chain: ChainOpts<Prover>,
    /// Seconds a transaction may wait in the mempool before its fee is bumped.
    #[arg(
        long,
        env = "STUCK_AFTER_SECS",
        value_name = "SECS",
        default_value_t = 45
    )]
    pub stuck_after_secs: u64,
}

/// A connection, checked: the signer, a provider signing as it, the Coordinator.
pub struct Connected {
    /// The prover's address.
    pub address: Address,
    /// A provider that signs as the prover.
    pub provider: DynProvider,
    /// The Coordinator.
    pub coordinator: Coordinator::CoordinatorInstance<DynProvider>,
    /// The prover's transaction sender.
    pub tx: TxSender,
}

impl Connection {
    /// Resolves the signer and checks that the RPC answers and a Coordinator lives at the address.
    pub async fn connect(&self) -> anyhow::Result<Connected> {
        let signer = self.chain.signer()?;
        let coordinator_address = self.chain.coordinator_address()?;
        let rpc_url = &self.chain.rpc_url;
        let address = signer.address();
        let provider = crowdprove_bindings::wallet_provider(signer, rpc_url)
            .map_err(|e| anyhow::anyhow!("--rpc-url (RPC_URL): {e}"))?;
        let coordinator = Coordinator::new(coordinator_address, provider.clone());
        let code = tokio::time::timeout(
            Duration::from_secs(10),
            alloy::providers::Provider::get_code_at(&provider, coordinator_address),
        )
        .await
        .map_err(|_| anyhow::anyhow!("the RPC at {rpc_url} does not answer (--rpc-url, RPC_URL)"))?
        .map_err(|e| {
            anyhow::anyhow!("cannot reach the RPC at {rpc_url} (--rpc-url, RPC_URL): {e}")
        })?;
        if code.is_empty() {
            bail!(
                "no contract at {coordinator_address} on this chain: check --coordinator (COORDINATOR) and --rpc-url"
            );
        }
        coordinator.paramDelay().call().await.map_err(|_| {
            anyhow::anyhow!(
                "{coordinator_address} is not a CrowdProve Coordinator: check --coordinator"
            )
        })?;
        let tx = TxSender::new(
            provider.clone(),
            address,
            Duration::from_secs(self.stuck_after_secs.max(1)),
        );
        Ok(Connected {
            address,
            provider,
            coordinator,
            tx,
        })
    }
}
