//! The `crowdprove-prover` binary against a real anvil, Coordinator and relayer: it stakes,
//! proves, earns and withdraws; two clients share a batch without a job paid twice; it refuses
//! witnesses and circuits the chain did not commit to; a crash after proving loses nothing; a
//! job completed by another prover is dropped mid-proof; a submission a reorg dropped is sent
//! again, before its verdict or with it; bad configuration is a clear error.

mod common;

use std::time::Duration;

use alloy::primitives::{B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::providers::ext::AnvilApi;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;

use common::*;
use crowdprove_bindings::{Coordinator, ICoordinator};
use crowdprove_circuits::{Circuits, JobWitness, ProverAddress};
use crowdprove_protocol::{JobInfo, LeaseState, ParamSet, RequestId};

const SMALL: ParamSet = ParamSet::Small;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stake_run_earn_and_withdraw() {
    let net = Net::new(SMALL, 2).await;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let data = net.dir.path().join("alice");
    net.fund(1, 20).await;

    let staked = net
        .run_client(1, &base, &data, SMALL, &["stake", "20"])
        .await;
    assert!(staked.status.success(), "{}", text(&staked));
    assert!(
        text(&staked).contains("backs 2 leases"),
        "{}",
        text(&staked)
    );

    // 2 chunks + 1 aggregation: three jobs, all this prover's. Leasing none ahead, it wants its
    // next job when it submits a proof. It proves on the GPU (Mesa's lavapipe where there is
    // none): its Merkle trees are built by the kernels, and the relayer must judge its proofs
    // valid and the chain pay them like any other.
    let run = net
        .run_client(
            1,
            &base,
            &data,
            SMALL,
            &[
                "run",
                "--max-jobs",
                "3",
                "--poll-ms",
                "100",
                "--prefetch",
                "0",
                "--backend",
                "gpu",
            ],
        )
        .await;
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("delivered 3"), "{}", text(&run));
    assert!(text(&run).contains("backend gpu ("), "{}", text(&run));
    eventually("the final proof", 60, async || net.finalized(1).await).await;
    // The first chunk's submission leased the second chunk in the same transaction
    // (`submitAndLease`); the second found nothing fresh, so the top its proof readied was
    // handed to it in the verdict's transaction; the last job's leased nothing, the client
    // wanting no fourth.
    let logs = net
        .chain
        .provider
        .get_logs(&Filter::new().address(*net.coord().address()).from_block(0))
        .await
        .unwrap();
    let txs = |topic: B256| -> Vec<B256> {
        logs.iter()
            .filter(|l| l.topic0() == Some(&topic))
            .map(|l| l.transaction_hash.unwrap())
            .collect()
    };
    let (submitted, leased) = (
        txs(Coordinator::ProofSubmitted::SIGNATURE_HASH),
        txs(Coordinator::JobLeased::SIGNATURE_HASH),
    );
    assert_eq!(submitted.len(), 3, "three submissions");
    assert!(
        leased.contains(&submitted[0]),
        "the first submission leased the next job"
    );
    assert!(
        !leased.contains(&submitted[1]) && !leased.contains(&submitted[2]),
        "the later submissions leased nothing"
    );
    let verdicts = txs(Coordinator::VerdictRecorded::SIGNATURE_HASH);
    assert!(
        leased.iter().any(|t| verdicts.contains(t)),
        "the top was handed over in the verdict that readied it"
    );
    assert!(
        text(&run).contains("handed the node this proof readied"),
        "{}",
        text(&run)
    );
    assert_eq!(
        net.earnings(1).await,
        U256::from(3 * REWARD),
        "paid for three jobs"
    );

    let status = output({
        let mut c = net.client(1, &base, &data, SMALL);
        c.arg("status");
        c
    })
    .await;
    assert!(
        text(&status).contains("jobs proven       3"),
        "{}",
        text(&status)
    );

    let unstake = net
        .run_client(1, &base, &data, SMALL, &["unstake", "20"])
        .await;
    assert!(unstake.status.success(), "{}", text(&unstake));
    net.advance(61).await;
    let withdraw = output({
        let mut c = net.client(1, &base, &data, SMALL);
        c.arg("withdraw");
        c
    })
    .await;
    assert!(withdraw.status.success(), "{}", text(&withdraw));
    let token = crowdprove_bindings::TestToken::new(net.chain.token, net.chain.provider.clone());
    let balance = token.balanceOf(net.address(1)).call().await.unwrap();
    assert_eq!(
        balance,
        U256::from(20) * U256::from(common::TOKEN) + U256::from(3 * REWARD),
        "bond and earnings back"
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_share_a_batch_and_no_job_is_paid_twice() {
    let net = Net::new(SMALL, 4).await;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let mut children = Vec::new();
    for i in [1, 2] {
        net.fund(i, 20).await;
        let data = net.dir.path().join(format!("p{i}"));
        let s = net
            .run_client(i, &base, &data, SMALL, &["stake", "20"])
            .await;
        assert!(s.status.success(), "{}", text(&s));
        let mut c = net.client(i, &base, &data, SMALL);
        c.env("PROVER_THREADS", "1")
            .args(["run", "--poll-ms", "100"]);
        children.push((spawn(c, &net.dir.path().join(format!("p{i}.log"))), i));
    }
    let logs: Vec<_> = [1, 2]
        .map(|i| net.dir.path().join(format!("p{i}.log")))
        .to_vec();
    eventually_or_show("the final proof", 240, &logs, async || {
        net.finalized(1).await
    })
    .await;
    for (child, _) in &children {
        interrupt(child);
    }
    for (child, i) in children {
        let status = wait(child, 120).await;
        let log = read(&net.dir.path().join(format!("p{i}.log")));
        assert!(status.success(), "client {i}: {log}");
        assert!(
            log.contains("duty cycle"),
            "client {i} reports its duty cycle: {log}"
        );
        assert!(log.contains("backend cpu"), "client {i}: {log}");
    }
    let (a, b) = (net.earnings(1).await, net.earnings(2).await);
    assert!(a > U256::ZERO && b > U256::ZERO, "both earned: {a} {b}");
    assert_eq!(
        a + b,
        U256::from(7 * REWARD),
        "4 + 2 + 1 jobs, each paid once"
    );
    relayer.shutdown().await;
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
}

// A relayer that lies: it serves another witness than the one the chain committed to, with a
// job description made consistent with it.
async fn lying_job(State(p): State<Proxy>, Path(id): Path<String>) -> impl IntoResponse {
    let mut info: JobInfo = reqwest::get(format!("{}/v1/jobs/{id}", p.upstream))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let witness = tampered(&p, &id).await;
    info.witness_hash = keccak256(&witness).0;
    axum::Json(info)
}

async fn lying_witness(State(p): State<Proxy>, Path(id): Path<String>) -> impl IntoResponse {
    Bytes::from(tampered(&p, &id).await)
}

async fn tampered(p: &Proxy, id: &str) -> Vec<u8> {
    let w = reqwest::get(format!("{}/v1/jobs/{id}/witness", p.upstream))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let Ok(JobWitness::Chunk(mut chunk)) = JobWitness::decode(&w) else {
        panic!("a chunk witness")
    };
    chunk.transfers.truncate(chunk.transfers.len() - 1);
    chunk.encode()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_that_does_not_match_the_root_is_refused() {
    let net = Net::new(SMALL, 1).await;
    let relayer = net.start_relayer().await;
    let proxy = Proxy {
        upstream: format!("http://{}", relayer.addr),
    };
    let app = axum::Router::new()
        .route("/v1/jobs/{id}", get(lying_job))
        .route("/v1/jobs/{id}/witness", get(lying_witness))
        .with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lying = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let data = net.staked(1, 10, &lying, "p1").await;
    eventually("the batch", 30, async || {
        net.coord().nextIds().call().await.unwrap().nextBatchId > 1
    })
    .await;
    // One refusal trips the breaker; leasing pauses for the cool-down, then resumes.
    let log = net.dir.path().join("p1.log");
    let mut c = net.client(1, &lying, &data, SMALL);
    c.args([
        "run",
        "--max-failures",
        "1",
        "--breaker-cooldown-secs",
        "1",
        "--poll-ms",
        "100",
    ]);
    let client = spawn(c, &log);
    eventually_or_show(
        "the cool-down's end",
        60,
        std::slice::from_ref(&log),
        async || read(&log).contains("leasing resumes"),
    )
    .await;
    interrupt(&client);
    let status = wait(client, 30).await;
    assert_eq!(
        status.code(),
        Some(2),
        "the breaker tripped: {}",
        read(&log)
    );
    assert!(read(&log).contains("did not commit to"), "{}", read(&log));
    assert!(
        read(&log).contains("Leasing paused for 1 s"),
        "{}",
        read(&log)
    );
    assert_eq!(
        net.chain.lease_state(RequestId::new(1, 1).0).await.unwrap(),
        LeaseState::Released,
        "never submitted, and given back: {}",
        read(&log)
    );
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_a_circuit_this_client_does_not_prove_is_never_leased() {
    let net = Net::new(SMALL, 1).await;
    // No relayer: batches are posted by hand. First one of a circuit no client builds: it
    // becomes lane 0, the lane `lease()` serves.
    let token = crowdprove_bindings::TestToken::new(net.chain.token, net.chain.provider.clone());
    token
        .approve(net.chain.coordinator, U256::MAX)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let post = async |root: &str, circuit: B256| {
        net.coord()
            .postBatch(
                keccak256(root),
                1u32.try_into().unwrap(),
                U256::from(REWARD).to(),
                circuit,
            )
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    };
    post("theirs", keccak256("another circuit")).await;
    let relayer = "http://127.0.0.1:9"; // never reached before the lease this test looks for
    let data = net.staked(1, 10, relayer, "p1").await;
    let log = net.dir.path().join("p1.log");
    let mut c = net.client(1, relayer, &data, SMALL);
    c.args(["run", "--poll-ms", "100", "--warm-levels", "1"]);
    let client = spawn(c, &log);
    eventually_or_show(
        "the client ready to lease",
        120,
        std::slice::from_ref(&log),
        async || read(&log).contains("ready to lease"),
    )
    .await;
    // Then a batch of its own circuit, in a lane of its own: that job it leases, never the
    // other one, which waited fresh the whole time.
    let ours =
        tokio::task::spawn_blocking(|| Circuits::shared(ParamSet::Small).circuit_id(0).unwrap())
            .await
            .unwrap();
    post("ours", B256::from(ours.0)).await;
    eventually_or_show(
        "its circuit's job leased",
        60,
        std::slice::from_ref(&log),
        async || net.chain.lease_state(RequestId::new(2, 1).0).await.unwrap() != LeaseState::None,
    )
    .await;
    assert_eq!(
        net.chain.lease_state(RequestId::new(1, 1).0).await.unwrap(),
        LeaseState::None,
        "the other circuit's job was never leased: {}",
        read(&log)
    );
    assert!(
        !read(&log).contains("needs round-0 circuit"),
        "{}",
        read(&log)
    );
    stop_twice(client, &log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_spooled_before_a_crash_is_delivered_on_restart() {
    let (net, relayer, base, data) = Net::with_one_prover(SMALL, 1).await;
    let crashed = output({
        let mut c = net.client(1, &base, &data, SMALL);
        c.env("CROWDPROVE_FAULT", "exit-after-spool")
            .args(["run", "--poll-ms", "100"]);
        c
    })
    .await;
    assert_eq!(crashed.status.code(), Some(3), "{}", text(&crashed));
    let spooled: Vec<_> = std::fs::read_dir(data.join("spool")).unwrap().collect();
    assert_eq!(spooled.len(), 2, "the proof and its entry are on disk");
    let rid = RequestId::new(1, 1).0;
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Leased,
        "not yet submitted"
    );

    delivers_the_spooled_proof(&net, &base, &data, rid).await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_completed_by_another_prover_is_dropped_mid_proof() {
    // The default parameter set, so a proof takes long enough to be interrupted.
    let set = ParamSet::Default;
    let net = Net::new(set, 1).await;
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);

    // Bob (in this process) leases the job first and proves it, but holds the proof back.
    let bob_key = net.chain.key(2);
    let bob = net.chain.provider_for(2);
    net.fund(2, 10).await;
    let bob_token = crowdprove_bindings::TestToken::new(net.chain.token, bob.clone());
    bob_token
        .approve(net.chain.coordinator, U256::MAX)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let bob_coord = crowdprove_bindings::Coordinator::new(net.chain.coordinator, bob.clone());
    bob_coord
        .stake(U256::from(BOND))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    eventually("the batch", 30, async || {
        net.coord().nextIds().call().await.unwrap().nextBatchId > 1
    })
    .await;
    bob_coord
        .lease()
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let bob_rid = RequestId::new(1, 1).0;
    eventually("the relayer serving job 1", 30, async || {
        reqwest::get(format!("{base}/v1/jobs/1/witness"))
            .await
            .unwrap()
            .status()
            .is_success()
    })
    .await;
    let witness = reqwest::get(format!("{base}/v1/jobs/1/witness"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let addr = ProverAddress(bob_key.address().0.0);
    let proof = tokio::task::spawn_blocking(move || {
        let w = JobWitness::decode(&witness).unwrap();
        Circuits::shared(set).prove_job(&w, 1, addr).unwrap()
    })
    .await
    .unwrap();

    // Alice's client takes the job over by LRP and starts proving it.
    let data = net.staked(1, 10, &base, "alice").await;
    let log = net.dir.path().join("alice.log");
    let mut c = net.client(1, &base, &data, set);
    c.env("PROVER_NO_SPARE_WORKER", "false")
        .args(["run", "--poll-ms", "100"]);
    let alice = spawn(c, &log);
    eventually("Alice proving", 120, async || {
        read(&log).contains("proving")
    })
    .await;

    // Bob delivers: the relayer completes the job, and Alice drops it mid-proof.
    bob_coord
        .submitProof(bob_rid, B256::from(proof.hash()))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let put = reqwest::Client::new()
        .put(format!("{base}/v1/proofs/{bob_rid}"))
        .body(proof.into_bytes())
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    eventually("the drop", 60, async || {
        read(&log).contains("dropping it mid-proof")
    })
    .await;
    interrupt(&alice);
    let status = wait(alice, 60).await;
    assert!(status.success(), "{}", read(&log));
    assert_eq!(
        net.chain.lease_state(RequestId::new(1, 2).0).await.unwrap(),
        LeaseState::Leased,
        "Alice never submitted"
    );
    let _ = ICoordinator::Verdict {
        requestId: 0,
        prover: Default::default(),
        result: 0,
        proofHash: Default::default(),
    };
    relayer.shutdown().await;
}

// A relayer that acts only on blocks `confirmations` deep (the test mines `step` blocks at a
// time until it serves job 1, then nothing mines but the test and the client), and account 1's
// client running against it with one lease's bond: after its submission it sends nothing until
// a verdict. Returns the relayer, the client and its log.
async fn lagging_relayer_and_client(
    net: &Net,
    confirmations: u64,
    step: u64,
) -> (
    crowdprove_relayer::RelayerHandle,
    std::process::Child,
    std::path::PathBuf,
) {
    let mut cfg = net.cfg.clone();
    cfg.follow.confirmations = Some(confirmations);
    cfg.follow.poll_ms = 100;
    let relayer = crowdprove_relayer::start(cfg).await.unwrap();
    let base = format!("http://{}", relayer.addr);
    let data = net.staked(1, 10, &base, "p1").await;
    let anvil = &net.chain.provider;
    eventually("the relayer serving job 1", 60, async || {
        anvil.anvil_mine(Some(step), None).await.unwrap();
        reqwest::get(format!("{base}/v1/jobs/1"))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let log = net.dir.path().join("p1.log");
    let mut c = net.client(1, &base, &data, SMALL);
    c.args(["run", "--poll-ms", "100"]);
    (relayer, spawn(c, &log), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_dropped_by_a_reorg_is_submitted_again() {
    // The relayer reads only blocks 4 deep, and nothing mines but the test and the client: so
    // the client's submission is the head, unseen by the relayer, when a reorg drops it.
    let net = Net::new(SMALL, 2).await;
    let (relayer, client, log) = lagging_relayer_and_client(&net, 4, 1).await;
    let rid = RequestId::new(1, 1).0;
    eventually_or_show("the delivery", 60, std::slice::from_ref(&log), async || {
        read(&log).contains("proof delivered")
    })
    .await;
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Submitted
    );
    net.chain.reorg(1).await.unwrap();
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Leased,
        "the reorg dropped the submission"
    );

    paid_once_more_then_stopped(&net, rid, relayer, client, &log).await;
    assert!(read(&log).contains("submitting it again"), "{}", read(&log));
}

// Waits up to a minute for lease `rid` to reach `state`, showing the client's log if it does not.
async fn lease_reaches(net: &Net, log: &std::path::PathBuf, rid: u64, state: LeaseState) {
    eventually_or_show(
        &format!("lease {rid} {state:?}"),
        60,
        std::slice::from_ref(log),
        async || net.chain.lease_state(rid).await.unwrap() == state,
    )
    .await;
}

// Mines a block at a time until lease `rid` is Valid again, checks the reward was paid once,
// then stops the client (Ctrl-C, a clean exit) and the relayer.
async fn paid_once_more_then_stopped(
    net: &Net,
    rid: u64,
    relayer: crowdprove_relayer::RelayerHandle,
    client: std::process::Child,
    log: &std::path::PathBuf,
) {
    let anvil = &net.chain.provider;
    eventually_or_show(
        "the verdict again",
        60,
        std::slice::from_ref(log),
        async || {
            anvil.anvil_mine(Some(1), None).await.unwrap();
            net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
        },
    )
    .await;
    assert_eq!(net.earnings(1).await, U256::from(REWARD));
    interrupt(&client);
    let status = wait(client, 60).await;
    assert!(status.success(), "{}", read(log));
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_verdict_dropped_by_a_reorg_with_its_submission_is_earned_again() {
    // The relayer reads the head: the client sees its proof judged Valid, then a reorg takes
    // back the submission and the verdict with it. The lease is Leased and ours again, and
    // with a bond for one lease the client could lease nothing else: it must submit again.
    let net = Net::new(SMALL, 2).await;
    let (relayer, client, log) = lagging_relayer_and_client(&net, 0, 1).await;
    let anvil = &net.chain.provider;
    let rid = RequestId::new(1, 1).0;
    lease_reaches(&net, &log, rid, LeaseState::Valid).await;
    eventually_or_show(
        "the client saw it",
        60,
        std::slice::from_ref(&log),
        async || read(&log).contains("judged Valid"),
    )
    .await;
    let submitted = anvil
        .get_logs(
            &Filter::new()
                .address(*net.coord().address())
                .event_signature(Coordinator::ProofSubmitted::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap()[0]
        .block_number
        .unwrap();
    let head = anvil.get_block_number().await.unwrap();
    net.chain.reorg(head - submitted + 1).await.unwrap();
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Leased,
        "the reorg took the submission and its verdict"
    );
    assert_eq!(net.earnings(1).await, U256::ZERO, "and the reward");
    paid_once_more_then_stopped(&net, rid, relayer, client, &log).await;
    let text = read(&log);
    assert!(text.contains("the verdict vanished"), "{text}");
    assert!(text.contains("submitting it again"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_is_one_clear_line_and_a_failure() {
    let net = Net::new(SMALL, 1).await;
    let data = net.dir.path().join("p");
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("PROVER_KEY", String::new())], "no prover key"),
        (
            vec![("PROVER_KEY", "0x1234".into())],
            "not a 32-byte hex private key",
        ),
        (
            vec![("COORDINATOR", "nonsense".into())],
            "is not an address",
        ),
        (
            vec![(
                "COORDINATOR",
                "0x000000000000000000000000000000000000dEaD".into(),
            )],
            "no contract at",
        ),
        (
            vec![("RPC_URL", "http://127.0.0.1:9".into())],
            "cannot reach the RPC",
        ),
        (
            vec![("PROVER_KEYSTORE", "/nonexistent/keystore".into())],
            "both --private-key",
        ),
    ];
    for (env, expected) in cases {
        let mut c = net.client(1, "http://127.0.0.1:9", &data, SMALL);
        for (k, v) in &env {
            if v.is_empty() {
                c.env_remove(k);
            } else {
                c.env(k, v);
            }
        }
        c.arg("status");
        let o = output(c).await;
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{env:?}: {t}");
        assert!(
            t.contains(expected),
            "{env:?}: expected `{expected}` in: {t}"
        );
        assert_eq!(t.trim().lines().count(), 1, "one line: {t}");
        assert!(!t.contains(&net.key(1)[2..]), "the key never shows");
    }
    // A GPU asked for and not there: one line, before anything is leased.
    let mut c = net.client(1, "http://127.0.0.1:9", &data, SMALL);
    c.env("CROWDPROVE_GPU_ADAPTER", "no such adapter")
        .args(["run", "--backend", "gpu"]);
    let o = output(c).await;
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    // Mesa's EGL, probed last, may complain on stderr of a missing display; our own output
    // is the one line.
    let ours: Vec<&str> = t
        .lines()
        .filter(|l| !l.contains("XDG_RUNTIME_DIR"))
        .collect();
    assert_eq!(ours.len(), 1, "one line: {t}");
    assert!(
        ours[0].contains("no usable GPU: no GPU adapter found"),
        "{t}"
    );
    // An encrypted keystore (as `cast wallet import` writes it) works with its password...
    let keystores = net.dir.path().join("keystores");
    let cast = crowdprove_bindings::workspace_root().join("node_modules/.bin/cast");
    let imported = std::process::Command::new(cast)
        .args([
            "wallet",
            "import",
            "alice",
            "--private-key",
            &net.key(1),
            "--unsafe-password",
            "secret",
            "--keystore-dir",
        ])
        .arg(&keystores)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", text(&imported));
    let with_keystore = |password: &str| {
        let mut c = net.client(1, "http://127.0.0.1:9", &data, SMALL);
        c.env_remove("PROVER_KEY")
            .env("PROVER_KEYSTORE", keystores.join("alice"))
            .env("KEYSTORE_PASSWORD", password);
        c.arg("status");
        c
    };
    let ok = output(with_keystore("secret")).await;
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains(&net.address(1).to_string()),
        "{}",
        text(&ok)
    );
    // ...and refuses a wrong one in one line.
    let wrong = output(with_keystore("guess")).await;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        text(&wrong).contains("cannot open keystore"),
        "{}",
        text(&wrong)
    );

    let bad_amount = net
        .run_client(1, "http://127.0.0.1:9", &data, SMALL, &["stake", "lots"])
        .await;
    assert!(
        text(&bad_amount).contains("not a token amount"),
        "{}",
        text(&bad_amount)
    );
    let bad_params = net
        .run_client(
            1,
            "http://127.0.0.1:9",
            &data,
            SMALL,
            &["run", "--params", "huge"],
        )
        .await;
    assert_eq!(
        bad_params.status.code(),
        Some(2),
        "clap's usage error: {}",
        text(&bad_params)
    );
    assert!(
        text(&bad_params).contains("unknown parameter set"),
        "{}",
        text(&bad_params)
    );
    let _ = Duration::ZERO;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_the_relayer_never_judges_is_expired_and_the_bond_freed() {
    // The relayer reads only blocks 1,000 deep: once it serves the first job, nothing the client
    // submits ever reaches it, so no verdict comes.
    let net = Net::new(SMALL, 2).await;
    let (relayer, client, log) = lagging_relayer_and_client(&net, 1_000, 100).await;
    let rid = RequestId::new(1, 1).0;
    lease_reaches(&net, &log, rid, LeaseState::Submitted).await;
    // One lease's bond, held by the unjudged submission until the deadlines pass.
    let upload = u64::from(net.chain.params.upload_deadline);
    net.advance(upload + crowdprove_protocol::limits::DEFAULT_VERDICT_DEADLINE)
        .await;
    // The chain shows it first; the client logs it once its transaction is confirmed.
    eventually_or_show("the expiry", 60, std::slice::from_ref(&log), async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Expired
            && read(&log).contains("expired the submission")
    })
    .await;
    // The freed bond backs the next job at once.
    eventually_or_show(
        "a lease of job 2",
        60,
        std::slice::from_ref(&log),
        async || net.chain.lease_state(RequestId::new(2, 1).0).await.unwrap() != LeaseState::None,
    )
    .await;
    let prover = net.coord().prover(net.address(1)).call().await.unwrap();
    assert_eq!(prover.activeLeases, U256::from(1), "job 2's lease only");
    assert_eq!(prover.bond, U256::from(10 * TOKEN), "nothing slashed");
    assert_eq!(prover.earnings, U256::ZERO, "nothing paid");
    interrupt(&client);
    wait(client, 60).await;
    relayer.shutdown().await;
}

/// The submissions the chain recorded for lease `rid`.
async fn submissions(net: &Net, rid: u64) -> usize {
    let logs = net
        .chain
        .provider
        .get_logs(
            &Filter::new()
                .address(*net.coord().address())
                .event_signature(Coordinator::ProofSubmitted::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    logs.iter()
        .filter_map(|l| l.log_decode::<Coordinator::ProofSubmitted>().ok())
        .filter(|e| e.inner.data.requestId == rid)
        .count()
}

fn spool_files(data: &std::path::Path) -> usize {
    std::fs::read_dir(data.join("spool"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits for lease `rid`'s Valid verdict, then checks that the proof left the spool, was
/// submitted exactly once, and account 1 was paid for it.
async fn paid_once(net: &Net, rid: u64, data: &std::path::Path) {
    eventually("the verdict", 60, async || {
        net.chain.lease_state(rid).await.unwrap() == LeaseState::Valid
    })
    .await;
    assert_eq!(spool_files(data), 0, "unspooled once delivered");
    assert_eq!(submissions(net, rid).await, 1, "submitted once");
    assert_eq!(net.earnings(1).await, U256::from(REWARD));
}

/// Runs account 1's client for one job and checks that it first finished the proof `rid`
/// a previous run spooled, and was paid for it once.
async fn delivers_the_spooled_proof(net: &Net, base: &str, data: &std::path::Path, rid: u64) {
    let run = net
        .run_client(
            1,
            base,
            data,
            SMALL,
            &["run", "--max-jobs", "1", "--poll-ms", "100"],
        )
        .await;
    assert!(run.status.success(), "{}", text(&run));
    assert!(
        text(&run).contains("finishing spooled proofs"),
        "{}",
        text(&run)
    );
    paid_once(net, rid, data).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayer_down_for_a_while_costs_time_not_the_proof_and_ctrl_c_keeps_it() {
    let net = Net::new(SMALL, 1).await;
    let relayer = net.start_relayer().await;
    let addr = relayer.addr;
    let base = format!("http://{addr}");
    let data = net.staked(1, 10, &base, "p1").await;
    let rid = RequestId::new(1, 1).0;
    let log = net.dir.path().join("p1.log");
    let mut c = net.client(1, &base, &data, SMALL);
    c.args(["run", "--poll-ms", "100"]);
    let client = spawn(c, &log);
    let logs = [log.clone()];

    // The relayer goes down once the job is fetched: the proof is submitted but cannot be
    // uploaded.
    eventually_or_show("proving", 60, &logs, async || {
        read(&log).contains("proving")
    })
    .await;
    relayer.shutdown().await;
    eventually_or_show("the failed upload", 60, &logs, async || {
        read(&log).contains("the relayer is down")
    })
    .await;
    assert_eq!(
        net.chain.lease_state(rid).await.unwrap(),
        LeaseState::Submitted
    );
    // Ctrl-C once: it keeps trying to deliver what it holds.
    interrupt(&client);
    eventually_or_show("the first Ctrl-C", 30, &logs, async || {
        read(&log).contains("finishing the jobs in hand")
    })
    .await;
    let tries_before = spool_files(&data);
    assert_eq!(tries_before, 2, "the proof and its entry stay spooled");
    // Ctrl-C twice: it stops now, the spool keeping the proof.
    interrupt(&client);
    let status = wait(client, 30).await;
    assert!(status.success(), "{}", read(&log));
    assert_eq!(spool_files(&data), 2, "still spooled: {}", read(&log));
    assert!(!read(&log).contains("failure"), "{}", read(&log));

    // The relayer comes back on its address; the next start delivers the spooled proof.
    let mut cfg = net.cfg.clone();
    cfg.http.listen = addr;
    let relayer = crowdprove_relayer::start(cfg).await.unwrap();
    delivers_the_spooled_proof(&net, &base, &data, rid).await;
    relayer.shutdown().await;
}

// A relayer whose RPC lags the client's: it answers the first `lagging` uploads 404 (it does
// not know the lease yet), then passes everything through.
#[derive(Clone)]
struct LaggingRelayer {
    upstream: String,
    lagging: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

async fn lagging_upload(
    State(r): State<LaggingRelayer>,
    Path(id): Path<String>,
    body: Bytes,
) -> axum::response::Response {
    use std::sync::atomic::Ordering;
    if r.lagging
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (axum::http::StatusCode::NOT_FOUND, "unknown request").into_response();
    }
    let answer = reqwest::Client::new()
        .put(format!("{}/v1/proofs/{id}", r.upstream))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
    (status, answer.bytes().await.unwrap()).into_response()
}

async fn passed_through(State(r): State<LaggingRelayer>, uri: axum::http::Uri) -> Bytes {
    reqwest::get(format!("{}{}", r.upstream, uri.path()))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_the_lagging_relayer_answers_404_is_tried_until_it_is_taken() {
    let net = Net::new(SMALL, 1).await;
    let relayer = net.start_relayer().await;
    let lag = LaggingRelayer {
        upstream: format!("http://{}", relayer.addr),
        lagging: std::sync::Arc::new(3.into()),
    };
    let lagging = lag.lagging.clone();
    let app = axum::Router::new()
        .route("/healthz", get(passed_through))
        .route("/v1/jobs/{id}", get(passed_through))
        .route("/v1/jobs/{id}/witness", get(passed_through))
        .route("/v1/proofs/{id}", axum::routing::put(lagging_upload))
        .with_state(lag);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let data = net.staked(1, 10, &base, "p1").await;

    let run = net
        .run_client(
            1,
            &base,
            &data,
            SMALL,
            &["run", "--max-jobs", "1", "--poll-ms", "100"],
        )
        .await;
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        lagging.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "three uploads answered 404"
    );
    assert!(
        text(&run).contains("upload not taken yet") && text(&run).contains("404"),
        "{}",
        text(&run)
    );
    assert!(text(&run).contains("delivered 1"), "{}", text(&run));
    assert!(!text(&run).contains("failure"), "{}", text(&run));
    let rid = RequestId::new(1, 1).0;
    paid_once(&net, rid, &data).await;
    relayer.shutdown().await;
}

// An RPC in front of anvil that answers the first `reverts` gas estimates of a submission with
// a bare revert, as a node behind the chain (which has not seen the lease) does.
#[derive(Clone)]
struct LaggingRpc {
    upstream: String,
    reverts: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

async fn lagging_rpc(
    State(rpc): State<LaggingRpc>,
    axum::Json(body): axum::Json<serde_json::Value>,
) -> axum::Json<serde_json::Value> {
    use alloy::sol_types::SolCall;
    use std::sync::atomic::Ordering;
    let call = &body["params"][0];
    let data = call["input"]
        .as_str()
        .or(call["data"].as_str())
        .unwrap_or("");
    let submits = [
        Coordinator::submitProofCall::SELECTOR,
        Coordinator::submitAndLeaseCall::SELECTOR,
    ]
    .iter()
    .any(|s| data.starts_with(&format!("0x{}", alloy::hex::encode(s))));
    if body["method"] == "eth_estimateGas"
        && submits
        && rpc
            .reverts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        return axum::Json(serde_json::json!({
            "jsonrpc": "2.0",
            "id": body["id"],
            "error": { "code": 3, "message": "execution reverted" }
        }));
    }
    let answer = reqwest::Client::new()
        .post(&rpc.upstream)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    axum::Json(answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_reverted_by_a_lagging_rpc_is_tried_again_not_dropped() {
    let (net, relayer, base, data) = Net::with_one_prover(SMALL, 1).await;
    let rpc = LaggingRpc {
        upstream: net.chain.url(),
        reverts: std::sync::Arc::new(2.into()),
    };
    let reverts = rpc.reverts.clone();
    let app = axum::Router::new()
        .route("/", axum::routing::post(lagging_rpc))
        .with_state(rpc);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut c = net.client(1, &base, &data, SMALL);
    c.env("RPC_URL", &url)
        .args(["run", "--max-jobs", "1", "--poll-ms", "100"]);
    let run = output(c).await;
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        reverts.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "both reverts served"
    );
    assert!(
        text(&run).contains("reading the lease again before anything is dropped"),
        "{}",
        text(&run)
    );
    let rid = RequestId::new(1, 1).0;
    paid_once(&net, rid, &data).await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_dies_mid_proof_is_replaced_and_the_job_still_proven() {
    let (net, relayer, base, data) = Net::with_one_prover(SMALL, 1).await;
    let mark = net.dir.path().join("worker-died");
    let mut c = net.client(1, &base, &data, SMALL);
    c.env(
        "CROWDPROVE_FAULT",
        format!("worker-dies-once:{}", mark.display()),
    )
    .env("PROVER_NO_SPARE_WORKER", "false")
    .args(["run", "--max-jobs", "1", "--poll-ms", "100"]);
    let run = output(c).await;
    assert!(run.status.success(), "{}", text(&run));
    assert!(mark.exists(), "a worker died");
    assert!(
        text(&run).contains("the proving worker died mid-proof"),
        "{}",
        text(&run)
    );
    assert!(text(&run).contains("delivered 1"), "{}", text(&run));
    let rid = RequestId::new(1, 1).0;
    paid_once(&net, rid, &data).await;
    relayer.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_twice_gives_back_the_jobs_in_hand_and_another_prover_takes_them_at_once() {
    let net = Net::new(SMALL, 2).await; // leaves 1 and 2, top 3
    let relayer = net.start_relayer().await;
    let base = format!("http://{}", relayer.addr);
    let data = net.staked(1, 20, &base, "p1").await; // bond for two leases
    let active = async || {
        let p = net.coord().prover(net.address(1)).call().await.unwrap();
        p.activeLeases
    };
    let log = net.dir.path().join("p1.log");
    let mut c = net.client(1, &base, &data, SMALL);
    c.env("CROWDPROVE_FAULT", "worker-hangs")
        .args(["run", "--prefetch", "1", "--poll-ms", "100"]);
    let client = spawn(c, &log);
    // One job in the worker, one leased ahead, fetched and queued.
    eventually_or_show(
        "two jobs in hand",
        90,
        std::slice::from_ref(&log),
        async || read(&log).contains("proving") && active().await == U256::from(2),
    )
    .await;
    let status = stop_twice(client, &log).await;
    assert!(status.success(), "{}", read(&log));
    for job in [1, 2] {
        assert_eq!(
            net.chain
                .lease_state(RequestId::new(job, 1).0)
                .await
                .unwrap(),
            LeaseState::Released,
            "job {job} given back: {}",
            read(&log)
        );
    }
    assert_eq!(active().await, U256::ZERO, "the bond is free");
    // Another prover finishes the batch without waiting for the leases to age.
    let data2 = net.staked(2, 10, &base, "p2").await;
    let run = net
        .run_client(
            2,
            &base,
            &data2,
            SMALL,
            &["run", "--max-jobs", "3", "--poll-ms", "100"],
        )
        .await;
    assert!(run.status.success(), "{}", text(&run));
    assert!(text(&run).contains("delivered 3"), "{}", text(&run));
    for job in [1, 2] {
        assert_eq!(
            net.chain
                .lease_state(RequestId::new(job, 2).0)
                .await
                .unwrap(),
            LeaseState::Valid,
            "job {job} proven by the second prover"
        );
    }
    relayer.shutdown().await;
}
