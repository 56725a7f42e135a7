//! Sending transactions as the prover or the relayer: its own nonce management (a failed
//! estimate never burns a nonce; numbers are handed out under a lock and receipts awaited
//! outside it, so transactions pipeline), a bounded wait for each receipt, fee bumping and replacement
//! of a transaction stuck in the mempool (or dropped from it), and revert reasons in words.

use std::collections::BTreeSet;
use std::time::Duration;

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
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

/// The sender's numbering: the next nonce to hand out (None: ask the node) and the numbers of
/// transactions sent and not yet settled, so that a gap is filled only where no transaction of
/// this sender is on its way.
#[derive(Default)]
struct Nonces {
    next: Option<u64>,
    in_flight: BTreeSet<u64>,
}

/// Sends an account's transactions, numbering them itself: numbers are handed out under a lock
/// and receipts awaited outside it, so several transactions (a lease beside a submission) go
/// out in one block.
pub struct TxSender {
    provider: DynProvider,
    from: Address,
    nonces: Mutex<Nonces>,
    stuck_after: Duration,
}

impl TxSender {
    /// A sender for `from` through `provider` (which must sign as `from`), bumping fees when a
    /// transaction is not mined within `stuck_after`.
    pub fn new(provider: DynProvider, from: Address, stuck_after: Duration) -> TxSender {
        TxSender {
            provider,
            from,
            nonces: Mutex::new(Nonces::default()),
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
        let request = call
            .into_transaction_request()
            .with_gas_limit(gas + gas / 5);
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| TxError::Rpc(e.to_string()))?;
        let mut nonce = self.allocate().await?;
        let outcome = self
            .drive(
                what,
                request,
                fees.max_fee_per_gas,
                fees.max_priority_fee_per_gas,
                &mut nonce,
            )
            .await;
        let mut n = self.nonces.lock().await;
        n.in_flight.remove(&nonce);
        if outcome.is_err() {
            // The number may be a hole now: the next transaction asks the node, which hands out
            // the first unused one.
            n.next = None;
        }
        outcome
    }

    // Hands out the next number and marks it in flight.
    async fn allocate(&self) -> Result<u64, TxError> {
        let mut n = self.nonces.lock().await;
        let mut nonce = match n.next {
            Some(x) => x,
            None => self.pending_nonce().await?,
        };
        // The node's count stops at a hole; numbers above it may still be ours in flight.
        while n.in_flight.contains(&nonce) {
            nonce += 1;
        }
        n.next = Some(nonce + 1);
        n.in_flight.insert(nonce);
        Ok(nonce)
    }

    // Sends `request` as `nonce` until it is mined, replacing it with higher fees while it is
    // stuck and renumbering it when its number was taken or sits behind a gap. The lock is
    // held only to renumber.
    async fn drive(
        &self,
        what: &str,
        request: TransactionRequest,
        mut max_fee: u128,
        mut tip: u128,
        nonce: &mut u64,
    ) -> Result<TransactionReceipt, TxError> {
        let mut sent: Vec<B256> = Vec::new();
        for attempt in 0..8u32 {
            let tx = request
                .clone()
                .with_nonce(*nonce)
                .with_max_fee_per_gas(max_fee)
                .with_max_priority_fee_per_gas(tip);
            match self.provider.send_transaction(tx).await {
                Ok(pending) => {
                    sent.push(*pending.tx_hash());
                    match tokio::time::timeout(self.stuck_after, pending.get_receipt()).await {
                        Ok(Ok(receipt)) => return finish(what, receipt),
                        Ok(Err(e)) => {
                            tracing::warn!(what, error = %e, "waiting for a receipt failed")
                        }
                        Err(_) => {
                            if self.fill_gap(what, *nonce, max_fee, tip).await {
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
                                return finish(what, receipt);
                            }
                        }
                        if msg.contains("nonce too low") {
                            self.renumber_used(what, nonce).await?;
                            continue;
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
        Err(TxError::Rpc(format!("{what}: not mined after 8 tries")))
    }

    // A stuck transaction may wait behind a gap: below its number the chain lost transactions
    // (a reorg dropped them) that no send of ours is still driving, and no fee helps. The gap
    // is filled with empty transfers to ourselves (not by renumbering ours: its copy already
    // sent would then run too once the gap closed); true if it was.
    async fn fill_gap(&self, what: &str, nonce: u64, max_fee: u128, tip: u128) -> bool {
        let Ok(chain) = self.provider.get_transaction_count(self.from).await else {
            return false;
        };
        let missing: Vec<u64> = {
            let mut n = self.nonces.lock().await;
            let missing: Vec<u64> = (chain..nonce)
                .filter(|x| !n.in_flight.contains(x))
                .collect();
            if missing.len() as u64 != nonce.saturating_sub(chain) {
                // Some of the numbers below are still being driven by sends of ours.
                return false;
            }
            n.in_flight.extend(&missing);
            missing
        };
        tracing::warn!(
            what,
            ours = nonce,
            chain,
            "nonce gap (earlier transactions were dropped); filling it"
        );
        for x in &missing {
            let filler = TransactionRequest::default()
                .with_to(self.from)
                .with_nonce(*x)
                .with_gas_limit(21_000)
                .with_max_fee_per_gas(max_fee)
                .with_max_priority_fee_per_gas(tip);
            if let Err(e) = self.provider.send_transaction(filler).await {
                tracing::warn!(what, nonce = x, error = %e, "could not fill the gap");
            }
        }
        let mut n = self.nonces.lock().await;
        for x in &missing {
            n.in_flight.remove(x);
        }
        true
    }

    // Another sender for this account used the number (the relayer's `cancel` beside its
    // service, a second client with the same key): take the chain's next one.
    async fn renumber_used(&self, what: &str, nonce: &mut u64) -> Result<(), TxError> {
        let chain = self.pending_nonce().await?;
        let mut n = self.nonces.lock().await;
        if chain <= *nonce {
            n.next = None;
            return Err(TxError::Rpc(format!(
                "{what}: nonce out of sync; resynchronized, retry"
            )));
        }
        let mut fresh = chain.max(n.next.unwrap_or(chain));
        while n.in_flight.contains(&fresh) {
            fresh += 1;
        }
        tracing::warn!(
            what,
            ours = *nonce,
            chain = fresh,
            "nonce used elsewhere; renumbering"
        );
        n.in_flight.remove(nonce);
        n.in_flight.insert(fresh);
        n.next = Some(fresh + 1);
        *nonce = fresh;
        Ok(())
    }

    /// Forgets the next number, so that the next transaction asks the node: for when a reorg
    /// dropped transactions this sender already counted.
    pub async fn resync(&self) {
        self.nonces.lock().await.next = None;
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
