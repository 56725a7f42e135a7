//! `crowdprove-prover audit`: anyone re-derives the relayer's verdicts from public data and
//! compares them with the chain's. The relayer is the one trusted party (it alone says Valid,
//! Invalid or Missing, and a verdict moves money), but everything it judged is public: the
//! submissions and verdicts are chain events, the statements are committed in each batch's
//! on-chain witness root, and the relayer serves the job descriptions, witnesses, proof bytes
//! and upload times over its HTTP API. For each verdict in scope the audit checks the served
//! statement against the root, verifies the proof bytes against the job's statement, its id
//! and the submitter's address (the circuits every party builds alike), and holds a Missing
//! verdict against the time the relayer says the bytes arrived.
//!
//! It lives in the prover's CLI: provers are the ones a verdict pays or slashes, they already
//! run this program, and it already holds the verifier and the relayer client.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use anyhow::{Context, anyhow, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crowdprove_bindings::Coordinator;
use crowdprove_circuits::{Circuits, ProverAddress, PublicInputs};
use crowdprove_protocol::{
    JobKind, ParamSet, RequestId, Statement, TreeShape, Verdict, hex0x, keccak256,
};

use crate::api::RelayerApi;
use crate::leaser::check_leaf;

/// What to audit and where the public data is.
#[derive(Args, Clone, Debug)]
pub struct AuditArgs {
    /// JSON-RPC endpoint of the chain (read only: no key is needed).
    #[arg(long, env = "RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: String,
    /// The Coordinator's address.
    #[arg(long, env = "COORDINATOR")]
    pub coordinator: Address,
    /// The relayer's public URL (its job descriptions, witnesses, proofs and upload times).
    #[arg(long, env = "RELAYER_URL")]
    pub relayer: String,
    /// The circuit parameter set the batches use (checked against each batch's on-chain
    /// circuit id; the relayer's word for it is not taken).
    #[arg(long, env = "CROWDPROVE_PARAMS", default_value = "default")]
    pub params: ParamSet,
    /// Only the verdicts on this batch's jobs.
    #[arg(long)]
    pub batch: Option<u64>,
    /// Only the verdicts on this prover's submissions.
    #[arg(long)]
    pub prover: Option<Address>,
    /// First block of verdicts to audit (default: the chain's first).
    #[arg(long)]
    pub from_block: Option<u64>,
    /// Last block of verdicts to audit (default: the head).
    #[arg(long)]
    pub to_block: Option<u64>,
    /// Verdicts audited at once (downloads and proof verifications).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Record each audited verdict in this file (JSON lines) and skip those already in it, so
    /// that an audit of a big range stopped midway resumes where it stopped.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Also fail (exit 2) on verdicts that cannot be checked (bytes or statements no longer
    /// served), not only on disagreements.
    #[arg(long)]
    pub strict: bool,
}

/// How one verdict compares with what the public data says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The verdict is what the data says (for a Missing verdict with no upload on record,
    /// the relayer's word: only the prover can show otherwise).
    Agrees,
    /// The verdict contradicts the data, or the relayer served data the chain did not commit
    /// to, or withheld data within its audit window: the evidence says why.
    Disagrees,
    /// The data needed is not served past the audit window, or reading it failed.
    Unverifiable,
}

/// One audited verdict.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Finding {
    /// The lease judged.
    pub request_id: u64,
    /// Its job.
    pub job_id: u64,
    /// The submitter.
    pub prover: String,
    /// The chain's verdict.
    pub onchain: String,
    /// What the data says: valid, invalid, missing, or why it cannot tell.
    pub derived: String,
    /// The comparison.
    pub outcome: Outcome,
    /// What a third party needs to re-check a disagreement (or why the data was unusable).
    pub evidence: Vec<String>,
}

/// The audit's result: every finding, in request order.
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Findings with this outcome.
    pub fn with(&self, outcome: Outcome) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.outcome == outcome)
    }

    /// The table, and the evidence of each disagreement.
    pub fn print(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{:>12}  {:>6}  {:<42}  {:<8}  {:<14}  result",
            "request", "job", "prover", "on chain", "re-derived"
        )?;
        for f in &self.findings {
            writeln!(
                out,
                "{:>12}  {:>6}  {:<42}  {:<8}  {:<14}  {}",
                RequestId(f.request_id).to_string(),
                f.job_id,
                f.prover,
                f.onchain,
                f.derived,
                match f.outcome {
                    Outcome::Agrees => "ok",
                    Outcome::Disagrees => "DISAGREES",
                    Outcome::Unverifiable => "cannot check",
                }
            )?;
        }
        for f in self.with(Outcome::Disagrees) {
            writeln!(
                out,
                "\nrequest {} (job {}, prover {}): judged {} on chain, but the data says {}",
                f.request_id, f.job_id, f.prover, f.onchain, f.derived
            )?;
            for e in &f.evidence {
                writeln!(out, "  {e}")?;
            }
        }
        let count = |o| self.with(o).count();
        writeln!(
            out,
            "\n{} verdicts: {} agree, {} disagree, {} cannot be checked",
            self.findings.len(),
            count(Outcome::Agrees),
            count(Outcome::Disagrees),
            count(Outcome::Unverifiable)
        )
    }
}

/// Runs the audit the arguments describe; progress on stderr.
pub async fn audit(args: &AuditArgs) -> anyhow::Result<Report> {
    let url = args
        .rpc_url
        .parse()
        .map_err(|e| anyhow!("--rpc-url (RPC_URL) `{}`: {e}", args.rpc_url))?;
    let provider = ProviderBuilder::new().connect_http(url).erased();
    let head = tokio::time::timeout(Duration::from_secs(10), provider.get_block_number())
        .await
        .map_err(|_| anyhow!("the RPC at {} does not answer", args.rpc_url))?
        .with_context(|| format!("cannot reach the RPC at {}", args.rpc_url))?;
    let code = rpc(provider.get_code_at(args.coordinator)).await?;
    if code.is_empty() {
        bail!(
            "no contract at {} on this chain: check --coordinator (COORDINATOR)",
            args.coordinator
        );
    }
    let coord = Coordinator::new(args.coordinator, provider.clone());
    let from = args.from_block.unwrap_or(0);
    let to = args.to_block.unwrap_or(head).min(head);
    if from > to {
        bail!("--from-block {from} is past --to-block {to} (the head is {head})");
    }
    let api = RelayerApi::new(&args.relayer, Duration::from_secs(10));
    let audit_window = check_relayer(&api, &coord).await?;
    let params = args.params;
    let round0 = tokio::task::spawn_blocking(move || Circuits::shared(params).circuit_id(0))
        .await??
        .0;

    let event = |signature| {
        Filter::new()
            .address(args.coordinator)
            .event_signature(signature)
    };
    let mut verdict_filter = event(Coordinator::VerdictRecorded::SIGNATURE_HASH);
    if let Some(p) = args.prover {
        verdict_filter = verdict_filter.topic2(p.into_word());
    }
    let verdicts = logs(&provider, verdict_filter, from, to).await?;
    // Each lease's submission, from the chain's start: a verdict can judge one made before
    // the audited range. One per lease; a reorg leaves the last.
    let mut submissions: HashMap<u64, (B256, u64)> = HashMap::new();
    let submitted = event(Coordinator::ProofSubmitted::SIGNATURE_HASH);
    for log in logs(&provider, submitted, 0, to).await? {
        if let (Ok(e), Some(block)) = (
            Coordinator::ProofSubmitted::decode_log(&log.inner),
            log.block_number,
        ) {
            submissions.insert(e.data.requestId, (e.data.proofHash, block));
        }
    }
    // When each batch was finalized: its data must be served for the audit window after.
    let mut finalized = HashMap::new();
    let finals = event(Coordinator::BatchFinalized::SIGNATURE_HASH);
    for log in logs(&provider, finals, 0, head).await? {
        if let (Ok(e), Some(block)) = (
            Coordinator::BatchFinalized::decode_log(&log.inner),
            log.block_number,
        ) {
            finalized.insert(u64::from(e.data.batchId), block);
        }
    }
    let jobs = match args.batch {
        Some(b) => {
            let id = u32::try_from(b).map_err(|_| anyhow!("--batch {b}: no such batch"))?;
            let info = rpc(coord.batch(id).call()).await?;
            if info.jobCount == 0 {
                bail!("--batch {b}: no such batch on this Coordinator");
            }
            let first: u64 = info.firstJobId.to();
            Some(first..first + info.jobCount.to::<u64>())
        }
        None => None,
    };

    let mut ctx = Ctx {
        coord,
        provider,
        api,
        round0,
        params,
        audit_window,
        finalized,
        now: 0,
        batches: Mutex::new(HashMap::new()),
        times: Mutex::new(HashMap::new()),
    };
    ctx.now = ctx.time(head).await?;
    let ctx = Arc::new(ctx);
    let mut todo = Vec::new();
    for log in &verdicts {
        let Ok(e) = Coordinator::VerdictRecorded::decode_log(&log.inner) else {
            continue;
        };
        let v = e.data;
        let job_id = RequestId(v.requestId).job();
        if jobs.as_ref().is_some_and(|r| !r.contains(&job_id)) {
            continue;
        }
        todo.push(Todo {
            request_id: v.requestId,
            job_id,
            prover: v.prover,
            onchain: Verdict::try_from(v.result).map_err(|e| anyhow!("{e}"))?,
            submission: submissions.get(&v.requestId).copied(),
        });
    }
    // A resumed run keeps what an earlier one settled for these verdicts (not what it could
    // not check, nor other verdicts), and audits the rest.
    let wanted: HashSet<u64> = todo.iter().map(|t| t.request_id).collect();
    let mut findings: Vec<Finding> = match &args.resume {
        Some(path) => read_resume(path)?
            .into_iter()
            .filter(|f| wanted.contains(&f.request_id) && f.outcome != Outcome::Unverifiable)
            .collect(),
        None => Vec::new(),
    };
    findings.sort_by_key(|f| f.request_id);
    findings.dedup_by_key(|f| f.request_id);
    let settled: HashSet<u64> = findings.iter().map(|f| f.request_id).collect();
    todo.retain(|t| !settled.contains(&t.request_id));

    let bar = indicatif::ProgressBar::new(todo.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("auditing {bar:30} {pos}/{len} verdicts {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut resume = match &args.resume {
        Some(path) => Some(open_resume(path)?),
        None => None,
    };
    let mut running = tokio::task::JoinSet::new();
    let mut queue = todo.into_iter();
    loop {
        while running.len() < args.concurrency.max(1) {
            let Some(t) = queue.next() else { break };
            let ctx = ctx.clone();
            running.spawn(async move { check_or_say_why(&ctx, t).await });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let finding = joined.context("an audit task failed")?;
        if let Some(file) = &mut resume {
            writeln!(file, "{}", serde_json::to_string(&finding)?)?;
            file.flush()?;
        }
        if finding.outcome == Outcome::Disagrees {
            bar.set_message(format!("(request {} disagrees)", finding.request_id));
        }
        bar.inc(1);
        findings.push(finding);
    }
    bar.finish_and_clear();
    findings.sort_by_key(|f| f.request_id);
    Ok(Report { findings })
}

/// How long one RPC call may take: a stalled node must not hang the audit.
const RPC_TIMEOUT: Duration = Duration::from_secs(30);

// `call`, within [`RPC_TIMEOUT`].
async fn rpc<T, E: std::error::Error + Send + Sync + 'static>(
    call: impl std::future::IntoFuture<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    Ok(tokio::time::timeout(RPC_TIMEOUT, call.into_future())
        .await
        .map_err(|_| anyhow!("the RPC did not answer within {RPC_TIMEOUT:?}"))??)
}

// The logs `filter` matches in [from, to], fetched in ranges an RPC accepts.
async fn logs(
    provider: &DynProvider,
    filter: Filter,
    from: u64,
    to: u64,
) -> anyhow::Result<Vec<Log>> {
    const RANGE: u64 = 10_000;
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + RANGE - 1).min(to);
        let range = filter.clone().from_block(start).to_block(end);
        out.extend(rpc(provider.get_logs(&range)).await.with_context(|| {
            format!("reading the Coordinator's events in blocks {start}..={end}")
        })?);
        start = end + 1;
    }
    Ok(out)
}

// Checks that the relayer at the URL is the Coordinator's (a mirror or a typo would blame the
// wrong party) and returns its audit window, seconds.
async fn check_relayer(
    api: &RelayerApi,
    coord: &Coordinator::CoordinatorInstance<DynProvider>,
) -> anyhow::Result<u64> {
    #[derive(Deserialize)]
    struct Status {
        relayer: Address,
        coordinator: Address,
        #[serde(default)]
        audit_window_secs: u64,
    }
    let st: Status = api
        .status()
        .await
        .context("reading the relayer's /v1/status")?;
    let relayer = rpc(coord.relayer().call()).await?;
    if st.coordinator != *coord.address() || st.relayer != relayer {
        bail!(
            "the relayer at {} serves Coordinator {} as {}, but Coordinator {}'s relayer is {}: check --relayer and --coordinator",
            api.base(),
            st.coordinator,
            st.relayer,
            coord.address(),
            relayer
        );
    }
    Ok(st.audit_window_secs)
}

// The resume file, for appending: a line a kill cut short is ended first, so that the next
// record starts on its own line.
fn open_resume(path: &PathBuf) -> anyhow::Result<std::fs::File> {
    let cut = std::fs::read(path).is_ok_and(|b| !b.is_empty() && b.last() != Some(&b'\n'));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    if cut {
        writeln!(file)?;
    }
    Ok(file)
}

fn read_resume(path: &PathBuf) -> anyhow::Result<Vec<Finding>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    // A line cut short by a kill is dropped: that verdict is audited again.
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

struct Todo {
    request_id: u64,
    job_id: u64,
    prover: Address,
    onchain: Verdict,
    /// The submission's proof hash and block, if the chain has it.
    submission: Option<(B256, u64)>,
}

#[derive(Clone, Copy)]
struct BatchFacts {
    batch_id: u64,
    root: [u8; 32],
    circuit: [u8; 32],
    first_job: u64,
    leaf_count: u32,
}

struct Ctx {
    coord: Coordinator::CoordinatorInstance<DynProvider>,
    provider: DynProvider,
    api: RelayerApi,
    /// The round-0 circuit id of `--params`.
    round0: [u8; 32],
    params: ParamSet,
    /// The relayer's audit window, seconds.
    audit_window: u64,
    /// The block each batch was finalized in.
    finalized: HashMap<u64, u64>,
    /// The head's chain time when the audit began.
    now: u64,
    batches: Mutex<HashMap<u64, BatchFacts>>,
    times: Mutex<HashMap<u64, u64>>,
}

impl Ctx {
    // The batch of `job_id`, from the chain (cached per batch).
    async fn batch_of(&self, job_id: u64) -> anyhow::Result<BatchFacts> {
        let id = job_id
            .try_into()
            .map_err(|_| anyhow!("job id {job_id} out of range"))?;
        let job = rpc(self.coord.job(id).call()).await?;
        let batch_id = u64::from(job.batchId);
        if let Some(b) = self.batches.lock().await.get(&batch_id) {
            return Ok(*b);
        }
        let b = rpc(self.coord.batch(job.batchId).call()).await?;
        let facts = BatchFacts {
            batch_id,
            root: b.witnessRoot.0,
            circuit: b.circuitId.0,
            first_job: b.firstJobId.to(),
            leaf_count: b.leafCount.to(),
        };
        self.batches.lock().await.insert(batch_id, facts);
        Ok(facts)
    }

    // The chain time of `block`.
    async fn time(&self, block: u64) -> anyhow::Result<u64> {
        if let Some(t) = self.times.lock().await.get(&block) {
            return Ok(*t);
        }
        let b = rpc(self.provider.get_block_by_number(block.into()))
            .await?
            .ok_or_else(|| anyhow!("block {block} not found"))?;
        self.times.lock().await.insert(block, b.header.timestamp);
        Ok(b.header.timestamp)
    }

    // Whether the relayer must still serve batch `batch`'s data: not finalized yet, or within
    // its audit window after (which it counts from the final proof's delivery, later still).
    async fn must_serve(&self, batch: u64) -> anyhow::Result<bool> {
        Ok(match self.finalized.get(&batch) {
            None => true,
            Some(&block) => self.now < self.time(block).await?.saturating_add(self.audit_window),
        })
    }
}

// [`check`], and a finding that says why where the data could not be read: one failure is
// about one verdict, not the end of the audit.
async fn check_or_say_why(ctx: &Ctx, t: Todo) -> Finding {
    let (request_id, job_id, prover, onchain) = (t.request_id, t.job_id, t.prover, t.onchain);
    check(ctx, t).await.unwrap_or_else(|e| Finding {
        request_id,
        job_id,
        prover: prover.to_string(),
        onchain: onchain.name().to_lowercase(),
        derived: "read failed".into(),
        outcome: Outcome::Unverifiable,
        evidence: vec![format!("{e:#}")],
    })
}

// What the data says about one verdict.
async fn check(ctx: &Ctx, t: Todo) -> anyhow::Result<Finding> {
    let mut f = Finding {
        request_id: t.request_id,
        job_id: t.job_id,
        prover: t.prover.to_string(),
        onchain: t.onchain.name().to_lowercase(),
        derived: String::new(),
        outcome: Outcome::Unverifiable,
        evidence: Vec::new(),
    };
    let Some((hash, block)) = t.submission else {
        f.derived = "no submission".into();
        f.outcome = Outcome::Disagrees;
        f.evidence.push(
            "the chain has no ProofSubmitted event for this lease: a verdict on nothing".into(),
        );
        return Ok(f);
    };
    f.evidence.push(format!("proof hash {}", hex0x(&hash.0)));
    let submitted_at = ctx.time(block).await?;
    if t.onchain == Verdict::Missing {
        // Missing is the relayer's word unless it says itself that the bytes came before the
        // deadline passed (the contract takes Missing from `submittedAt + upload` on).
        let deadline: u64 = rpc(ctx.coord.deadlinesAt(U256::from(submitted_at)).call())
            .await?
            .uploadDeadline
            .try_into()
            .map_err(|_| anyhow!("an upload deadline past 2^64 s"))?;
        let due = submitted_at.saturating_add(deadline);
        match ctx.api.upload_info(&hash.0).await? {
            Some(Some(at)) if at < due => {
                f.derived = "uploaded in time".into();
                f.outcome = Outcome::Disagrees;
                f.evidence.push(format!(
                    "the relayer says the bytes arrived at chain time {at}, before the upload deadline {due} (submitted at {submitted_at} + {deadline} s)"
                ));
                f.evidence.push(format!(
                    "check: GET {}/v1/uploads/{}",
                    ctx.api.base(),
                    hex0x(&hash.0)
                ));
            }
            Some(Some(_)) => {
                f.derived = "uploaded late".into();
                f.outcome = Outcome::Agrees;
            }
            // Recorded before upload times were kept.
            Some(None) => {
                f.derived = "upload time unknown".into();
                f.evidence
                    .push("the relayer has the upload on record without its time".into());
            }
            None if ctx.api.proof_if_served(&hash.0).await?.is_some() => {
                f.derived = "bytes, no record".into();
                f.evidence.push(
                    "the relayer serves the bytes but has no record of when they came".into(),
                );
            }
            None => {
                f.derived = "no upload".into();
                f.outcome = Outcome::Agrees;
                f.evidence.push(
                    "no upload on record: the relayer's word (only the prover can show otherwise)"
                        .into(),
                );
            }
        }
        return Ok(f);
    }

    // Valid or Invalid: the proof itself decides, for the statement the chain committed to.
    let batch = ctx.batch_of(t.job_id).await?;
    // Data the relayer does not serve: past its audit window nobody can tell; within it, it is
    // withheld evidence.
    let missing_data = async |f: &mut Finding, what: String| -> anyhow::Result<()> {
        f.derived = "not served".into();
        if ctx.must_serve(batch.batch_id).await? {
            f.outcome = Outcome::Disagrees;
            f.evidence.push(format!(
                "the relayer withholds {what} within its audit window ({} s after batch {}'s final proof)",
                ctx.audit_window, batch.batch_id
            ));
        } else {
            f.evidence.push(format!(
                "the relayer no longer serves {what} (batch {} is past its audit window)",
                batch.batch_id
            ));
        }
        Ok(())
    };

    if batch.circuit != ctx.round0 {
        bail!(
            "batch {} uses round-0 circuit {}, not the {} circuits' {}: run with the right --params",
            batch.batch_id,
            hex0x(&batch.circuit),
            ctx.params,
            hex0x(&ctx.round0)
        );
    }
    let Some(shape) = TreeShape::new(batch.leaf_count) else {
        bail!("batch {} has no leaves", batch.batch_id);
    };
    let index = t
        .job_id
        .checked_sub(batch.first_job)
        .ok_or_else(|| anyhow!("job {} is before batch {}", t.job_id, batch.batch_id))?;
    let Some(node) = u32::try_from(index).ok().and_then(|i| shape.locate(i)) else {
        bail!("job {} is not in batch {}", t.job_id, batch.batch_id);
    };
    let Some(info) = ctx.api.job_if_served(t.job_id).await? else {
        missing_data(&mut f, format!("job {}'s statement", t.job_id)).await?;
        return Ok(f);
    };
    let kind = JobKind::at_level(node.level);
    // A leaf's witness is hashed into its leaf; a node's (its children's proofs) is not.
    let witness = if kind == JobKind::Round0 {
        match ctx.api.witness_if_served(t.job_id).await? {
            Some(w) => w,
            None => {
                missing_data(&mut f, format!("job {}'s witness", t.job_id)).await?;
                return Ok(f);
            }
        }
    } else {
        Vec::new()
    };
    let served = check_leaf(
        &info, &witness, t.job_id, index, kind, node.level, batch.root,
    )
    .and_then(|()| {
        if info.params == ctx.params {
            Ok(())
        } else {
            Err(format!(
                "it names parameter set {} for a batch of the {} circuits",
                info.params, ctx.params
            ))
        }
    });
    if let Err(why) = served {
        f.derived = "bad statement".into();
        f.outcome = Outcome::Disagrees;
        f.evidence.push(format!(
            "the relayer serves job {} a statement the chain did not commit to: {why}",
            t.job_id
        ));
        return Ok(f);
    }
    let statement: Statement = info.statement.into();
    f.evidence.push(format!(
        "statement {} (job {}, level {}, batch {} root {})",
        serde_json::to_string(&info.statement).unwrap_or_default(),
        t.job_id,
        node.level,
        batch.batch_id,
        hex0x(&batch.root)
    ));
    let Some(bytes) = ctx.api.proof_if_served(&hash.0).await? else {
        missing_data(&mut f, "the proof's bytes".into()).await?;
        return Ok(f);
    };
    if keccak256(&bytes) != hash.0 {
        f.derived = "wrong bytes".into();
        f.outcome = Outcome::Disagrees;
        f.evidence
            .push("the relayer serves bytes under this hash that do not hash to it".into());
        return Ok(f);
    }
    let expected = PublicInputs {
        statement,
        job_id: t.job_id,
        prover: ProverAddress(t.prover.0.0),
    };
    let (params, level) = (ctx.params, node.level);
    let answer = tokio::task::spawn_blocking(move || {
        Circuits::shared(params)
            .verify(&bytes, level, &expected)
            .map_err(|e| e.to_string())
    })
    .await
    .context("the verifier thread failed")?;
    let derived = match &answer {
        Ok(()) => Verdict::Valid,
        Err(_) => Verdict::Invalid,
    };
    f.derived = derived.name().to_lowercase();
    f.evidence.push(format!(
        "the verifier ({params} circuits) answers: {}",
        match &answer {
            Ok(()) => "the proof verifies".to_string(),
            Err(e) => format!("the proof does not verify: {e}"),
        }
    ));
    f.evidence.push(format!(
        "check: GET {}/v1/proofs/{}",
        ctx.api.base(),
        hex0x(&hash.0)
    ));
    f.outcome = if derived == t.onchain {
        Outcome::Agrees
    } else {
        Outcome::Disagrees
    };
    Ok(f)
}
