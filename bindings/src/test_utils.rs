//! The test kit (feature `test-utils`): a [`TestChain`] that starts anvil, deploys the
//! Coordinator and a mintable token, funds and stakes accounts; and [`confirm`], which sends a
//! call and waits for a successful receipt. The relayer's, the client's and the end-to-end
//! tests, the devnet and the relayer's throughput bench all start their chain here.

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;

use crowdprove_protocol::{JobStatus, LeaseState};

use crate::{Coordinator, DeployParams, TestToken, anvil_binary, deploy_devnet, signing_provider};

/// Starting the chain or a transaction on it failed.
#[derive(Debug, thiserror::Error)]
pub enum TestChainError {
    /// anvil did not start.
    #[error("starting anvil ({binary}): {why}; run `make setup`")]
    Anvil {
        /// The binary tried.
        binary: String,
        /// Why it failed.
        why: String,
    },
    /// Deploying the contracts failed.
    #[error("deploying: {0}")]
    Deploy(#[from] crate::DeployError),
    /// A call was refused (its revert decoded where the Coordinator's).
    #[error("{0}")]
    Call(String),
    /// A transaction was mined but reverted.
    #[error("transaction {0} reverted")]
    Reverted(alloy::primitives::B256),
    /// The node failed to answer.
    #[error("RPC: {0}")]
    Rpc(String),
}

/// Sends `call`, waits for its receipt and checks that it succeeded.
pub async fn confirm<P: Provider, D: CallDecoder>(
    call: CallBuilder<P, D>,
) -> Result<TransactionReceipt, TestChainError> {
    let pending = call
        .send()
        .await
        .map_err(|e| TestChainError::Call(crate::describe(&e)))?;
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|e| TestChainError::Rpc(e.to_string()))?;
    if !receipt.status() {
        return Err(TestChainError::Reverted(receipt.transaction_hash));
    }
    Ok(receipt)
}

/// What chain to start: the number of accounts and the Coordinator's parameters. Account 0
/// is the operator (owner and relayer); the last is a faucet that mints, so that minting
/// never races the relayer's own nonces.
#[derive(Clone, Debug)]
pub struct ChainSpec {
    /// anvil accounts, the operator and the faucet included.
    pub accounts: usize,
    /// The Coordinator's parameters; owner and relayer are filled with the operator, and a
    /// zero treasury too.
    pub params: DeployParams,
    /// Tokens minted to the operator to fund rewards.
    pub operator_tokens: U256,
    /// Seconds between blocks, as an L2 mines them (None: a block per transaction).
    pub block_time: Option<u64>,
}

impl Default for ChainSpec {
    fn default() -> ChainSpec {
        ChainSpec {
            accounts: 10,
            params: DeployParams {
                owner: Address::ZERO,
                relayer: Address::ZERO,
                treasury: Address::ZERO,
                param_delay: 3600,
                bond_per_lease: U256::from(10),
                min_bond: U256::from(10),
                slash_amount: U256::from(5),
                min_reassign_age: 0,
                upload_deadline: 30,
                unbonding_delay: 60,
            },
            operator_tokens: U256::from(1_000_000u64),
            block_time: None,
        }
    }
}

/// anvil with a deployed Coordinator and test token. Stops anvil when dropped.
pub struct TestChain {
    /// The node.
    pub anvil: AnvilInstance,
    /// The operator's key (account 0: owner and relayer).
    pub operator: PrivateKeySigner,
    /// A provider signing as the operator.
    pub provider: DynProvider,
    /// The reward token.
    pub token: Address,
    /// The Coordinator.
    pub coordinator: Address,
    /// The parameters it was deployed with.
    pub params: DeployParams,
    faucet: DynProvider,
}

impl TestChain {
    /// Starts anvil with `spec.accounts` accounts, deploys, and funds the operator.
    pub async fn start(spec: ChainSpec) -> Result<TestChain, TestChainError> {
        let mut anvil =
            Anvil::at(anvil_binary()).args(["--accounts", &spec.accounts.max(2).to_string()]);
        if let Some(secs) = spec.block_time {
            anvil = anvil.block_time(secs);
        }
        let anvil = anvil.try_spawn().map_err(|e| TestChainError::Anvil {
            binary: anvil_binary().display().to_string(),
            why: e.to_string(),
        })?;
        let operator: PrivateKeySigner = anvil.keys()[0].clone().into();
        let url = anvil.endpoint();
        let provider = signing_provider(operator.clone(), &url).map_err(TestChainError::Rpc)?;
        let last = anvil.keys().len() - 1;
        let faucet = signing_provider(anvil.keys()[last].clone().into(), &url)
            .map_err(TestChainError::Rpc)?;
        let mut params = spec.params;
        params.owner = operator.address();
        params.relayer = operator.address();
        if params.treasury.is_zero() {
            params.treasury = operator.address();
        }
        let (token, coordinator) = deploy_devnet(provider.clone(), &params).await?;
        let chain = TestChain {
            anvil,
            operator,
            provider,
            token,
            coordinator,
            params,
            faucet,
        };
        chain
            .mint(chain.operator.address(), spec.operator_tokens)
            .await?;
        Ok(chain)
    }

    /// The node's HTTP endpoint.
    pub fn url(&self) -> String {
        self.anvil.endpoint()
    }

    /// The key of account `index`.
    pub fn key(&self, index: usize) -> PrivateKeySigner {
        self.anvil.keys()[index].clone().into()
    }

    /// The address of account `index`.
    pub fn address(&self, index: usize) -> Address {
        self.key(index).address()
    }

    /// The private key of account `index` as 0x-hex, as a user passes it on a command line.
    pub fn key_hex(&self, index: usize) -> String {
        format!(
            "0x{}",
            alloy::hex::encode(self.anvil.keys()[index].to_bytes())
        )
    }

    /// A provider signing as account `index`.
    pub fn provider_for(&self, index: usize) -> DynProvider {
        signing_provider(self.key(index), &self.url()).expect("anvil's URL parses")
    }

    /// The Coordinator, called as the operator.
    pub fn coord(&self) -> Coordinator::CoordinatorInstance<DynProvider> {
        Coordinator::new(self.coordinator, self.provider.clone())
    }

    /// The Coordinator, called as account `index`.
    pub fn coord_as(&self, index: usize) -> Coordinator::CoordinatorInstance<DynProvider> {
        Coordinator::new(self.coordinator, self.provider_for(index))
    }

    /// Mints `amount` token base units to `to` from the faucet.
    pub async fn mint(&self, to: Address, amount: U256) -> Result<(), TestChainError> {
        confirm(TestToken::new(self.token, self.faucet.clone()).mint(to, amount)).await?;
        Ok(())
    }

    /// Mints `amount` to account `index`, approves the Coordinator and stakes it all.
    pub async fn stake(&self, index: usize, amount: U256) -> Result<(), TestChainError> {
        self.mint(self.address(index), amount).await?;
        let p = self.provider_for(index);
        confirm(TestToken::new(self.token, p.clone()).approve(self.coordinator, U256::MAX)).await?;
        confirm(Coordinator::new(self.coordinator, p).stake(amount)).await?;
        Ok(())
    }

    /// Replaces the last `depth` blocks with empty ones: their transactions are gone, as a
    /// chain reorganization that does not include them again leaves them.
    pub async fn reorg(&self, depth: u64) -> Result<(), TestChainError> {
        self.provider
            .anvil_reorg(alloy::rpc::types::anvil::ReorgOptions {
                depth,
                tx_block_pairs: vec![],
            })
            .await
            .map_err(|e| TestChainError::Rpc(e.to_string()))
    }

    /// Moves chain time forward by `secs` and mines a block.
    pub async fn advance(&self, secs: u64) -> Result<(), TestChainError> {
        let rpc = |e: alloy::transports::TransportError| TestChainError::Rpc(e.to_string());
        self.provider.anvil_increase_time(secs).await.map_err(rpc)?;
        self.provider.anvil_mine(Some(1), None).await.map_err(rpc)?;
        Ok(())
    }

    /// The state of lease `request_id`.
    pub async fn lease_state(&self, request_id: u64) -> Result<LeaseState, TestChainError> {
        let info = self
            .coord()
            .leaseInfo(request_id)
            .call()
            .await
            .map_err(|e| TestChainError::Rpc(crate::describe(&e)))?;
        LeaseState::try_from(info.state).map_err(|e| TestChainError::Rpc(e.to_string()))
    }

    /// The status of job `job_id`.
    pub async fn job_status(&self, job_id: u64) -> Result<JobStatus, TestChainError> {
        let id = alloy::primitives::aliases::U40::from(job_id);
        let job = self
            .coord()
            .job(id)
            .call()
            .await
            .map_err(|e| TestChainError::Rpc(crate::describe(&e)))?;
        JobStatus::try_from(job.status).map_err(|e| TestChainError::Rpc(e.to_string()))
    }

    /// The Coordinator's accounting identity: its token balance equals every bond, unbonding
    /// amount and earning of `provers` plus the unspent escrow and the slashes it owes.
    /// Returns (held, accounted).
    pub async fn books(&self, provers: &[Address]) -> Result<(U256, U256), TestChainError> {
        let rpc = |e: alloy::contract::Error| TestChainError::Rpc(crate::describe(&e));
        let coord = self.coord();
        let held = TestToken::new(self.token, self.provider.clone())
            .balanceOf(self.coordinator)
            .call()
            .await
            .map_err(rpc)?;
        let mut sum = U256::from(coord.totalEscrow().call().await.map_err(rpc)?)
            + coord.slashedOwed().call().await.map_err(rpc)?;
        for p in provers {
            let i = coord.prover(*p).call().await.map_err(rpc)?;
            sum += i.bond + i.unbonding + i.earnings;
        }
        Ok((held, sum))
    }
}
