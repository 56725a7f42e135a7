//! End to end: a real anvil, the Coordinator, the relayer and real prover clients (this
//! package's `crowdprove prover run` as child processes), under the attacks and faults the
//! paper names. Each case checks that the batch reaches its final proof (but the cancelled one),
//! that every first valid proof is paid exactly once, and that the Coordinator's books balance.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEventInterface;
use rand::{Rng, SeedableRng};

use crowdprove::devnet::{Devnet, DevnetOptions, REWARD, Role, TOKEN};
use crowdprove::report::{self, Summary};
use crowdprove_bindings::{Coordinator, ICoordinator, describe};
use crowdprove_protocol::{JobStatus, LeaseState, ParamSet, RequestId, Verdict};
use crowdprove_prover::audit::{AuditArgs, Outcome, Report};

fn options(dir: &tempfile::TempDir, provers: usize, chunks: u32) -> DevnetOptions {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
    if std::env::var_os("E2E_KEEP").is_some() {
        eprintln!("devnet directory: {}", dir.path().display());
    }
    let mut o = DevnetOptions::new(dir.path().to_path_buf());
    o.params = ParamSet::Small;
    o.provers = provers;
    o.chunks = chunks;
    o.exe = env!("CARGO_BIN_EXE_crowdprove").into();
    o.upload_deadline = 10;
    // The cases drive chain time themselves (reorgs, upload deadlines) and hand hoarded jobs on
    // at once, as the paper's LRP does.
    o.min_reassign_age = 0;
    o.tick_secs = None;
    o
}

// With E2E_KEEP set, a case's directory (logs, relayer data) survives it for inspection.
fn keep(mut dir: tempfile::TempDir) -> tempfile::TempDir {
    dir.disable_cleanup(std::env::var_os("E2E_KEEP").is_some());
    dir
}

async fn run_to_final(d: &mut Devnet) -> Duration {
    d.wait_final(1, Duration::from_secs(600), |p| eprintln!("{p}"))
        .await
        .expect("the batch reaches its final proof")
}

// A devnet with its relayer and provers running; returns it and the relayer's URL.
async fn running(o: DevnetOptions) -> (Devnet, String) {
    let mut d = Devnet::start(o).await.unwrap();
    let url = d.start_relayer().await.unwrap();
    d.spawn_provers().unwrap();
    (d, url)
}

// The checks every case makes once the batch is final.
async fn settle(mut d: Devnet, makespan: Duration) -> (Summary, Devnet) {
    d.cancel.cancel();
    d.stop_clients().await;
    wait_for("the final proof in the sink", 30, async || {
        d.final_proof().unwrap().is_some()
    })
    .await;
    let s = report::summarize(&d, makespan).await.unwrap();
    eprintln!("{}", report::table(&s));
    let jobs = d
        .coord()
        .nextIds()
        .call()
        .await
        .unwrap()
        .nextJobId
        .to::<u64>()
        - 1;
    let completions = completions(&d).await;
    assert!(
        completions.values().all(|&n| n == 1),
        "a job paid twice: {completions:?}"
    );
    assert_eq!(
        s.jobs_completed, jobs,
        "every posted job completed, each once"
    );
    for p in &s.provers {
        assert_eq!(
            p.earned_tokens,
            p.jobs as f64 * REWARD as f64,
            "prover #{} paid exactly its first valid proofs",
            p.account
        );
    }
    assert!(
        s.books_balance,
        "token balance = bonds + unbonding + earnings + escrow + slashes owed"
    );
    assert!(s.final_proof.is_some(), "final proof delivered");
    (s, d)
}

async fn completions(d: &Devnet) -> HashMap<u64, u32> {
    let mut out = HashMap::new();
    for e in events(d).await {
        if let Coordinator::CoordinatorEvents::VerdictRecorded(v) = e {
            if v.completed {
                *out.entry(v.requestId >> 24).or_default() += 1;
            }
        }
    }
    out
}

async fn events(d: &Devnet) -> Vec<Coordinator::CoordinatorEvents> {
    let logs = d
        .operator
        .get_logs(&Filter::new().address(d.coordinator).from_block(0))
        .await
        .unwrap();
    logs.iter()
        .filter_map(|l| {
            Coordinator::CoordinatorEvents::decode_log(&l.inner)
                .ok()
                .map(|e| e.data)
        })
        .collect()
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts the devnet of `o` plus one spare account and the relayer, and has the spare lease
/// `n` jobs of the first batch (job 1 first), receipt included: the state is read right after.
/// Returns the devnet, the relayer's URL, the spare and its Coordinator handle.
async fn spare_leases(
    mut o: DevnetOptions,
    n: u64,
) -> (
    Devnet,
    String,
    crowdprove::devnet::Account,
    Coordinator::CoordinatorInstance<alloy::providers::DynProvider>,
) {
    o.spare_accounts = 1;
    let mut d = Devnet::start(o).await.unwrap();
    let relayer = d.start_relayer().await.unwrap();
    let spare = d.account(Role::Spare, 0);
    let c = Coordinator::new(d.coordinator, d.provider_for(&spare));
    wait_for("the batch", 30, async || {
        match c.leaseMany(U256::from(n)).send().await {
            Ok(pending) => pending.get_receipt().await.is_ok(),
            Err(_) => false,
        }
    })
    .await;
    (d, relayer, spare, c)
}

async fn complete_jobs(d: &Devnet) -> u64 {
    completions(d).await.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_01_honest_provers_only() {
    let dir = keep(tempfile::tempdir().unwrap());
    let (mut d, url) = running(options(&dir, 3, 4)).await;
    let m = run_to_final(&mut d).await;
    let (s, d) = settle(d, m).await;
    assert_eq!(s.jobs_completed, 7);
    assert_eq!(s.rejected_proofs, 0);
    eprintln!("honest makespan: {:.1} s", s.makespan_secs);
    // An honest relayer's batch passes the audit: every verdict re-derived and the same.
    let report = audit(&d, &url).await;
    let verdicts = events(&d)
        .await
        .into_iter()
        .filter(|e| matches!(e, Coordinator::CoordinatorEvents::VerdictRecorded(_)))
        .count();
    assert_eq!(report.findings.len(), verdicts, "every verdict audited");
    assert!(
        report.findings.iter().all(|f| f.outcome == Outcome::Agrees),
        "{:#?}",
        report.findings
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_13_the_status_page_shows_the_batch_finish_in_chromium() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut d = Devnet::start(options(&dir, 2, 4)).await.unwrap();
    let url = d.start_relayer().await.unwrap();
    // The page opens before the provers start, so it sees the tree proven live; Debian's
    // Chromium (make setup installs it) through playwright-core (npm ci).
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let mut page = tokio::process::Command::new("node")
        .arg("tools/page-test.mjs")
        .arg(&url)
        .arg(&shot)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PAGE_TEST_TIMEOUT_MS", "120000")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs tools/page-test.mjs (make setup installs node's packages)");
    // The provers start once the page shows its first status: it must see the batch proving.
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(page.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        eprintln!("{line}");
        if line.contains("waiting for [data-batch-state") {
            break;
        }
    }
    d.spawn_provers().unwrap();
    let echo = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{line}");
        }
    });
    let status = page.wait().await.unwrap();
    let _ = echo.await;
    assert!(
        status.success(),
        "the status page test failed (its output is above)"
    );
    assert!(shot.exists(), "a screenshot at {}", shot.display());
    d.shutdown().await;
}

// `crowdprove audit` of batch 1, as a third party runs it.
async fn audit(d: &Devnet, relayer: &str) -> Report {
    let args = AuditArgs {
        rpc_url: d.rpc_url(),
        coordinator: d.coordinator,
        relayer: relayer.to_string(),
        params: ParamSet::Small,
        batch: Some(1),
        prover: None,
        from_block: None,
        to_block: None,
        concurrency: 2,
        resume: None,
        strict: false,
    };
    crowdprove_prover::audit::audit(&args).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_12_a_lying_relayer_is_caught_by_the_audit() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 2, 4);
    o.invalid = 1;
    // Chain time moves on its own, so the hidden upload's deadline passes.
    o.tick_secs = Some(1);
    let mut d = Devnet::start(o).await.unwrap();
    {
        let mut lies = d.relayer_cfg.verdicts.lies.lock().unwrap();
        lies.invalid_nth_valid = Some(1);
        lies.missing_nth_valid = Some(2);
        lies.valid_first_invalid = true;
    }
    let url = d.start_relayer().await.unwrap();
    d.spawn_provers().unwrap();
    // The relayer's own record of its lies, once all three are verdicts on chain.
    let lies = d.relayer_cfg.verdicts.lies.clone();
    let lied = || {
        let mut l = lies.lock().unwrap().lied.clone();
        l.sort_unstable();
        l
    };
    wait_for("the three lies on chain", 300, async || {
        let judged: Vec<u64> = events(&d)
            .await
            .into_iter()
            .filter_map(|e| match e {
                Coordinator::CoordinatorEvents::VerdictRecorded(v) => Some(v.requestId),
                _ => None,
            })
            .collect();
        let l = lied();
        l.len() == 3 && l.iter().all(|r| judged.contains(r))
    })
    .await;
    let lied = lied();
    let report = audit(&d, &url).await;
    let flagged: Vec<u64> = report
        .with(Outcome::Disagrees)
        .map(|f| f.request_id)
        .collect();
    report.print(&mut std::io::stderr()).unwrap();
    assert_eq!(flagged, lied, "the audit flags exactly the lies");
    assert!(
        report.with(Outcome::Unverifiable).next().is_none(),
        "every verdict checkable"
    );
    // The evidence a third party needs for the wrong slash: the hash, statement and answer.
    let slash = report
        .findings
        .iter()
        .find(|f| f.onchain == "invalid" && f.outcome == Outcome::Disagrees)
        .unwrap();
    let evidence = slash.evidence.join("\n");
    for needed in ["proof hash 0x", "statement {", "the proof verifies"] {
        assert!(evidence.contains(needed), "{needed} in {evidence}");
    }
    // The command a third party runs: exit 2; resumed from its file, the same without
    // auditing anything again.
    let resume = dir.path().join("audit.jsonl");
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_crowdprove"))
            .args([
                "audit",
                "--params",
                "small",
                "--batch",
                "1",
                "--relayer",
                &url,
            ])
            .args([
                "--rpc-url",
                &d.rpc_url(),
                "--coordinator",
                &d.coordinator.to_string(),
            ])
            .arg("--resume")
            .arg(&resume)
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(2), "{first:?}");
    let lines = std::fs::read_to_string(&resume).unwrap().lines().count();
    assert_eq!(lines, report.findings.len(), "one record per verdict");
    let again = run();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&resume).unwrap().lines().count(),
        lines,
        "nothing audited twice"
    );
    assert!(String::from_utf8_lossy(&again.stdout).contains("3 disagree"));
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_02_a_hoarder_is_worked_around_by_lrp() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 2, 4);
    o.hoarders = 1;
    let (mut d, _) = running(o).await;
    let m = run_to_final(&mut d).await;
    let hoarder = d.account(Role::Hoarder, 0).address();
    let (mut hoarded, mut taken_from_hoarder) = (Vec::<u64>::new(), Vec::<u64>::new());
    let mut completed_by: HashMap<u64, Address> = HashMap::new();
    for e in events(&d).await {
        match e {
            Coordinator::CoordinatorEvents::JobLeased(l) => {
                if l.prover == hoarder {
                    hoarded.push(l.requestId >> 24);
                }
                if l.previousHolder == hoarder {
                    taken_from_hoarder.push(l.requestId >> 24);
                }
            }
            Coordinator::CoordinatorEvents::VerdictRecorded(v) if v.completed => {
                completed_by.insert(v.requestId >> 24, v.prover);
            }
            _ => {}
        }
    }
    assert!(!hoarded.is_empty(), "the hoarder took jobs");
    assert!(
        !taken_from_hoarder.is_empty(),
        "LRP took jobs away from the hoarder"
    );
    for j in &hoarded {
        let by = completed_by.get(j).copied();
        assert!(
            by.is_some() && by != Some(hoarder),
            "hoarded job {j} was completed by another prover"
        );
    }
    let (s, d) = settle(d, m).await;
    let h = s.provers.iter().find(|p| p.role == Role::Hoarder).unwrap();
    assert_eq!(
        (h.jobs, h.earned_tokens),
        (0, 0.0),
        "the hoarder earns nothing"
    );
    eprintln!(
        "hoarder run: {} hoarded leases, {} reassigned away from it, makespan {:.1} s (compare case 01)",
        hoarded.len(),
        taken_from_hoarder.len(),
        s.makespan_secs
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_03_an_invalid_prover_is_slashed() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 2, 4);
    o.invalid = 1;
    let (mut d, _) = running(o).await;
    let m = run_to_final(&mut d).await;
    let (s, d) = settle(d, m).await;
    let cheat = s.provers.iter().find(|p| p.role == Role::Invalid).unwrap();
    assert!(cheat.slashes >= 1, "slashed for invalid proofs");
    assert_eq!(cheat.jobs, 0, "its jobs were completed by others");
    assert!(s.rejected_proofs >= 1 && s.slashed_tokens >= 5.0);
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_04_copied_proof_bytes_are_rejected() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 2, 2);
    o.verdict_batch = 100;
    o.verdict_max_age_ms = 4_000; // a window for the copier to act in
    o.urgent_verdicts = false; // even when job 1's sibling is already complete
    let (mut d, relayer, copier, c) = spare_leases(o, 1).await;
    let copier_rid = RequestId::new(1, 1).0; // it leased job 1 first
    d.spawn_provers().unwrap();
    // An honest prover proves job 1 (LRP hands it over) and submits: copy its bytes.
    let http = reqwest::Client::new();
    let mut stolen = None;
    wait_for("an honest proof of job 1", 120, async || {
        for e in events(&d).await {
            if let Coordinator::CoordinatorEvents::ProofSubmitted(p) = e {
                if p.requestId >> 24 == 1 && p.prover != copier.address() {
                    if let Ok(r) = http
                        .get(format!("{relayer}/v1/proofs/{}", p.proofHash))
                        .send()
                        .await
                    {
                        if r.status().is_success() {
                            stolen = Some((p.proofHash, r.bytes().await.unwrap().to_vec()));
                            return true;
                        }
                    }
                }
            }
        }
        false
    })
    .await;
    let (hash, bytes) = stolen.unwrap();
    c.submitProof(copier_rid, hash)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let up = http
        .put(format!("{relayer}/v1/proofs/{copier_rid}"))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert!(
        up.status().is_success(),
        "the bytes match the copier's committed hash"
    );
    let m = run_to_final(&mut d).await;
    assert_eq!(
        d.chain.lease_state(copier_rid).await.unwrap(),
        LeaseState::Invalid,
        "the proof binds its prover's address: a copy is invalid"
    );
    let (s, d) = settle(d, m).await;
    let p = s.provers.iter().find(|p| p.role == Role::Spare).unwrap();
    assert_eq!((p.slashes, p.jobs), (1, 0));
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_05_replayed_foreign_and_double_submissions_and_foreign_verdicts_are_refused() {
    let dir = keep(tempfile::tempdir().unwrap());
    let (mut d, _, spare, c) = spare_leases(options(&dir, 1, 2), 1).await;
    let mine = RequestId::new(1, 1).0;
    let revert = |e: alloy::contract::Error| describe(&e);
    // Unknown and foreign request ids.
    let e = c
        .submitProof(RequestId::new(99, 1).0, B256::with_last_byte(1))
        .call()
        .await
        .unwrap_err();
    assert!(revert(e).contains("UnknownRequest"));
    d.spawn_provers().unwrap();
    let honest = d.account(Role::Honest, 0).address();
    let mut theirs = None;
    wait_for("an honest lease", 60, async || {
        for e in events(&d).await {
            if let Coordinator::CoordinatorEvents::JobLeased(l) = e {
                if l.prover == honest {
                    theirs = Some(l.requestId);
                    return true;
                }
            }
        }
        false
    })
    .await;
    let e = c
        .submitProof(theirs.unwrap(), B256::with_last_byte(1))
        .call()
        .await
        .unwrap_err();
    assert!(revert(e).contains("NotLeaseHolder"), "a foreign request id");
    // Double submission, then a replay after the verdict.
    c.submitProof(mine, keccak256("junk"))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let e = c
        .submitProof(mine, keccak256("again"))
        .call()
        .await
        .unwrap_err();
    assert!(revert(e).contains("AlreadySubmitted"), "double submission");
    // Verdicts from anyone but the relayer.
    let v = ICoordinator::Verdict {
        requestId: mine,
        prover: spare.address(),
        result: Verdict::Valid.into(),
        proofHash: keccak256("again"),
    };
    let e = c.recordVerdicts(vec![v]).call().await.unwrap_err();
    assert!(revert(e).contains("NotRelayer"));
    d.advance_for_missing().await;
    wait_for("the spare's Missing verdict", 60, async || {
        d.chain.lease_state(mine).await.unwrap() == LeaseState::Missing
    })
    .await;
    let e = c
        .submitProof(mine, keccak256("replay"))
        .call()
        .await
        .unwrap_err();
    assert!(
        revert(e).contains("AlreadySubmitted"),
        "a replay after the verdict"
    );
    let m = run_to_final(&mut d).await;
    let (_, d) = settle(d, m).await;
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_06_a_prover_crashing_mid_proof_loses_nothing() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 1, 4);
    o.crashy = 1;
    let (mut d, _) = running(o).await;
    let m = run_to_final(&mut d).await;
    let crashy = d.account(Role::Crashy, 0);
    let log = std::fs::read_to_string(d.log_of(crashy.index)).unwrap();
    assert!(log.contains("proving"), "it was proving when it was killed");
    let taken = events(&d).await.iter().any(|e| {
        matches!(e, Coordinator::CoordinatorEvents::JobLeased(l) if l.previousHolder == crashy.address())
    });
    assert!(taken, "the crashed prover's job was reassigned");
    let (_, d) = settle(d, m).await;
    d.shutdown().await;
}

/// The crash soak: the relayer runs as a process of its own and is killed with SIGKILL, from
/// outside once it has made progress and from inside at its crash points (after a verdict
/// transaction is mined and before it learns so from the chain, after an upload is stored and
/// before its row says so, after a batch is posted, while serving an aggregation witness),
/// restarted with the same flags, every third time with its database deleted. `SOAK_ROUNDS`
/// rounds (3 here, 20 in `make soak`), `SOAK_SEED` picks the points.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_07_crash_soak_the_relayer_sigkilled_and_restarted_loses_and_doubles_nothing() {
    let env = |k: &str, default: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let rounds = env("SOAK_ROUNDS", 3) as usize;
    let seed = env("SOAK_SEED", 7);
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 2, 4);
    // A relayer restarting must not turn honest uploads into Missing verdicts.
    o.upload_deadline = 300;
    let mut d = Devnet::start(o).await.unwrap();
    // 7 jobs a batch; a round takes about five jobs' verdicts (measured): 2 batches for 3 rounds,
    // 15 for 20. The rounds stop early, and the count says so, if the work runs out.
    let batches = (rounds.div_ceil(2) + rounds / 4).max(1) as u32;
    d.relayer_cfg.jobs.batches = batches.into();
    d.spawn_relayer_process().await.unwrap();
    d.spawn_provers().unwrap();
    const POINTS: [&str; 5] = [
        "verdicts-mined",
        "upload-stored",
        "node-witness",
        "batch-posted",
        "", // none: only the kill from outside
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut kills, mut hit, mut wiped, mut done) = (0u32, Vec::new(), 0u32, 0usize);
    let verdicts = async |d: &Devnet| {
        events(d)
            .await
            .iter()
            .filter(|e| matches!(e, Coordinator::CoordinatorEvents::VerdictRecorded(_)))
            .count()
    };
    let c = d.coord();
    let last_final = async || {
        c.batch(batches)
            .call()
            .await
            .is_ok_and(|b| b.finalProofHash != B256::ZERO)
    };
    for round in 0..rounds {
        // Some progress since the last kill, then SIGKILL from outside.
        let before = verdicts(&d).await;
        wait_for("a verdict since the last kill", 180, async || {
            verdicts(&d).await > before || last_final().await
        })
        .await;
        if last_final().await {
            break;
        }
        done += 1;
        d.kill_relayer_process().await.unwrap();
        kills += 1;
        if round % 3 == 2 {
            std::fs::remove_dir_all(d.relayer_cfg.store.db.parent().unwrap()).unwrap();
            wiped += 1;
        }
        // Restarted with the same flags, armed to kill itself at a crash point.
        let point = POINTS[rng.random_range(0..POINTS.len())];
        d.spawn_relayer_process_with(&[("CROWDPROVE_RELAYER_CRASH", point)])
            .await
            .unwrap();
        if point.is_empty() {
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let c = d.relayer_process.as_mut().unwrap();
            if c.try_wait().unwrap().is_some() {
                d.relayer_process = None;
                kills += 1;
                hit.push(point);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Dead at its point (or not there within 20 s): on with an unarmed one.
        d.kill_relayer_process().await.unwrap();
        d.spawn_relayer_process().await.unwrap();
    }
    let m = d
        .wait_final(batches, Duration::from_secs(600), |p| eprintln!("{p}"))
        .await
        .expect("the last batch reaches its final proof");
    let all = events(&d).await;
    let mut submitted: HashMap<u64, u32> = HashMap::new();
    let mut judged: HashMap<u64, u32> = HashMap::new();
    let (mut posts, mut missing) = (0, 0);
    for e in &all {
        match e {
            Coordinator::CoordinatorEvents::ProofSubmitted(s) => {
                *submitted.entry(s.requestId).or_default() += 1
            }
            Coordinator::CoordinatorEvents::VerdictRecorded(v) => {
                *judged.entry(v.requestId).or_default() += 1;
                missing += usize::from(v.result == Verdict::Missing as u8);
            }
            Coordinator::CoordinatorEvents::BatchPosted(_) => posts += 1,
            _ => {}
        }
    }
    let duplicates = judged.values().filter(|&&n| n > 1).count();
    let lost = submitted.keys().filter(|r| !judged.contains_key(r)).count();
    eprintln!(
        "crash soak: {done} rounds of {rounds}, {kills} kills ({} at crash points: {hit:?}), {wiped} database deletions, {} submissions, {} verdicts, duplicates {duplicates}, lost {lost}, Missing {missing}",
        hit.len(),
        submitted.len(),
        judged.values().sum::<u32>()
    );
    assert_eq!(posts, batches, "no batch posted twice");
    assert_eq!(duplicates, 0, "a submission judged twice");
    assert_eq!(lost, 0, "a submission never judged");
    assert_eq!(missing, 0, "an honest upload judged Missing");
    let (_, d) = settle(d, m).await;
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_08_malformed_and_oversized_requests_get_4xx_and_the_service_stays_up() {
    let dir = keep(tempfile::tempdir().unwrap());
    let (mut d, base) = running(options(&dir, 2, 2)).await;
    let http = reqwest::Client::new();
    let rid = RequestId::new(1, 1).0;
    // (method, path, body, expected status)
    let cases = [
        ("GET", "/v1/jobs/x".to_string(), vec![], 400),
        ("GET", "/v1/jobs/777777".into(), vec![], 404),
        ("PUT", "/v1/proofs/-1".into(), b"x".to_vec(), 400),
        (
            "PUT",
            format!("/v1/proofs/{rid}"),
            vec![7; crowdprove_circuits::MAX_PROOF_BYTES + 1],
            413,
        ),
        (
            "PUT",
            format!("/v1/proofs/{rid}"),
            b"not a proof".to_vec(),
            0,
        ),
        ("GET", "/v1/proofs/zz".into(), vec![], 400),
    ];
    for (method, path, body, expected) in cases {
        let got = http
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        // The wrong bytes get a 4xx whose code depends on how far the chain is (409 before
        // the submission, 422 after): any client error will do there.
        match expected {
            0 => assert!((400..500).contains(&got), "{method} {path}: {got}"),
            code => assert_eq!(got, code, "{method} {path}"),
        }
    }
    let m = run_to_final(&mut d).await;
    assert!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let (_, d) = settle(d, m).await;
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_09_a_reorg_under_the_relayers_cursor_is_reconciled() {
    let dir = keep(tempfile::tempdir().unwrap());
    // Verdicts go as the proofs are judged, so the blocks reorged below hold verdicts, which
    // the relayer must post again (what this case is about); held for their siblings they
    // would fall behind the provers' submissions, and the reorg would take those instead (the
    // client's resubmission is crowdprove-prover's test).
    let mut o = options(&dir, 2, 4);
    o.verdict_sibling_wait_ms = o.verdict_max_age_ms;
    let (mut d, _) = running(o).await;
    wait_for("three completed jobs", 120, async || {
        complete_jobs(&d).await >= 3
    })
    .await;
    // Under the cursor: the relayer has followed the head (a reorg of the last 3 blocks then
    // replaces its cursor's block even if a block or two were mined meanwhile). Reorged any
    // earlier, the blocks would be new to it, with nothing to roll back.
    let url = d.metrics_url().unwrap();
    wait_for("the relayer at the head", 60, async || {
        let head = d.chain.provider.get_block_number().await.unwrap();
        let metrics = reqwest::get(&url).await.unwrap().text().await.unwrap();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("crowdprove_relayer_followed_block "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|b| b >= head)
    })
    .await;
    d.chain.reorg(3).await.unwrap();
    let m = run_to_final(&mut d).await;
    let metrics = reqwest::get(d.metrics_url().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("crowdprove_relayer_reorgs_total 0"),
        "the relayer saw the reorg:\n{metrics}"
    );
    let (_, d) = settle(d, m).await;
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_10_missing_bytes_are_not_slashed_and_a_cancelled_batch_refunds_and_frees_leases() {
    // A prover commits a hash and never uploads: Missing, no slash, job done by others.
    let dir = keep(tempfile::tempdir().unwrap());
    let (mut d, _, silent, c) = spare_leases(options(&dir, 1, 2), 1).await;
    let rid = RequestId::new(1, 1).0;
    c.submitProof(rid, keccak256("never uploaded"))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    d.spawn_provers().unwrap();
    d.advance_for_missing().await;
    let m = run_to_final(&mut d).await;
    assert_eq!(d.chain.lease_state(rid).await.unwrap(), LeaseState::Missing);
    let p = d.coord().prover(silent.address()).call().await.unwrap();
    assert_eq!(
        p.bond,
        U256::from(2 * 10 * TOKEN),
        "no slash for missing bytes"
    );
    let (_, d) = settle(d, m).await;
    d.shutdown().await;

    // A batch cancelled mid-way: escrow back, and after clearCancelled its leases stop counting.
    let dir = keep(tempfile::tempdir().unwrap());
    let (mut d, _, holder, c) = spare_leases(options(&dir, 0, 4), 2).await;
    assert_eq!(
        d.coord()
            .prover(holder.address())
            .call()
            .await
            .unwrap()
            .activeLeases,
        U256::from(2)
    );
    d.stop_relayer().await; // the owner cancels; keep the relayer's transactions out of the way
    let operator = d.operator_address;
    let token = crowdprove_bindings::TestToken::new(d.token, d.operator.clone());
    let before = token.balanceOf(operator).call().await.unwrap();
    d.coord()
        .cancelBatch(1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let refund = token.balanceOf(operator).call().await.unwrap() - before;
    assert_eq!(
        refund,
        U256::from(7 * REWARD * TOKEN),
        "every unspent reward back: the 4 leaves and the 3 nodes above them"
    );
    assert!(d.coord().totalEscrow().call().await.unwrap().is_zero());
    c.clearCancelled(vec![1u32.try_into().unwrap(), 2u32.try_into().unwrap()])
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let after = d.coord().prover(holder.address()).call().await.unwrap();
    assert_eq!(
        after.activeLeases,
        U256::ZERO,
        "cleared leases no longer count against the bond"
    );
    assert_eq!(d.chain.job_status(1).await.unwrap(), JobStatus::Cleared);
    let s = report::summarize(&d, Duration::ZERO).await.unwrap();
    assert!(s.books_balance);
    let _: Address = holder.address();
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_11_relayer_sigkilled_right_after_a_readying_verdict_restarts_with_confirmations() {
    let dir = keep(tempfile::tempdir().unwrap());
    let mut o = options(&dir, 2, 4);
    // Blocks keep coming while nothing happens, so a follower two blocks behind catches up.
    o.block_time = Some(1);
    let mut d = Devnet::start(o).await.unwrap();
    d.spawn_relayer_process().await.unwrap();
    d.spawn_provers().unwrap();
    let c = d.coord();
    wait_for("the batch", 60, async || {
        c.batch(1)
            .call()
            .await
            .is_ok_and(|b| b.jobCount.to::<u64>() > 0)
    })
    .await;
    let b = c.batch(1).call().await.unwrap();
    let first = b.firstJobId.to::<u64>();
    let nodes = first + b.leafCount.to::<u64>()..first + b.jobCount.to::<u64>();
    // SIGKILL the relayer the moment the chain shows a node readied by one of its verdicts.
    let deadline = Instant::now() + Duration::from_secs(300);
    'watch: loop {
        for id in nodes.clone() {
            let j = c.job(id.try_into().unwrap()).call().await.unwrap();
            if JobStatus::try_from(j.status).unwrap() != JobStatus::Waiting {
                break 'watch;
            }
        }
        assert!(Instant::now() < deadline, "no node became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    d.kill_relayer_process().await.unwrap();
    let posted_before = events(&d).await.len();
    // Restarted on the same database, now two blocks behind the head.
    d.relayer_cfg.follow.confirmations = Some(2);
    d.spawn_relayer_process().await.unwrap();
    let m = run_to_final(&mut d).await;
    let posts = events(&d)
        .await
        .iter()
        .filter(|e| matches!(e, Coordinator::CoordinatorEvents::BatchPosted(_)))
        .count();
    assert_eq!(posts, 1, "the restarted relayer posted its tree again");
    assert!(events(&d).await.len() > posted_before, "it went on");
    let (s, d) = settle(d, m).await;
    assert_eq!(s.jobs_completed, b.jobCount.to::<u64>(), "every node, once");
    d.shutdown().await;
}

// The operator's own prover: claims jobs one at a time from its PostgreSQL queue, proves them
// with the built-in chunk circuit, puts each proof in `proofs` and writes the result back, until
// `stop`. Returns the jobs it proved.
async fn in_house_prover(
    url: String,
    proofs: std::path::PathBuf,
    first: Option<crowdprove_relayer::pg_queue::QueuedJob>,
    stop: tokio_util::sync::CancellationToken,
) -> Vec<i64> {
    use crowdprove_circuits::{ChunkWitness, Circuits, ProverAddress};
    let q = crowdprove_relayer::pg_queue::PgQueue::connect(&url, "operator-prover-1", 3).unwrap();
    let circuits = tokio::task::spawn_blocking(|| Circuits::shared(ParamSet::Small))
        .await
        .unwrap();
    let mut proved = Vec::new();
    let mut next = first;
    while !stop.is_cancelled() {
        let job = match next.take() {
            Some(j) => Some(j),
            None => q.claim(1).await.unwrap().pop(),
        };
        let Some(job) = job else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let started = Instant::now();
        let path = job.witness_blob_url.strip_prefix("file://").unwrap();
        let witness = ChunkWitness::decode(&std::fs::read(path).unwrap()).unwrap();
        let c = circuits.clone();
        let id = job.id as u64;
        let proof = tokio::task::spawn_blocking(move || {
            c.prove_chunk(&witness, id, ProverAddress([0x0f; 20]))
        })
        .await
        .unwrap()
        .unwrap();
        let file = proofs.join(hex::encode(proof.hash()));
        std::fs::write(&file, proof.as_bytes()).unwrap();
        let url = format!("file://{}", file.display());
        assert!(q.succeed(job.id, &url, started.elapsed()).await.unwrap());
        proved.push(job.id);
    }
    proved
}

// An operator's PostgreSQL queue (a throwaway cluster, migrated) and its object store (a
// directory), for the cases that share a queue with an operator.
struct OperatorQueue {
    pg: crowdprove_relayer::test_utils::PgCluster,
    operator: crowdprove_relayer::pg_queue::PgQueue,
    client: tokio_postgres::Client,
    store: std::path::PathBuf,
}

impl OperatorQueue {
    async fn new(dir: &tempfile::TempDir) -> OperatorQueue {
        let pg = crowdprove_relayer::test_utils::PgCluster::start();
        let operator =
            crowdprove_relayer::pg_queue::PgQueue::connect(&pg.url, "operator-prover-1", 3)
                .unwrap();
        operator.migrate().await.unwrap();
        let (client, conn) = tokio_postgres::connect(&pg.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let store = dir.path().join("operator-store");
        std::fs::create_dir_all(&store).unwrap();
        OperatorQueue {
            pg,
            operator,
            client,
            store,
        }
    }

    // A queued job: its witness in the store, its row in the table.
    async fn insert(&self, l1: i64, circuit: i16, seq: i32, witness: Vec<u8>) {
        let file = self.store.join(format!("witness-{circuit}-{l1}-{seq}"));
        std::fs::write(&file, witness).unwrap();
        self.client
            .execute(
                "INSERT INTO prover_jobs (l1_batch_number, circuit_id, sequence_number, witness_blob_url)
                 VALUES ($1, $2, $3, $4)",
                &[&l1, &circuit, &seq, &format!("file://{}", file.display())],
            )
            .await
            .unwrap();
    }
}

// The proofs that won their jobs on chain.
async fn winning_proofs(d: &Devnet) -> std::collections::HashSet<B256> {
    let mut submitted: HashMap<u64, B256> = HashMap::new();
    let mut winners = std::collections::HashSet::new();
    for e in events(d).await {
        match e {
            Coordinator::CoordinatorEvents::ProofSubmitted(p) => {
                submitted.insert(p.requestId, p.proofHash);
            }
            Coordinator::CoordinatorEvents::VerdictRecorded(v) if v.completed => {
                winners.insert(submitted[&v.requestId]);
            }
            _ => {}
        }
    }
    winners
}

/// (id, l1 batch, status, attempts, picked_by, proof url) of every job in the operator's table.
type JobTableRow = (i64, i64, String, i16, Option<String>, Option<String>);

async fn job_table(url: &str) -> Vec<JobTableRow> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .query(
            "SELECT id, l1_batch_number, status, attempts, picked_by, proof_blob_url
             FROM prover_jobs ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_14_an_operators_postgres_queue_is_shared_by_its_own_prover_and_the_crowd() {
    use crowdprove_relayer::config::SourceSpec;
    use crowdprove_relayer::pg_queue::relayer_name;
    let dir = keep(tempfile::tempdir().unwrap());
    // The operator's table: 4 rollup batches of 2 chunks, witnesses in its object store.
    let q = OperatorQueue::new(&dir).await;
    let (pg, operator, store) = (&q.pg, &q.operator, &q.store);
    std::fs::create_dir_all(store.join("proofs")).unwrap();
    let mut sequencer = crowdprove_circuits::Sequencer::new(ParamSet::Small, 77);
    for l1 in 1..=4i64 {
        for chunk in sequencer.next_batch(2).chunks {
            q.insert(l1, 0, chunk.chunk_index as i32, chunk.encode())
                .await;
        }
    }
    // The operator's prover starts on batch 1 before the relayer is up.
    let first = operator.claim(1).await.unwrap().pop().unwrap();
    assert_eq!(first.l1_batch_number, 1);

    let mut o = options(&dir, 2, 2);
    o.prover_threads = 1;
    let mut d = Devnet::start(o).await.unwrap();
    d.relayer_cfg.jobs.source = SourceSpec::Postgres(pg.url.clone());
    d.relayer_cfg.jobs.max_open_batches = 1;
    d.start_relayer().await.unwrap();
    let posted = async |d: &Devnet| {
        events(d)
            .await
            .into_iter()
            .filter_map(|e| match e {
                Coordinator::CoordinatorEvents::BatchPosted(b) => Some(b),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    wait_for("the relayer's first batch", 60, async || {
        !posted(&d).await.is_empty()
    })
    .await;
    // Its first batch is cancelled (with the relayer down, whose key is the owner's): its jobs
    // must go back to the operator's queue, and the restarted relayer must not post them again.
    d.stop_relayer().await;
    d.coord()
        .cancelBatch(1)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    d.start_relayer().await.unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let in_house = tokio::spawn(in_house_prover(
        pg.url.clone(),
        store.join("proofs"),
        Some(first),
        stop.clone(),
    ));
    d.spawn_provers().unwrap();
    wait_for(
        "every job of the operator's table proven",
        400,
        async || job_table(&pg.url).await.iter().all(|r| r.2 == "successful"),
    )
    .await;
    stop.cancel();
    let by_operator = in_house.await.unwrap();
    let rows = job_table(&pg.url).await;

    // Every job once: the operator's prover and the crowd never share a rollup batch.
    let mut owner: HashMap<i64, String> = HashMap::new();
    for r in &rows {
        let by = r.4.clone().unwrap();
        assert_eq!(
            owner.entry(r.1).or_insert_with(|| by.clone()),
            &by,
            "rollup batch {} split between provers",
            r.1
        );
        let proof = r.5.as_deref().unwrap().strip_prefix("file://").unwrap();
        let bytes = std::fs::read(proof).unwrap();
        assert_eq!(
            hex::encode(keccak256(&bytes)),
            proof.rsplit('/').next().unwrap(),
            "the proof is where the row says"
        );
    }
    let crowd: Vec<&JobTableRow> = rows
        .iter()
        .filter(|r| r.4 == Some(relayer_name(&format!("{:#x}", d.coordinator))))
        .collect();
    assert!(
        !crowd.is_empty(),
        "the crowd proved some of the operator's jobs"
    );
    assert!(
        by_operator.len() >= 4,
        "the operator's prover proved batch 1 and the cancelled batch: {by_operator:?}"
    );
    assert_eq!(by_operator.len() + crowd.len(), rows.len());
    // The cancelled batch's jobs came back and were proven by the operator, second attempt.
    let cancelled_root = posted(&d).await[0].witnessRoot;
    let cancelled: Vec<&JobTableRow> = rows.iter().filter(|r| r.3 == 2).collect();
    assert_eq!(cancelled.len(), 2, "{rows:#?}");
    assert!(
        cancelled
            .iter()
            .all(|r| r.4.as_deref() == Some("operator-prover-1"))
    );
    // The crowd's results are its winning proofs on chain, each batch posted once.
    let winners = winning_proofs(&d).await;
    for r in &crowd {
        let hash = r.5.as_deref().unwrap().rsplit('/').next().unwrap();
        assert!(
            winners.contains(&hash.parse::<B256>().unwrap()),
            "job {}'s proof won its job on chain",
            r.0
        );
    }
    let batches = posted(&d).await;
    let roots: std::collections::HashSet<B256> = batches.iter().map(|b| b.witnessRoot).collect();
    assert_eq!(roots.len(), batches.len(), "no rollup batch posted twice");
    assert!(roots.contains(&cancelled_root));
    assert_eq!(
        batches.len() - 1,
        crowd.len() / 2,
        "one on-chain batch per rollup batch the crowd proved, plus the cancelled one"
    );
    // The crowd's leaves are written back as they are won; its trees go on to their tops.
    for b in &batches[1..] {
        wait_for("the crowd's batch to finalize", 120, async || {
            d.finalized(b.batchId).await.unwrap()
        })
        .await;
    }
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_15_a_circuit_registry_routes_round_0_through_an_external_prover_and_verifier() {
    let dir = keep(tempfile::tempdir().unwrap());
    // The chunk prover as an external command, behind a wrapper that logs each call: the
    // relayer and the provers must both go through it for every leaf.
    let exe = env!("CARGO_BIN_EXE_crowdprove");
    let calls = dir.path().join("external-calls.log");
    let wrapper = dir.path().join("chunk-external.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1 $(cat /proc/$PPID/comm)\" >> '{}'\nexec '{exe}' prover \"$@\"\n",
            calls.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let id = tokio::task::spawn_blocking(|| {
        crowdprove_circuits::Circuits::shared(ParamSet::Small)
            .circuit_id(0)
            .unwrap()
    })
    .await
    .unwrap();
    let registry = dir.path().join("circuits.toml");
    std::fs::write(
        &registry,
        format!(
            r#"[[circuit]]
name = "chunks-as-a-command"
id = "0x{}"
prove = ["./chunk-external.sh", "prove-chunk", "--params", "small", "{{witness}}", "{{inputs}}", "{{proof}}"]
verify = ["./chunk-external.sh", "verify-chunk", "--params", "small", "{{proof}}", "{{inputs}}"]
timeout_secs = 120
"#,
            hex::encode(id.0)
        ),
    )
    .unwrap();
    let mut o = options(&dir, 2, 4);
    o.circuits = Some(registry);
    let (mut d, _) = running(o).await;
    let m = run_to_final(&mut d).await;
    let (s, d) = settle(d, m).await;
    assert_eq!(s.jobs_completed, 7);
    assert_eq!(s.rejected_proofs, 0);
    // Each line: the command, and who ran it (the clients' workers are `crowdprove`; the
    // relayer runs in this test's process).
    let log = std::fs::read_to_string(&calls).unwrap();
    let count = |what: &str, by_client: bool| {
        log.lines()
            .filter(|l| l.split(' ').next() == Some(what))
            .filter(|l| l.ends_with(" crowdprove") == by_client)
            .count()
    };
    // Every leaf proven by the clients through the command (a job dropped mid-proof adds a
    // call), checked by them before submitting, and judged by the relayer through it.
    assert!(count("prove-chunk", true) >= 4, "{log}");
    assert_eq!(count("prove-chunk", false), 0, "{log}");
    assert!(count("verify-chunk", true) >= 4, "{log}");
    assert!(
        count("verify-chunk", false) >= 4,
        "the relayer judged through the command: {log}"
    );
    d.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_16_groth16_jobs_from_the_operators_queue_are_proven_through_the_chain() {
    use crowdprove_relayer::config::SourceSpec;
    use crowdprove_relayer::pg_queue::relayer_name;
    let dir = keep(tempfile::tempdir().unwrap());
    // The operator's queue holds a rollup batch of 2 chunks (circuit 0) and, as circuit 5, two
    // jobs of a Groth16 circuit: a second proof system the Coordinator knows nothing about.
    let q = OperatorQueue::new(&dir).await;
    let pg = &q.pg;
    let insert = async |l1: i64, circuit: i16, seq: i32, bytes: Vec<u8>| {
        q.insert(l1, circuit, seq, bytes).await
    };
    for chunk in crowdprove_circuits::Sequencer::new(ParamSet::Small, 5)
        .next_batch(2)
        .chunks
    {
        insert(1, 0, chunk.chunk_index as i32, chunk.encode()).await;
    }
    for seed in [11, 12] {
        insert(1, 5, seed as i32, crowdprove_groth16::sample(seed).0).await;
    }
    let id = crowdprove_groth16::Keys::setup().unwrap().id();
    let exe = env!("CARGO_BIN_EXE_crowdprove");
    let registry = dir.path().join("circuits.toml");
    std::fs::write(
        &registry,
        format!(
            r#"[[circuit]]
name = "cubic-groth16"
id = "0x{}"
prove = ["{exe}", "groth16", "prove", "{{witness}}", "{{inputs}}", "{{proof}}"]
verify = ["{exe}", "groth16", "verify", "{{proof}}", "{{inputs}}"]
statement = ["{exe}", "groth16", "statement", "{{witness}}"]
queue_circuit_id = 5
timeout_secs = 60
"#,
            hex::encode(id)
        ),
    )
    .unwrap();
    let mut o = options(&dir, 2, 2);
    o.circuits = Some(registry);
    o.spare_accounts = 1;
    let mut d = Devnet::start(o).await.unwrap();
    d.relayer_cfg.jobs.source = SourceSpec::Postgres(pg.url.clone());
    d.relayer_cfg.jobs.max_open_batches = 3;
    d.start_relayer().await.unwrap();
    // First alone: a prover of the chunk circuit only (no registry). The Groth16 jobs wait
    // fresh in their own lane; it must take the chunk jobs and never one of them.
    let plonky2_only = d.account(Role::Spare, 0);
    let registry = d.opts.circuits.take();
    d.spawn_client(&plonky2_only).unwrap();
    d.opts.circuits = registry;
    let leased_by = async |d: &Devnet, who: Address| {
        events(d)
            .await
            .into_iter()
            .filter_map(|e| match e {
                Coordinator::CoordinatorEvents::JobLeased(l) if l.prover == who => {
                    Some(l.requestId >> 24)
                }
                _ => None,
            })
            .collect::<Vec<u64>>()
    };
    wait_for("the chunk prover's first lease", 120, async || {
        !leased_by(&d, plonky2_only.address()).await.is_empty()
    })
    .await;
    d.spawn_provers().unwrap();
    wait_for(
        "every job of the operator's table proven",
        300,
        async || job_table(&pg.url).await.iter().all(|r| r.2 == "successful"),
    )
    .await;
    let rows = job_table(&pg.url).await;
    assert!(
        rows.iter()
            .all(|r| r.4 == Some(relayer_name(&format!("{:#x}", d.coordinator))) && r.3 == 1),
        "{rows:#?}"
    );
    // On chain: the chunk batch's tree and one single-leaf batch per Groth16 job, each won by
    // the proof written back.
    let batches: Vec<_> = events(&d)
        .await
        .into_iter()
        .filter_map(|e| match e {
            Coordinator::CoordinatorEvents::BatchPosted(b) => Some(b),
            _ => None,
        })
        .collect();
    assert_eq!(batches.len(), 3);
    let groth16: Vec<_> = batches.iter().filter(|b| b.circuitId.0 == id).collect();
    assert_eq!(
        groth16.len(),
        2,
        "one batch per Groth16 job, of its circuit"
    );
    assert!(
        groth16
            .iter()
            .all(|b| b.leafCount.to::<u32>() == 1 && b.jobCount.to::<u32>() == 1)
    );
    // The chunk-only prover never leased a Groth16 job (so never locked its bond on one).
    let groth16_jobs: Vec<u64> = groth16.iter().map(|b| b.firstJobId.to::<u64>()).collect();
    let its = leased_by(&d, plonky2_only.address()).await;
    assert!(
        its.iter().all(|j| !groth16_jobs.contains(j)),
        "it leased {its:?}; the Groth16 jobs are {groth16_jobs:?}"
    );
    let winners = winning_proofs(&d).await;
    for r in &rows {
        let url = r.5.as_deref().unwrap();
        let bytes = std::fs::read(url.strip_prefix("file://").unwrap()).unwrap();
        assert!(
            winners.contains(&keccak256(&bytes)),
            "job {}'s proof won on chain",
            r.0
        );
    }
    let groth16_rows: Vec<&JobTableRow> = rows.iter().filter(|r| r.0 > 2).collect();
    for r in groth16_rows {
        let bytes =
            std::fs::read(r.5.as_deref().unwrap().strip_prefix("file://").unwrap()).unwrap();
        assert!(
            bytes.len() < 200,
            "job {}: a Groth16 proof, {} bytes",
            r.0,
            bytes.len()
        );
    }
    for b in &batches {
        wait_for("every batch to finalize", 120, async || {
            d.finalized(b.batchId).await.unwrap()
        })
        .await;
    }
    d.shutdown().await;
}
