//! The transaction sender (the client's and the relayer's) against anvil with mining paused: a
//! stuck transaction gets its fee bumped and is replaced, and a failed estimate never burns a
//! nonce.

use std::time::Duration;

use alloy::node_bindings::Anvil;
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use alloy::signers::local::PrivateKeySigner;

use crowdprove_bindings::test_utils::{ChainSpec, TestChain};
use crowdprove_bindings::tx::{TxError, TxSender};
use crowdprove_bindings::{
    Coordinator, TestToken, anvil_binary, signing_provider, wallet_provider,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_transaction_is_replaced_with_a_higher_fee() {
    let anvil = Anvil::at(anvil_binary()).spawn();
    let key: PrivateKeySigner = anvil.keys()[1].clone().into();
    let admin = signing_provider(anvil.keys()[0].clone().into(), &anvil.endpoint()).unwrap();
    let token = *TestToken::deploy(admin.clone()).await.unwrap().address();
    let provider = wallet_provider(key.clone(), &anvil.endpoint()).unwrap();
    let sender = std::sync::Arc::new(TxSender::new(
        provider.clone(),
        key.address(),
        Duration::from_millis(700),
    ));
    let t = TestToken::new(token, provider.clone());

    admin.anvil_set_auto_mine(false).await.unwrap();
    let s = sender.clone();
    let call = t.mint(key.address(), U256::from(5));
    let request = call.calldata().clone();
    let first_fee = provider
        .estimate_eip1559_fees()
        .await
        .unwrap()
        .max_fee_per_gas;
    let task = tokio::spawn(async move {
        let t = TestToken::new(token, provider.clone());
        s.send("mint", t.mint(key.address(), U256::from(5))).await
    });
    tokio::time::sleep(Duration::from_millis(2_000)).await; // past two bumps
    admin.anvil_mine(Some(1), None).await.unwrap();
    let receipt = tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let mined = admin
        .get_transaction_by_hash(receipt.transaction_hash)
        .await
        .unwrap()
        .unwrap();
    use alloy::consensus::Transaction;
    assert!(
        mined.max_fee_per_gas() > first_fee,
        "the mined copy carries a bumped fee: {} > {first_fee}",
        mined.max_fee_per_gas()
    );
    assert_eq!(mined.input(), &request, "the same call");
    let balance = TestToken::new(token, admin.clone())
        .balanceOf(anvil.addresses()[1])
        .call()
        .await
        .unwrap();
    assert_eq!(balance, U256::from(5), "minted once");
}

/// Anvil, a test token, and a sender for account 1 (which holds no tokens) with the token bound
/// to that account's provider.
async fn token_and_sender() -> (
    alloy::node_bindings::AnvilInstance,
    PrivateKeySigner,
    TxSender,
    TestToken::TestTokenInstance<alloy::providers::DynProvider>,
) {
    let anvil = Anvil::at(anvil_binary()).spawn();
    let key: PrivateKeySigner = anvil.keys()[1].clone().into();
    let admin = signing_provider(anvil.keys()[0].clone().into(), &anvil.endpoint()).unwrap();
    let token = TestToken::deploy(admin).await.unwrap();
    let provider = wallet_provider(key.clone(), &anvil.endpoint()).unwrap();
    let sender = TxSender::new(provider.clone(), key.address(), Duration::from_secs(30));
    let t = TestToken::new(*token.address(), provider);
    (anvil, key, sender, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reverted_estimate_does_not_burn_a_nonce() {
    let (anvil, key, sender, t) = token_and_sender().await;
    let provider = t.provider();
    // A transfer of tokens it does not have reverts at estimation...
    let err = sender
        .send("transfer", t.transfer(anvil.addresses()[0], U256::from(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, TxError::Reverted(_)), "{err}");
    // ...and the next transaction still gets mined (no nonce gap).
    sender
        .send("mint", t.mint(key.address(), U256::from(1)))
        .await
        .unwrap();
    assert_eq!(
        provider.get_transaction_count(key.address()).await.unwrap(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_another_sender_used_is_skipped_and_the_call_goes_through() {
    let (anvil, key, sender, t) = token_and_sender().await;
    sender
        .send("mint", t.mint(key.address(), U256::from(1)))
        .await
        .unwrap();
    // The same key sends from elsewhere (the relayer's `cancel` beside its service): the
    // number the sender holds for its next transaction is taken.
    let other = signing_provider(key.clone(), &anvil.endpoint()).unwrap();
    TestToken::new(*t.address(), other)
        .mint(key.address(), U256::from(2))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    sender
        .send("mint", t.mint(key.address(), U256::from(4)))
        .await
        .expect("renumbered and sent, not an error to retry");
    assert_eq!(
        t.balanceOf(key.address()).call().await.unwrap(),
        U256::from(7)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_revert_is_decoded_into_its_error() {
    let chain = TestChain::start(ChainSpec::default()).await.unwrap();
    chain.stake(1, U256::from(10)).await.unwrap();
    let key = chain.key(1);
    let provider = wallet_provider(key.clone(), &chain.url()).unwrap();
    let sender = TxSender::new(provider.clone(), key.address(), Duration::from_secs(30));
    let coord = Coordinator::new(chain.coordinator, provider.clone());
    let err = sender.send("lease", coord.lease()).await.unwrap_err();
    assert!(
        matches!(
            err,
            TxError::Refused {
                error: Coordinator::CoordinatorErrors::NoJobAvailable(_),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.to_string(), "lease: NoJobAvailable(NoJobAvailable)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_sent_together_go_out_together() {
    let (anvil, key, sender, t) = token_and_sender().await;
    let sender = std::sync::Arc::new(sender);
    let admin = signing_provider(anvil.keys()[0].clone().into(), &anvil.endpoint()).unwrap();
    admin.anvil_set_auto_mine(false).await.unwrap();
    let tasks: Vec<_> = (1..=3u64)
        .map(|i| {
            let (s, t) = (sender.clone(), t.clone());
            let to = key.address();
            tokio::spawn(async move { s.send("mint", t.mint(to, U256::from(i))).await })
        })
        .collect();
    // Every one is in the mempool before any is mined: none waits for another's receipt.
    let provider = t.provider().clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while provider
        .get_transaction_count(key.address())
        .pending()
        .await
        .unwrap()
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "three transactions in the mempool at once"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    admin.anvil_mine(Some(1), None).await.unwrap();
    let mut blocks = Vec::new();
    for task in tasks {
        let receipt = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        blocks.push(receipt.block_number.unwrap());
    }
    assert!(
        blocks.iter().all(|&b| b == blocks[0]),
        "one block: {blocks:?}"
    );
    assert_eq!(
        t.balanceOf(key.address()).call().await.unwrap(),
        U256::from(6)
    );
    // The sender's numbering continues after them.
    admin.anvil_set_auto_mine(true).await.unwrap();
    sender
        .send("mint", t.mint(key.address(), U256::from(1)))
        .await
        .unwrap();
    assert_eq!(
        provider.get_transaction_count(key.address()).await.unwrap(),
        4
    );
}
