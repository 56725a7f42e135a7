//! The relayer against a real anvil and Coordinator: batches reach a final proof, valid proofs
//! are paid once, wrong proofs are slashed, missing uploads get a Missing verdict, restarts
//! (with and without the database) lose and double nothing, and bad HTTP requests get 4xx.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, U256, keccak256};
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;

use common::*;
use crowdprove_bindings::Coordinator;
use crowdprove_bindings::test_utils::confirm;
use crowdprove_circuits::{JobWitness, Sequencer};
use crowdprove_protocol::{FinalProof, JobStatus, LeaseState, Manifest, RequestId, Statement};
use crowdprove_relayer::RelayerHandle;
use crowdprove_relayer::config::SinkSpec;

async fn batch_finalized(net: &Net, batch_id: u32) -> bool {
    !net.coord()
        .batch(batch_id)
        .call()
        .await
        .unwrap()
        .finalProofHash
        .is_zero()
}

/// Runs provers in turn until `batch_id` is finalized.
async fn prove_until_final(net: &Net, provers: &[&TestProver], batch_id: u32) -> Vec<u64> {
    let mut proved = Vec::new();
    let mut idle = 0;
    let mut turn = 0;
    while !batch_finalized(net, batch_id).await {
        let p = provers[turn % provers.len()];
        turn += 1;
        match p.step().await {
            Step::Proved(job) => {
                proved.push(job);
                idle = 0;
            }
            Step::Dropped => {}
            Step::NoJob => {
                idle += 1;
                assert!(idle < 600, "no job appeared for a long time");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    proved
}

/// The relayer's `/v1/status` JSON.
async fn status(base: &str) -> serde_json::Value {
    reqwest::get(format!("{base}/v1/status"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The relayer's `/metrics` text, from its admin address.
async fn scrape(relayer: &RelayerHandle) -> String {
    reqwest::get(format!("http://{}/metrics", relayer.admin_addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn verdict_events(net: &Net) -> Vec<Coordinator::VerdictRecorded> {
    let filter = Filter::new()
        .address(net.chain.coordinator)
        .from_block(0)
        .event_signature(Coordinator::VerdictRecorded::SIGNATURE_HASH);
    net.chain
        .provider
        .get_logs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|l| {
            Coordinator::VerdictRecorded::decode_log(&l.inner)
                .unwrap()
                .data
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_batch_reaches_one_final_proof_and_every_job_is_paid_once() {
    let mut net = Net::new(3, 1).await;
    net.cfg.store.retention_secs = 0;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let a = net.prover(1, 2, &base).await;
    let b = net.prover(2, 2, &base).await;
    let proved = prove_until_final(&net, &[&a, &b], 1).await;
    assert!(
        proved.len() >= 6,
        "3 chunks + 2 + 1 aggregation jobs (LRP may duplicate some)"
    );

    // The final proof is on chain, in the sink, and its outer roots are the sequencer's.
    let expected = Sequencer::new(SET, 5).next_batch(3);
    let final_hash = net.coord().batch(1).call().await.unwrap().finalProofHash;
    eventually("delivery", 20, async || {
        FinalProof::read(&final_dir(&net), 1).unwrap().is_some()
    })
    .await;
    let record = FinalProof::read(&final_dir(&net), 1).unwrap().unwrap();
    let bytes = std::fs::read(FinalProof::proof_path(&final_dir(&net), 1)).unwrap();
    assert_eq!(keccak256(&bytes), final_hash);
    assert_eq!(record.proof_hash, final_hash.0);
    let stated = Statement::from(record.statement);
    assert_eq!(
        (stated.pre_root, stated.post_root),
        (expected.pre_root, expected.post_root)
    );
    let top = crowdprove_circuits::Circuits::shared(SET)
        .public_inputs(&bytes, 2)
        .unwrap();
    assert_eq!((top.statement.range_start, top.statement.range_end), (0, 3));

    // Every job paid exactly once: 6 completing verdicts, earnings = 6 rewards, escrow spent.
    let verdicts = verdict_events(&net).await;
    let completed: Vec<u64> = verdicts
        .iter()
        .filter(|v| v.completed)
        .map(|v| v.requestId >> 24)
        .collect();
    let mut unique = completed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((completed.len(), unique.len()), (6, 6));
    let earned: U256 = [a.address, b.address]
        .iter()
        .map(|p| async { net.coord().prover(*p).call().await.unwrap().earnings })
        .collect::<futures::future::JoinAll<_>>()
        .await
        .into_iter()
        .sum();
    assert_eq!(earned, U256::from(6 * REWARD));
    assert!(net.coord().totalEscrow().call().await.unwrap().is_zero());
    net.books_balance(&[a.address, b.address]).await;

    // The operator's view: a snapshot the work loop refreshes every 2 s.
    eventually("the status snapshot caught up", 10, async || {
        let st = status(&base).await;
        st["counts"]["jobs_complete"] == 6
            && st["batches"][0]["final_proof"] == format!("{final_hash}")
            && scrape(&relayer)
                .await
                .contains("crowdprove_relayer_escrow_wei 0")
    })
    .await;
    // What the status page draws: the tree level by level, earnings, latencies, proof links.
    let st = status(&base).await;
    let levels: Vec<(u64, u64, u64)> = st["batches"][0]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let n = |k: &str| l[k].as_u64().unwrap();
            (n("level"), n("jobs"), n("complete"))
        })
        .collect();
    assert_eq!(levels, [(0, 3, 3), (1, 2, 2), (2, 1, 1)]);
    assert_eq!(st["batches"][0]["complete"], 6);
    let earnings: u64 = st["provers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["earnings"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        earnings,
        6 * REWARD,
        "the rewards of the completing verdicts"
    );
    let total = |k: &str| -> u64 {
        st["latency"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum()
    };
    // One per submission and per judged one (the snapshot may lag a late duplicate's verdict).
    assert!(total("lease_to_submission") >= 6 && total("submission_to_verdict") >= 6);
    let link = st["recent_verdicts"][0]["proof"].as_str().unwrap();
    assert!(
        reqwest::get(format!("{base}/{link}"))
            .await
            .unwrap()
            .status()
            .is_success(),
        "{link}"
    );
    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert!(page.status().is_success());
    assert!(page.text().await.unwrap().contains("CrowdProve"));
    let metrics = scrape(&relayer).await;
    assert!(
        metrics.contains("crowdprove_relayer_proofs_valid_total 6"),
        "{metrics}"
    );
    assert!(metrics.contains("crowdprove_relayer_token_allowance_wei"));
    let final_download = reqwest::get(format!("{base}/v1/proofs/{final_hash}"))
        .await
        .unwrap();
    assert_eq!(
        final_download.bytes().await.unwrap().as_ref(),
        &bytes[..],
        "the final proof is downloadable"
    );

    // With no retention, the batch's witnesses are pruned once it is delivered; the final proof
    // stays.
    eventually("pruning", 20, async || {
        reqwest::get(format!("{base}/v1/jobs/1/witness"))
            .await
            .unwrap()
            .status()
            == reqwest::StatusCode::GONE
    })
    .await;
    let again = reqwest::get(format!("{base}/v1/proofs/{final_hash}"))
        .await
        .unwrap();
    assert!(
        again.status().is_success(),
        "the final proof survives pruning"
    );
    // Restarted, the relayer meets its source's first batch again: posted already, so its
    // pruned witnesses are not stored again.
    relayer.shutdown().await;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let witnesses = std::path::Path::new(&net.cfg.store.blobs).join("witness");
    eventually("the restarted relayer following again", 30, async || {
        let s = status(&base).await;
        s["counts"]["batches"] == 1
    })
    .await;
    let left = std::fs::read_dir(&witnesses).map_or(0, |d| d.count());
    assert_eq!(left, 0, "pruned witnesses stored again");
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_of_a_submission_a_reorg_dropped_are_pruned_with_their_batch() {
    let mut net = Net::new(1, 1).await;
    net.cfg.store.retention_secs = 0;
    // Verdicts wait 5 s, so the reorg below comes before the first one is posted.
    net.cfg.verdicts.urgent_verdicts = false;
    net.cfg.verdicts.verdict_max_age_ms = 5_000;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let a = net.prover(1, 1, &base).await;
    let b = net.prover(2, 1, &base).await;
    let (rid, job) = a.lease_wait().await;
    let (info, witness) = a.fetch(job).await;
    let proof = a.prove(&info, &witness, job).await;
    a.submit(rid, proof.hash()).await;
    assert!(a.upload(rid, proof.as_bytes()).await.is_success());
    let orphan = blob_path(&net, "proof", proof.hash());
    assert!(orphan.exists());
    // The block with the submission is replaced: its bytes now belong to no submission.
    net.chain.reorg(1).await.unwrap();
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Leased
    );
    prove_until_final(&net, &[&b], 1).await;
    eventually(
        "the batch pruned, the dropped submission's bytes too",
        30,
        async || !orphan.exists(),
    )
    .await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_proofs_are_slashed_and_wrong_bytes_refused() {
    let (net, relayer, base) = Net::running(1, 1).await;
    // Chain time an hour ahead of this machine's clock, as a devnet's can run: the upload's
    // recorded time must be the chain's, by which deadlines go.
    net.chain.advance(3600).await.unwrap();
    // Followed up to `confirmations` below it: the run that did read the warped head.
    let head = net.chain.provider.get_block_number().await.unwrap()
        - net.cfg.follow.confirmations.unwrap_or(0);
    eventually("the relayer following the warped block", 20, async || {
        scrape(&relayer)
            .await
            .lines()
            .filter_map(|l| l.strip_prefix("crowdprove_relayer_followed_block "))
            .any(|n| n.trim().parse::<u64>().is_ok_and(|n| n >= head))
    })
    .await;
    let cheat = net.prover(1, 1, &base).await;
    let honest = net.prover(2, 1, &base).await;

    let (rid, job) = cheat.lease_wait().await;
    let (info, witness) = cheat.fetch(job).await;
    // An honest-looking proof, but for another job id: it does not verify for this lease.
    let wrong = cheat.prove(&info, &witness, job + 1).await;
    assert_eq!(
        cheat.upload(rid, wrong.as_bytes()).await,
        reqwest::StatusCode::CONFLICT,
        "nothing on chain yet"
    );
    cheat.submit(rid, wrong.hash()).await;
    let mut other = wrong.as_bytes().to_vec();
    other[100] ^= 1;
    assert_eq!(
        cheat.upload(rid, &other).await,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        "bytes must match the hash"
    );
    assert_eq!(
        cheat
            .upload(RequestId::new(9_999, 1).0, wrong.as_bytes())
            .await,
        reqwest::StatusCode::NOT_FOUND
    );
    assert!(cheat.upload(rid, wrong.as_bytes()).await.is_success());
    // When the bytes came, public for anyone holding a Missing verdict against them: in chain
    // time, by which the relayer holds uploads to their deadline.
    let upload: serde_json::Value = reqwest::get(format!(
        "{base}/v1/uploads/{}",
        crowdprove_protocol::hex0x(&wrong.hash())
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(upload["job_id"], job);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(upload["uploaded_at"].as_u64().unwrap() > wall + 3000);
    let head = net
        .chain
        .provider
        .get_block(alloy::eips::BlockId::latest())
        .await
        .unwrap()
        .unwrap();
    assert!(upload["uploaded_at"].as_u64().unwrap() <= head.header.timestamp);
    assert!(upload["uploaded_at"].as_u64().unwrap() + 60 > head.header.timestamp);

    eventually("the invalid verdict", 30, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Invalid
    })
    .await;
    let info_c = net.coord().prover(cheat.address).call().await.unwrap();
    assert_eq!(info_c.bond, U256::from(BOND - SLASH), "slashed");
    assert_eq!(
        net.coord().slashedOwed().call().await.unwrap(),
        U256::from(SLASH)
    );
    assert_eq!(net.chain.job_status(job).await.unwrap(), JobStatus::Pending);

    // Another prover completes the job and is paid.
    prove_until_final(&net, &[&honest], 1).await;
    assert_eq!(
        net.coord()
            .prover(honest.address)
            .call()
            .await
            .unwrap()
            .earnings,
        U256::from(REWARD)
    );
    net.books_balance(&[cheat.address, honest.address]).await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_that_never_come_get_a_missing_verdict_and_no_slash() {
    let (net, relayer, base) = Net::running(1, 1).await;
    let silent = net.prover(1, 1, &base).await;
    let honest = net.prover(2, 1, &base).await;
    let (rid, _) = silent.lease_wait().await;
    silent.submit(rid, [7; 32]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Submitted,
        "not before the deadline"
    );
    net.advance(u64::from(UPLOAD_DEADLINE)).await;
    eventually("the missing verdict", 30, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Missing
    })
    .await;
    assert_eq!(
        net.coord()
            .prover(silent.address)
            .call()
            .await
            .unwrap()
            .bond,
        U256::from(BOND),
        "no slash"
    );
    prove_until_final(&net, &[&honest], 1).await;
    net.books_balance(&[silent.address, honest.address]).await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_made_while_the_relayer_was_down_gets_a_whole_upload_window_after() {
    let (net, relayer, base) = Net::running(1, 1).await;
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    // Down: the prover submits, cannot upload, and the deadline passes meanwhile.
    let addr = relayer.addr;
    relayer.shutdown().await;
    p.submit(rid, proof.hash()).await;
    net.advance(u64::from(UPLOAD_DEADLINE) + 5).await;
    let mut cfg = net.cfg.clone();
    cfg.http.listen = addr;
    let relayer = crowdprove_relayer::start(cfg).await.unwrap();
    eventually(
        "the submission seen by the restarted relayer",
        30,
        async || status(&base).await["counts"]["awaiting_upload"] == 1,
    )
    .await;
    // Judged now it would be Missing; the upload window counts from the restart instead.
    let st = p.upload(rid, proof.as_bytes()).await;
    assert!(st.is_success(), "the upload is taken, not Gone: {st}");
    eventually("the verdict", 30, async || {
        net.chain.lease_state(rid).await.unwrap() != LeaseState::Submitted
    })
    .await;
    assert_eq!(net.chain.lease_state(rid).await.unwrap(), LeaseState::Valid);
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_stored_while_their_submission_was_recorded_are_judged_not_missing() {
    let (net, relayer, base) = Net::running(1, 1).await;
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    let hash = proof.hash();
    p.submit(rid, hash).await;
    eventually("the submission recorded, its bytes not", 30, async || {
        let st = status(&base).await;
        st["counts"]["awaiting_upload"] == 1
    })
    .await;
    // The upload's race with the event's recording, as it lands: the bytes are in the store,
    // but the row was written after the upload marked rows uploaded, so it says no bytes.
    let dir = std::path::Path::new(&net.cfg.store.blobs).join("proof");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(hex::encode(hash)), proof.as_bytes()).unwrap();
    net.advance(u64::from(UPLOAD_DEADLINE)).await;
    eventually("a verdict", 30, async || {
        net.chain.lease_state(rid).await.unwrap() != LeaseState::Submitted
    })
    .await;
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Valid,
        "judged on the stored bytes, not Missing"
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_transaction_dropped_from_the_mempool_is_sent_again() {
    let mut net = Net::new(1, 1).await;
    net.cfg.follow.stuck_after_secs = 2;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    p.submit(rid, proof.hash()).await;
    // Mining paused, the verdict's transaction waits in the mempool; then the node drops it.
    let anvil = &net.chain.provider;
    let me = net.cfg.chain.signer().unwrap().address();
    anvil.anvil_set_auto_mine(false).await.unwrap();
    assert!(p.upload(rid, proof.as_bytes()).await.is_success());
    eventually("the verdict's transaction in the mempool", 30, async || {
        let pending = anvil.get_transaction_count(me).pending().await.unwrap();
        pending > anvil.get_transaction_count(me).await.unwrap()
    })
    .await;
    anvil.anvil_drop_all_transactions().await.unwrap();
    anvil.anvil_set_auto_mine(true).await.unwrap();
    eventually("the verdict, sent again", 60, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    relayer.shutdown().await;
}

// Where the relayer's blob store keeps a blob (a local directory in the tests).
fn blob_path(net: &Net, kind: &str, key: [u8; 32]) -> std::path::PathBuf {
    let dir = std::path::Path::new(&net.cfg.store.blobs).join(kind);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(hex::encode(key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_proof_bytes_in_the_store_are_not_judged_and_the_honest_prover_is_paid() {
    let (net, relayer, base) = Net::running(1, 1).await;
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    // Someone with access to the store puts other bytes under the proof's hash before the
    // submission is seen: the relayer takes the submission as uploaded...
    let path = blob_path(&net, "proof", proof.hash());
    std::fs::write(&path, b"not the committed proof").unwrap();
    p.submit(rid, proof.hash()).await;
    // ...reads the bytes, finds they are not the committed ones, and drops them unjudged.
    eventually("the altered blob dropped", 30, async || !path.exists()).await;
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Submitted,
        "no verdict on bytes the prover never committed to"
    );
    assert!(p.upload(rid, proof.as_bytes()).await.is_success());
    eventually("the verdict", 30, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    let bond = net.coord().prover(p.address).call().await.unwrap().bond;
    assert_eq!(bond, U256::from(BOND), "no slash");
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_witness_or_manifest_is_never_served() {
    let (net, mut relayer, base) = Net::running(1, 1).await;
    let p = net.prover(1, 1, &base).await;
    let (_, job) = p.lease_wait().await;
    let (info, _) = p.fetch(job).await;
    let http = reqwest::Client::new();
    let get = async |base: &str, path: String| {
        http.get(format!("{base}{path}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    std::fs::write(
        blob_path(&net, "witness", info.witness_hash),
        b"other bytes",
    )
    .unwrap();
    assert_eq!(
        get(&base, format!("/v1/jobs/{job}/witness")).await,
        503,
        "altered witness bytes are not served"
    );
    // A manifest that decodes but does not build the batch's on-chain root (another witness
    // under its first leaf), read by a relayer that lost its database.
    let root = net.coord().batch(1).call().await.unwrap().witnessRoot.0;
    let path = blob_path(&net, "manifest", root);
    let mut m = Manifest::decode(&std::fs::read(&path).unwrap()).unwrap();
    m.witnesses[0] = [9; 32];
    std::fs::write(&path, m.encode()).unwrap();
    relayer.shutdown().await;
    std::fs::remove_dir_all(net.cfg.store.db.parent().unwrap()).unwrap();
    relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    eventually("the batch followed again", 30, async || {
        let st = status(&base).await;
        st["counts"]["batches"] == 1
    })
    .await;
    assert_eq!(
        get(&base, format!("/v1/jobs/{job}")).await,
        404,
        "a job of a batch whose manifest does not build its root is not served"
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_with_and_without_the_database_lose_and_double_nothing() {
    let net = Net::new(4, 1).await;
    let a_key = 1;
    let mut relayer = net.start_relayer().await;
    let mut base = format!("http://{}", relayer.addr);
    let a = net.prover(a_key, 2, &base).await;
    for _ in 0..2 {
        a.prove_one().await;
    }
    eventually("two verdicts", 30, async || {
        verdict_events(&net).await.len() == 2
    })
    .await;

    // Killed mid-batch, restarted on the same database.
    relayer.shutdown().await;
    relayer = net.start_relayer().await;
    base = format!("http://{}", relayer.addr);
    let a = common::TestProver {
        base: base.clone(),
        ..a
    };
    assert!(matches!(a.step().await, Step::Proved(_)));
    eventually("three verdicts", 30, async || {
        verdict_events(&net).await.len() == 3
    })
    .await;

    // Killed again; this time the database is gone, the blobs stay.
    relayer.shutdown().await;
    std::fs::remove_dir_all(net.cfg.store.db.parent().unwrap()).unwrap();
    relayer = net.start_relayer().await;
    base = format!("http://{}", relayer.addr);
    let a = common::TestProver { base, ..a };
    let proved = prove_until_final(&net, &[&a], 1).await;
    assert!(
        proved.len() >= 4,
        "one chunk and three aggregations were left"
    );

    let verdicts = verdict_events(&net).await;
    let mut per_request: HashMap<u64, u32> = HashMap::new();
    for v in &verdicts {
        *per_request.entry(v.requestId).or_default() += 1;
    }
    assert!(
        per_request.values().all(|&n| n == 1),
        "no verdict posted twice: {per_request:?}"
    );
    assert_eq!(
        verdicts.iter().filter(|v| v.completed).count(),
        7,
        "4 + 2 + 1 jobs, each completed once"
    );
    assert_eq!(
        net.coord().prover(a.address).call().await.unwrap().earnings,
        U256::from(7 * REWARD)
    );
    net.books_balance(&[a.address]).await;
    relayer.shutdown().await;
}

// One prover proves the first leaf of a two-leaf batch: its Valid verdict must stay unposted
// (the relayer judged it; the next steps of its work loop would have posted it by now were it
// due); then the second leaf, which readies the top, and both verdicts land. Returns the
// relayer and the prover for what the caller checks next.
async fn first_leaf_waits_for_its_sibling(
    net: &Net,
    why: &str,
) -> (crowdprove_relayer::RelayerHandle, TestProver) {
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let a = net.prover(1, 2, &base).await;
    a.prove_one().await;
    eventually("the first leaf verified", 60, async || {
        scrape(&relayer)
            .await
            .contains("crowdprove_relayer_proofs_valid_total 1")
    })
    .await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(verdict_events(net).await.is_empty(), "{why}");
    }
    a.prove_one().await;
    eventually("both leaf verdicts", 60, async || {
        verdict_events(net).await.len() == 2
    })
    .await;
    (relayer, a)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_that_readies_a_node_goes_at_once_and_others_wait_for_the_batch() {
    // Verdicts wait for 32 of them or ten minutes, unless one is on the critical path.
    let mut net = Net::new(2, 1).await;
    net.cfg.verdicts.verdict_batch = 32;
    net.cfg.verdicts.verdict_max_age_ms = 600_000;
    let (relayer, a) = first_leaf_waits_for_its_sibling(&net, "posted before it was due").await;
    a.prove_one().await;
    eventually("the final proof", 60, async || {
        batch_finalized(&net, 1).await
    })
    .await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_childs_verdict_waits_past_its_age_to_ride_with_its_sibling() {
    // Verdicts are due 200 ms after they are decided, but a Valid one whose sibling is open
    // waits up to ten minutes for the sibling's verdict, which readies the parent: one
    // transaction for both.
    let mut net = Net::new(2, 1).await;
    net.cfg.verdicts.verdict_batch = 32;
    net.cfg.verdicts.verdict_max_age_ms = 200;
    net.cfg.verdicts.verdict_sibling_wait_ms = 600_000;
    let (relayer, _) =
        first_leaf_waits_for_its_sibling(&net, "posted alone once its age passed").await;
    let filter = Filter::new()
        .address(net.chain.coordinator)
        .from_block(0)
        .event_signature(Coordinator::VerdictRecorded::SIGNATURE_HASH);
    let logs = net.chain.provider.get_logs(&filter).await.unwrap();
    assert_eq!(
        logs[0].transaction_hash, logs[1].transaction_hash,
        "one transaction for both"
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_4xx_and_the_service_stays_up() {
    let mut net = Net::new(1, 1).await;
    net.cfg.http.upload_limit = 4096;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let http = reqwest::Client::new();
    let hash = format!("0x{}", "ab".repeat(32));
    // (method, path, body, expected status, why)
    let big = vec![0u8; 4097];
    let cases = [
        ("GET", "/v1/jobs/abc", &b""[..], 400, "not a number"),
        ("GET", "/v1/jobs/18446744073709551616", b"", 400, "past u64"),
        ("GET", "/v1/jobs/424242", b"", 404, "no such job"),
        ("GET", "/v1/jobs/424242/witness", b"", 404, "no witness"),
        (
            "GET",
            "/v1/jobs/9223372036854775808",
            b"",
            404,
            "past i64, no job id",
        ),
        (
            "GET",
            "/v1/jobs/4294967296/witness",
            b"",
            404,
            "past the largest job id",
        ),
        (
            "PUT",
            "/v1/proofs/18446744073709551615",
            b"x",
            404,
            "no request id",
        ),
        ("PUT", "/v1/proofs/xyz", b"x", 400, "no request id"),
        ("PUT", "/v1/proofs/16777217", b"", 400, "empty body"),
        ("PUT", "/v1/proofs/16777217", &big, 413, "too big"),
        ("GET", "/v1/proofs/0x1234", b"", 400, "not a hash"),
        ("GET", &format!("/v1/proofs/{hash}"), b"", 404, "no proof"),
        ("GET", "/nope", b"", 404, "no route"),
        ("POST", "/v1/status", b"", 405, "wrong method"),
    ];
    for (method, path, body, expected, why) in cases {
        let got = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(got, expected, "{method} {path}: {why}");
    }
    let err: serde_json::Value = http
        .get(format!("{base}/v1/jobs/abc"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        err["error"].as_str().unwrap().contains("decimal"),
        "a clear message: {err}"
    );
    // An id no job can have is final, not "retry later".
    let err: serde_json::Value = http
        .get(format!("{base}/v1/jobs/9223372036854775808"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(err["retryable"], false, "{err}");
    let up = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(up.status().as_u16(), 200, "still up");

    // A witness served for a real job is the one its leaf commits to.
    let p = net.prover(1, 1, &base).await;
    let (_, job) = p.lease_wait().await;
    let (info, witness) = p.fetch(job).await;
    assert_eq!(keccak256(&witness).0, info.witness_hash);
    assert!(matches!(
        JobWitness::decode(&witness),
        Ok(JobWitness::Chunk(_))
    ));
    let _: Address = p.address;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_the_service_stays_responsive() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut net = Net::new(1, 1).await;
    net.cfg.http.header_timeout_secs = 1;
    net.cfg.http.request_timeout_secs = 2;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    // 300 connections that start a request's headers and never finish them.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut c = tokio::net::TcpStream::connect(relayer.addr).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(c);
    }
    // And one that sends its headers, then only part of the body it announced.
    let mut upload = tokio::net::TcpStream::connect(relayer.addr).await.unwrap();
    upload
        .write_all(
            b"PUT /v1/proofs/16777217 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc",
        )
        .await
        .unwrap();
    let up = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(up.status().as_u16(), 200, "served beside them");
    // Each slow connection is closed by the server within the header timeout (and a margin).
    for mut c in slow {
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf))
            .await
            .expect("the server closed the slow connection")
            .unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), upload.read(&mut buf))
        .await
        .expect("the slow upload got an answer")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let up = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(up.status().as_u16(), 200, "still up");
    relayer.shutdown().await;
}

/// An RPC endpoint in front of anvil whose `eth_getLogs` answers as a node `lag` blocks behind
/// the head would (while `lag` is not zero), as one node behind a load balancer can: a range
/// past its head has no logs, a block hash it does not know is an error. While `lose` is set,
/// it leaves `ProofSubmitted` logs out, as a faulty node would. While `serves_up_to` is not
/// zero, it answers no block past it by number (as a node naming a head it does not serve yet
/// does). Everything else is anvil's.
#[derive(Clone)]
struct LaggingRpc {
    upstream: String,
    lag: Arc<std::sync::atomic::AtomicU64>,
    lose: Arc<std::sync::atomic::AtomicBool>,
    serves_up_to: Arc<std::sync::atomic::AtomicU64>,
    http: reqwest::Client,
}

impl LaggingRpc {
    async fn call(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let r: serde_json::Value = self
            .http
            .post(&self.upstream)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["result"].clone()
    }

    async fn serve(self) -> String {
        async fn handle(
            axum::extract::State(p): axum::extract::State<LaggingRpc>,
            axum::Json(req): axum::Json<serde_json::Value>,
        ) -> axum::Json<serde_json::Value> {
            let lag = p.lag.load(std::sync::atomic::Ordering::Relaxed);
            let id = req["id"].clone();
            let forward = async |req: &serde_json::Value| -> serde_json::Value {
                p.http
                    .post(&p.upstream)
                    .json(req)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            };
            if req["method"] == "eth_getLogs" && p.lose.load(std::sync::atomic::Ordering::Relaxed) {
                let mut r = forward(&req).await;
                let topic = format!("{:#x}", Coordinator::ProofSubmitted::SIGNATURE_HASH);
                if let Some(logs) = r["result"].as_array_mut() {
                    logs.retain(|l| l["topics"][0] != topic.as_str());
                }
                return axum::Json(r);
            }
            let num = |v: &serde_json::Value| {
                u64::from_str_radix(v.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16)
                    .unwrap_or(0)
            };
            let served = p.serves_up_to.load(std::sync::atomic::Ordering::Relaxed);
            if req["method"] == "eth_getBlockByNumber"
                && served != 0
                && req["params"][0]
                    .as_str()
                    .is_some_and(|n| n.starts_with("0x"))
                && num(&req["params"][0]) > served
            {
                return axum::Json(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            if req["method"] != "eth_getLogs" || lag == 0 {
                return axum::Json(forward(&req).await);
            }
            let head = num(&p.call("eth_blockNumber", serde_json::json!([])).await);
            let its_head = head.saturating_sub(lag);
            let filter = &req["params"][0];
            if let Some(hash) = filter.get("blockHash") {
                let block = p
                    .call("eth_getBlockByHash", serde_json::json!([hash, false]))
                    .await;
                if num(&block["number"]) > its_head {
                    return axum::Json(
                        serde_json::json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": "unknown block"}}),
                    );
                }
                return axum::Json(forward(&req).await);
            }
            if num(&filter["fromBlock"]) > its_head {
                return axum::Json(serde_json::json!({"jsonrpc": "2.0", "id": id, "result": []}));
            }
            let mut clamped = req.clone();
            if num(&filter["toBlock"]) > its_head {
                clamped["params"][0]["toBlock"] = format!("{its_head:#x}").into();
            }
            axum::Json(forward(&clamped).await)
        }
        let app = axum::Router::new()
            .route("/", axum::routing::post(handle))
            .with_state(self);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_rpc_node_loses_no_event() {
    let mut net = Net::new(1, 1).await;
    let lag = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let rpc = LaggingRpc {
        upstream: net.cfg.chain.rpc_url.clone(),
        lag: lag.clone(),
        lose: Default::default(),
        serves_up_to: Default::default(),
        http: reqwest::Client::new(),
    };
    net.cfg.chain.rpc_url = rpc.serve().await;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    // From here the relayer's logs come from a node 20 blocks behind.
    lag.store(20, std::sync::atomic::Ordering::Relaxed);
    p.submit(rid, proof.hash()).await;
    net.chain.provider.anvil_mine(Some(5), None).await.unwrap();
    // The node catches up after a while (the relayer reads through it meanwhile); the
    // submission must still be judged.
    tokio::time::sleep(Duration::from_secs(3)).await;
    lag.store(0, std::sync::atomic::Ordering::Relaxed);
    assert!(p.upload(rid, proof.as_bytes()).await.is_success());
    eventually("the verdict", 60, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_naming_a_head_it_does_not_serve_is_followed_up_to_what_it_serves() {
    let mut net = Net::new(1, 1).await;
    let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let rpc = LaggingRpc {
        upstream: net.cfg.chain.rpc_url.clone(),
        lag: Default::default(),
        lose: Default::default(),
        serves_up_to: served.clone(),
        http: reqwest::Client::new(),
    };
    net.cfg.chain.rpc_url = rpc.serve().await;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    // The submission's block is not served until it is set to be; then the blocks after it
    // never are (as anvil in the middle of a reorg, or a node behind a balancer, answers).
    let head = net.chain.provider.get_block_number().await.unwrap();
    served.store(head, std::sync::atomic::Ordering::Relaxed);
    p.submit(rid, proof.hash()).await;
    let submitted_in = net.chain.provider.get_block_number().await.unwrap();
    served.store(submitted_in, std::sync::atomic::Ordering::Relaxed);
    net.chain.provider.anvil_mine(Some(3), None).await.unwrap();
    assert!(p.upload(rid, proof.as_bytes()).await.is_success());
    eventually("the verdict", 60, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_an_rpc_node_lost_is_found_by_reconciliation_and_judged() {
    let mut net = Net::new(2, 1).await;
    let lose = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let rpc = LaggingRpc {
        upstream: net.cfg.chain.rpc_url.clone(),
        lag: Default::default(),
        lose: lose.clone(),
        serves_up_to: Default::default(),
        http: reqwest::Client::new(),
    };
    net.cfg.chain.rpc_url = rpc.serve().await;
    net.cfg.follow.reconcile_secs = 1;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let p = net.prover(1, 2, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    lose.store(true, std::sync::atomic::Ordering::Relaxed);
    p.submit(rid, proof.hash()).await;
    // A later event followed: the block of the submission is behind the cursor, recorded done.
    p.lease_wait().await;
    eventually("the second lease followed", 30, async || {
        status(&base).await["counts"]["leases"] == 2
    })
    .await;
    assert_eq!(
        status(&base).await["counts"]["submissions"],
        0,
        "the submission was lost"
    );
    lose.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(p.upload(rid, proof.as_bytes()).await.is_success());
    eventually("the verdict", 60, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_that_panics_neither_stops_the_relayer_nor_strands_the_proof() {
    let (net, relayer, base) = Net::running(1, 1).await;
    let p = net.prover(1, 1, &base).await;
    let (rid, proof) = p.lease_and_prove().await;
    p.submit(rid, proof.hash()).await;
    // The relayer's copy of the configuration shares this switch: its verifier panics once.
    net.cfg
        .verdicts
        .panic_verifying
        .store(rid, std::sync::atomic::Ordering::Relaxed);
    assert!(p.upload(rid, proof.as_bytes()).await.is_success());
    eventually("the panic", 30, async || {
        scrape(&relayer)
            .await
            .contains("crowdprove_relayer_verifier_panics_total 1")
    })
    .await;
    eventually("the verdict, on the retry", 60, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    let up = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(up.status().as_u16(), 200, "the relayer lives on");
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_over_the_rate_limit_get_429() {
    let mut net = Net::new(1, 1).await;
    net.cfg.http.rate_limit = 1;
    net.cfg.http.rate_burst = 3;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(
            reqwest::get(format!("{base}/healthz"))
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    assert_eq!(&codes[..3], &[200, 200, 200]);
    assert!(codes[3..].contains(&429), "{codes:?}");
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_under_the_cursor_is_rolled_back_and_the_verdict_posted_again() {
    let (net, relayer, base) = Net::running(2, 1).await;
    let p = net.prover(1, 2, &base).await;
    let job = p.prove_one().await;
    let rid = p
        .coord
        .job(job.try_into().unwrap())
        .call()
        .await
        .unwrap()
        .latestRequest;
    // Wait until the relayer has followed the block holding its own verdict...
    eventually("the verdict, followed", 30, async || {
        let s = status(&base).await;
        s["counts"]["valid"] == 1
    })
    .await;
    assert_eq!(net.chain.lease_state(rid).await.unwrap(), LeaseState::Valid);
    // ...then replace that block by an empty one: the verdict is gone from the chain.
    net.chain.reorg(1).await.unwrap();
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Submitted
    );
    eventually("the verdict, posted again", 30, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    let metrics = scrape(&relayer).await;
    assert!(
        metrics.contains("crowdprove_relayer_reorgs_total 1"),
        "{metrics}"
    );
    prove_until_final(&net, &[&p], 1).await;
    let completed = verdict_events(&net)
        .await
        .iter()
        .filter(|v| v.completed)
        .count();
    assert_eq!(
        completed, 3,
        "2 chunks + 1 aggregation, each completed once on the final chain"
    );
    net.books_balance(&[p.address]).await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_duty_is_retried_alone_while_the_others_go_on() {
    // The sink cannot be reached, so delivering every final proof fails. Verdicts (which
    // finalize on chain) and the next batch's posting must go on regardless: in the first version
    // one failing duty stopped every duty after it in the step, and batch 2 was never posted.
    let mut net = Net::new(1, 2).await;
    net.cfg.store.sink = SinkSpec::Webhook("http://127.0.0.1:9/final".into());
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let a = net.prover(1, 2, &base).await;
    prove_until_final(&net, &[&a], 1).await;
    prove_until_final(&net, &[&a], 2).await;
    let metrics = scrape(&relayer).await;
    let failures = |duty: &str| -> u64 {
        let key = format!("crowdprove_relayer_duty_failures_total{{duty=\"{duty}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&key))
            .map_or(0, |v| v.trim().parse().unwrap())
    };
    assert!(
        failures("deliver") >= 1,
        "delivery failed and was counted:\n{metrics}"
    );
    for duty in ["verdicts", "post"] {
        assert_eq!(failures(duty), 0, "{duty} never failed:\n{metrics}");
    }
    assert!(
        FinalProof::read(&final_dir(&net), 1).unwrap().is_none(),
        "nothing was delivered to a directory"
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_refunds_the_poster_and_clears_the_pending_jobs_at_once() {
    let (net, relayer, base) = Net::running(2, 1).await;
    let a = net.prover(1, 1, &base).await;
    let b = net.prover(2, 1, &base).await;
    a.lease_wait().await;
    b.lease_wait().await;
    let active = async |p: &TestProver| {
        net.coord()
            .prover(p.address)
            .call()
            .await
            .unwrap()
            .activeLeases
    };
    assert_eq!(active(&a).await, U256::from(1));
    relayer.shutdown().await;
    crowdprove_relayer::cancel_batch(&net.cfg, 1).await.unwrap();
    // Without the clearing, both leases would count until some lease met them at the head.
    assert_eq!(active(&a).await, U256::ZERO, "a's cancelled lease freed");
    assert_eq!(active(&b).await, U256::ZERO, "b's cancelled lease freed");
    let q = net.coord().queue().call().await.unwrap();
    assert_eq!(q.pendingJobs, U256::ZERO, "nothing left pending");
    let batch = net.coord().batch(1).call().await.unwrap();
    assert!(batch.cancelled);
    net.books_balance(&[a.address, b.address]).await;
}

// The settings in force with `upload` as the upload deadline.
async fn settings_with_upload(
    net: &Net,
    upload: u32,
) -> crowdprove_bindings::ICoordinator::Settings {
    let c = net.coord();
    let p = c.params().call().await.unwrap();
    let d = c.deadlinesAt(U256::from(u32::MAX)).call().await.unwrap();
    crowdprove_bindings::ICoordinator::Settings {
        stake: p.stakeParams,
        minReassignAge: p.minReassignAge,
        uploadDeadline: alloy::primitives::aliases::U24::from(upload),
        unbondingDelay: p.unbondingDelay,
        verdictDeadline: d.verdictDeadline.to(),
        relayer: c.relayer().call().await.unwrap(),
        treasury: c.treasury().call().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shortened_upload_deadline_spares_earlier_submissions() {
    let net = Net::new(1, 1).await;
    let delay = net.chain.params.param_delay;
    // The owner raises the upload deadline to 100 s, then announces 10 s again.
    let long = settings_with_upload(&net, 100).await;
    confirm(net.coord().proposeSettings(long.clone()))
        .await
        .unwrap();
    net.advance(delay).await;
    confirm(net.coord().applySettings(long)).await.unwrap();
    let short = settings_with_upload(&net, 10).await;
    confirm(net.coord().proposeSettings(short.clone()))
        .await
        .unwrap();
    net.advance(delay - 60).await;

    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let silent = net.prover(1, 1, &base).await;
    let (rid, _) = silent.lease_wait().await;
    silent.submit(rid, [7; 32]).await; // held to 100 s
    relayer.shutdown().await;
    net.advance(70).await;
    confirm(net.chain.coord_as(2).applySettings(short))
        .await
        .unwrap(); // anyone
    // A fresh relayer reads the 10 s deadline. It gives the submission a window from its start
    // (a prover cannot upload to a relayer that is down); 15 s on, the submission is past the
    // 10 s deadline counted so, but not past its own 100 s.
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    eventually(
        "the restarted relayer following the chain",
        30,
        async || status(&base).await["counts"]["awaiting_upload"] == 1,
    )
    .await;
    net.advance(15).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let filter = Filter::new()
        .address(net.chain.coordinator)
        .from_block(0)
        .event_signature(Coordinator::VerdictSkipped::SIGNATURE_HASH);
    let skipped = net.chain.provider.get_logs(&filter).await.unwrap();
    assert!(
        skipped.is_empty(),
        "a Missing verdict before the submission's own deadline"
    );
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Submitted
    );
    net.advance(90).await;
    eventually("the Missing verdict on the old deadline", 30, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Missing
    })
    .await;
    relayer.shutdown().await;
}
