//! The client's configuration: flags, environment variables, or a `.env` file. A missing or
//! wrong value gets one line naming it and how to fix it; the key never appears in output.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::Address;
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use clap::Args;

use crowdprove_bindings::Coordinator;

use crate::tx::TxSender;

/// How to reach the chain and who the prover is.
#[derive(Clone, Args)]
pub struct Connection {
    /// JSON-RPC endpoint of the chain.
    #[arg(
        long,
        env = "RPC_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc_url: String,
    /// The prover's private key (hex). Prefer --keystore; never shown in logs.
    #[arg(long, env = "PROVER_KEY", value_name = "HEX", hide_env_values = true)]
    pub private_key: Option<String>,
    /// An encrypted keystore file (as `cast wallet new` writes) instead of a raw key.
    #[arg(long, env = "PROVER_KEYSTORE", value_name = "FILE")]
    pub keystore: Option<PathBuf>,
    /// The keystore's password (asked for on the terminal if absent).
    #[arg(
        long,
        env = "KEYSTORE_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub keystore_password: Option<String>,
    /// The Coordinator contract's address.
    #[arg(long, env = "COORDINATOR", value_name = "ADDRESS")]
    pub coordinator: Option<String>,
    /// Seconds a transaction may wait in the mempool before its fee is bumped.
    #[arg(
        long,
        env = "STUCK_AFTER_SECS",
        value_name = "SECS",
        default_value_t = 45
    )]
    pub stuck_after_secs: u64,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("rpc_url", &self.rpc_url)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<hidden>"),
            )
            .field("keystore", &self.keystore)
            .field("coordinator", &self.coordinator)
            .finish()
    }
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
    /// The signer named by `--private-key` or `--keystore`.
    pub fn signer(&self) -> anyhow::Result<PrivateKeySigner> {
        match (&self.private_key, &self.keystore) {
            (Some(_), Some(_)) => bail!(
                "both --private-key (PROVER_KEY) and --keystore (PROVER_KEYSTORE) are set: keep one"
            ),
            (None, None) => bail!(
                "no prover key: set --keystore <file> (PROVER_KEYSTORE) or --private-key <hex> (PROVER_KEY), e.g. in a .env file"
            ),
            (Some(key), None) => key.trim().parse::<PrivateKeySigner>().map_err(|_| {
                anyhow::anyhow!("--private-key (PROVER_KEY) is not a 32-byte hex private key")
            }),
            (None, Some(path)) => {
                let password = match &self.keystore_password {
                    Some(p) => p.clone(),
                    None => {
                        rpassword::prompt_password(format!("password for {}: ", path.display()))
                            .context("reading the keystore password (or set KEYSTORE_PASSWORD)")?
                    }
                };
                PrivateKeySigner::decrypt_keystore(path, password).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot open keystore {}: {e} (wrong password or not a keystore file?)",
                        path.display()
                    )
                })
            }
        }
    }

    /// The Coordinator's address.
    pub fn coordinator_address(&self) -> anyhow::Result<Address> {
        let raw = self.coordinator.as_deref().ok_or_else(|| {
            anyhow::anyhow!("no Coordinator address: set --coordinator <address> (COORDINATOR); the deploy script prints it")
        })?;
        raw.trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("--coordinator (COORDINATOR) `{raw}` is not an address"))
    }

    /// Resolves the signer and checks that the RPC answers and a Coordinator lives at the address.
    pub async fn connect(&self) -> anyhow::Result<Connected> {
        let signer = self.signer()?;
        let coordinator_address = self.coordinator_address()?;
        let address = signer.address();
        let provider = crowdprove_bindings::wallet_provider(signer, &self.rpc_url)
            .map_err(|e| anyhow::anyhow!("--rpc-url (RPC_URL): {e}"))?;
        let coordinator = Coordinator::new(coordinator_address, provider.clone());
        let code = tokio::time::timeout(
            Duration::from_secs(10),
            alloy::providers::Provider::get_code_at(&provider, coordinator_address),
        )
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "the RPC at {} does not answer (--rpc-url, RPC_URL)",
                self.rpc_url
            )
        })?
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the RPC at {} (--rpc-url, RPC_URL): {e}",
                self.rpc_url
            )
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
