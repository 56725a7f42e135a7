//! Sending transactions as the prover or the relayer: its own nonce management (a failed
//! estimate never burns a nonce), a bounded wait for each receipt, fee bumping and replacement
//! of a transaction stuck in the mempool (or dropped from it), and revert reasons in words.

use std::time::Duration;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use tokio::sync::Mutex;

use crate::{Coordinator, decode_revert, describe};

/// Why a transaction did not land.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The Coordinator refuses the call with one of its custom errors, decoded once here so
    /// that callers match on the error, not on its text.
    #[error("{what}: {error:?}")]
    Refused {
        /// The call.
        what: String,
        /// The Coordinator's error.
        error: Coordinator::CoordinatorErrors,
    },
    /// The call reverted without a Coordinator error, or its mined transaction reverted.
    #[error("{0}")]
    Reverted(String),
    /// The RPC failed repeatedly.
    #[error("RPC: {0}")]
    Rpc(String),
}

/// Sends the prover's transactions one at a time, numbering them itself.
pub struct TxSender {
    provider: DynProvider,
    from: Address,
    nonce: Mutex<Option<u64>>,
    stuck_after: Duration,
}

impl TxSender {
    /// A sender for `from` through `provider` (which must sign as `from`), bumping fees when a
    /// transaction is not mined within `stuck_after`.
    pub fn new(provider: DynProvider, from: Address, stuck_after: Duration) -> TxSender {
        TxSender {
            provider,
            from,
            nonce: Mutex::new(None),
            stuck_after,
        }
    }

    /// The account.
    pub fn from(&self) -> Address {
        self.from
    }

    /// Estimates, numbers, signs and sends the call, waits for its receipt, and bumps its fees
    /// by 1/8 (above the 10% replacement minimum) each time it waits longer than `stuck_after`.
    pub async fn send<D: CallDecoder>(
        &self,
        what: &str,
        call: CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, TxError> {
        self.send_padded(what, call, 0).await
    }

    /// [`TxSender::send`] with `extra` gas above the estimate, for a call whose path can grow
    /// between the estimate and its execution (`submitAndLease` estimated when no job was left
    /// and mined after one was readied: a lease's worth more).
    pub async fn send_padded<D: CallDecoder>(
        &self,
        what: &str,
        call: CallBuilder<&DynProvider, D>,
        extra: u64,
    ) -> Result<TransactionReceipt, TxError> {
        let call = call.from(self.from);
        let gas = call.estimate_gas().await.map_err(|e| classify(what, &e))? + extra;
        let request = call.into_transaction_request();
        let mut guard = self.nonce.lock().await;
        let mut nonce = match *guard {
            Some(n) => n,
            None => self.pending_nonce().await?,
        };
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| TxError::Rpc(e.to_string()))?;
        let (mut max_fee, mut tip) = (fees.max_fee_per_gas, fees.max_priority_fee_per_gas);
        let mut sent: Vec<B256> = Vec::new();
        for attempt in 0..8u32 {
            let tx = request
                .clone()
                .with_nonce(nonce)
                .with_gas_limit(gas + gas / 5)
                .with_max_fee_per_gas(max_fee)
                .with_max_priority_fee_per_gas(tip);
            match self.provider.send_transaction(tx).await {
                Ok(pending) => {
                    sent.push(*pending.tx_hash());
                    match tokio::time::timeout(self.stuck_after, pending.get_receipt()).await {
                        Ok(Ok(receipt)) => {
                            *guard = Some(nonce + 1);
                            return finish(what, receipt);
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(what, error = %e, "waiting for a receipt failed")
                        }
                        Err(_) => {
                            // Below our number the chain may have lost transactions (a reorg
                            // dropped them): then ours waits behind a gap, and no fee helps.
                            let chain = self.provider.get_transaction_count(self.from).await.ok();
                            if chain.is_some_and(|c| c < nonce) {
                                let c = chain.unwrap_or(nonce);
                                tracing::warn!(
                                    what,
                                    ours = nonce,
                                    chain = c,
                                    "nonce gap (earlier transactions were dropped); renumbering"
                                );
                                nonce = c;
                                continue;
                            }
                            tracing::warn!(
                                what,
                                attempt,
                                "transaction stuck in the mempool; bumping its fee"
                            )
                        }
                    }
                }
                Err(e) => {
                    let msg = e.to_string().to_lowercase();
                    if msg.contains("nonce too low") || msg.contains("already known") {
                        // An earlier copy may have been mined meanwhile.
                        for h in &sent {
                            if let Ok(Some(receipt)) =
                                self.provider.get_transaction_receipt(*h).await
                            {
                                *guard = Some(nonce + 1);
                                return finish(what, receipt);
                            }
                        }
                        if msg.contains("nonce too low") {
                            // Another sender for this account used the number (the relayer's
                            // `cancel` beside its service, a second client with the same key):
                            // take the chain's next one.
                            match self.pending_nonce().await {
                                Ok(n) if n > nonce => {
                                    tracing::warn!(
                                        what,
                                        ours = nonce,
                                        chain = n,
                                        "nonce used elsewhere; renumbering"
                                    );
                                    nonce = n;
                                    continue;
                                }
                                _ => {
                                    *guard = None;
                                    return Err(TxError::Rpc(format!(
                                        "{what}: nonce out of sync; resynchronized, retry"
                                    )));
                                }
                            }
                        }
                    } else {
                        tracing::warn!(what, error = %e, "sending failed; retrying");
                        tokio::time::sleep(Duration::from_millis(250 << attempt.min(5))).await;
                    }
                }
            }
            max_fee += max_fee / 8 + 1;
            tip += tip / 8 + 1;
        }
        *guard = None;
        Err(TxError::Rpc(format!("{what}: not mined after 8 tries")))
    }

    /// Forgets the cached nonce, so that the next transaction asks the node: for when a reorg
    /// dropped transactions this sender already counted.
    pub async fn resync(&self) {
        *self.nonce.lock().await = None;
    }

    async fn pending_nonce(&self) -> Result<u64, TxError> {
        self.provider
            .get_transaction_count(self.from)
            .pending()
            .await
            .map_err(|e| TxError::Rpc(e.to_string()))
    }
}

fn finish(what: &str, receipt: TransactionReceipt) -> Result<TransactionReceipt, TxError> {
    if receipt.status() {
        Ok(receipt)
    } else {
        Err(TxError::Reverted(format!(
            "{what} reverted in block {:?}",
            receipt.block_number
        )))
    }
}

fn classify(what: &str, e: &alloy::contract::Error) -> TxError {
    if let Some(error) = decode_revert(e) {
        return TxError::Refused {
            what: what.to_string(),
            error,
        };
    }
    let text = describe(e);
    if e.as_revert_data().is_some() || text.contains("revert") {
        TxError::Reverted(format!("{what}: {text}"))
    } else {
        TxError::Rpc(format!("{what}: {text}"))
    }
}
