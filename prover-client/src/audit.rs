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
use crowdprove_protocol::{JobKind, RequestId, Statement, TreeShape, Verdict, hex0x, keccak256};

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
    /// The verdict is what the data says.
    Agrees,
    /// The verdict contradicts the data (or the relayer served data the chain did not commit
    /// to): the evidence says why.
    Disagrees,
    /// The data needed is not served (pruned past the audit window, or never uploaded).
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
    let code = provider.get_code_at(args.coordinator).await?;
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

    let verdicts = logs(
        &provider,
        args.coordinator,
        Coordinator::VerdictRecorded::SIGNATURE_HASH,
        from,
        to,
    )
    .await?;
    // Each lease's submission, from the chain's start: a verdict can judge one made before
    // the audited range. One per lease; a reorg leaves the last.
    let mut submissions: HashMap<u64, (B256, u64)> = HashMap::new();
    for log in logs(
        &provider,
        args.coordinator,
        Coordinator::ProofSubmitted::SIGNATURE_HASH,
        0,
        to,
    )
    .await?
    {
        if let (Ok(e), Some(block)) = (
            Coordinator::ProofSubmitted::decode_log(&log.inner),
            log.block_number,
        ) {
            submissions.insert(e.data.requestId, (e.data.proofHash, block));
        }
    }
    let done: HashSet<u64> = match &args.resume {
        Some(path) => read_resume(path)?
            .into_iter()
            .map(|f| f.request_id)
            .collect(),
        None => HashSet::new(),
    };

    let ctx = Arc::new(Ctx {
        coord,
        provider,
        api: RelayerApi::new(&args.relayer, Duration::from_secs(10)),
        batches: Mutex::new(HashMap::new()),
        times: Mutex::new(HashMap::new()),
    });
    let mut todo = Vec::new();
    for log in &verdicts {
        let Ok(e) = Coordinator::VerdictRecorded::decode_log(&log.inner) else {
            continue;
        };
        let v = e.data;
        if args.prover.is_some_and(|p| p != v.prover) || done.contains(&v.requestId) {
            continue;
        }
        let job_id = RequestId(v.requestId).job();
        if let Some(b) = args.batch {
            if ctx.batch_of(job_id).await?.batch_id != b {
                continue;
            }
        }
        todo.push(Todo {
            request_id: v.requestId,
            job_id,
            prover: v.prover,
            onchain: Verdict::try_from(v.result).map_err(|e| anyhow!("{e}"))?,
            submission: submissions.get(&v.requestId).copied(),
        });
    }

    let bar = indicatif::ProgressBar::new(todo.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("auditing {bar:30} {pos}/{len} verdicts {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut resume = match &args.resume {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?,
        ),
        None => None,
    };
    let mut findings = match &args.resume {
        Some(path) => read_resume(path)?,
        None => Vec::new(),
    };
    let mut running = tokio::task::JoinSet::new();
    let mut queue = todo.into_iter();
    loop {
        while running.len() < args.concurrency.max(1) {
            let Some(t) = queue.next() else { break };
            let ctx = ctx.clone();
            running.spawn(async move { check(&ctx, t).await });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let finding = joined.context("an audit task failed")??;
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

// Logs of one event of the Coordinator in [from, to], fetched in ranges an RPC accepts.
async fn logs(
    provider: &DynProvider,
    address: Address,
    signature: B256,
    from: u64,
    to: u64,
) -> anyhow::Result<Vec<Log>> {
    const RANGE: u64 = 10_000;
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + RANGE - 1).min(to);
        let filter = Filter::new()
            .address(address)
            .event_signature(signature)
            .from_block(start)
            .to_block(end);
        out.extend(provider.get_logs(&filter).await.with_context(|| {
            format!("reading the Coordinator's events in blocks {start}..={end}")
        })?);
        start = end + 1;
    }
    Ok(out)
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
    first_job: u64,
    leaf_count: u32,
}

struct Ctx {
    coord: Coordinator::CoordinatorInstance<DynProvider>,
    provider: DynProvider,
    api: RelayerApi,
    batches: Mutex<HashMap<u64, BatchFacts>>,
    times: Mutex<HashMap<u64, u64>>,
}

impl Ctx {
    // The batch of `job_id`, from the chain (cached per batch).
    async fn batch_of(&self, job_id: u64) -> anyhow::Result<BatchFacts> {
        let id = job_id
            .try_into()
            .map_err(|_| anyhow!("job id {job_id} out of range"))?;
        let job = self.coord.job(id).call().await?;
        let batch_id = u64::from(job.batchId);
        if let Some(b) = self.batches.lock().await.get(&batch_id) {
            return Ok(*b);
        }
        let b = self.coord.batch(job.batchId).call().await?;
        let facts = BatchFacts {
            batch_id,
            root: b.witnessRoot.0,
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
        let b = self
            .provider
            .get_block_by_number(block.into())
            .await?
            .ok_or_else(|| anyhow!("block {block} not found"))?;
        self.times.lock().await.insert(block, b.header.timestamp);
        Ok(b.header.timestamp)
    }
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
        // Missing is right unless the relayer itself says the bytes came in time.
        let deadline: u64 = ctx
            .coord
            .deadlinesAt(U256::from(submitted_at))
            .call()
            .await?
            .uploadDeadline
            .to();
        let due = submitted_at + deadline;
        match ctx.api.upload_info(&hash.0).await? {
            Some(at) if at <= due => {
                f.derived = "uploaded in time".into();
                f.outcome = Outcome::Disagrees;
                f.evidence.push(format!(
                    "the relayer says the bytes arrived at chain time {at}, the upload deadline was {due} (submitted at {submitted_at} + {deadline} s)"
                ));
                f.evidence.push(format!(
                    "check: GET {}/v1/uploads/{}",
                    ctx.api.base(),
                    hex0x(&hash.0)
                ));
            }
            // Late or never: Missing stands.
            _ => {
                f.derived = "missing".into();
                f.outcome = Outcome::Agrees;
            }
        }
        return Ok(f);
    }

    // Valid or Invalid: the proof itself decides.
    let batch = ctx.batch_of(t.job_id).await?;
    let Some(shape) = TreeShape::new(batch.leaf_count) else {
        bail!("batch {} has no leaves", batch.batch_id);
    };
    let index = t.job_id - batch.first_job;
    let Some(node) = u32::try_from(index).ok().and_then(|i| shape.locate(i)) else {
        bail!("job {} is not in batch {}", t.job_id, batch.batch_id);
    };
    let info = match ctx.api.job_if_served(t.job_id).await? {
        Some(info) => info,
        None => {
            f.derived = "no statement".into();
            f.evidence.push(format!(
                "the relayer no longer serves job {} (past its audit window?)",
                t.job_id
            ));
            return Ok(f);
        }
    };
    let kind = JobKind::at_level(node.level);
    // A leaf's witness is hashed into its leaf; a node's (its children's proofs) is not.
    let witness = if kind == JobKind::Round0 {
        match ctx.api.witness_if_served(t.job_id).await? {
            Some(w) => w,
            None => {
                f.derived = "no witness".into();
                f.evidence.push(format!(
                    "the relayer no longer serves job {}'s witness",
                    t.job_id
                ));
                return Ok(f);
            }
        }
    } else {
        Vec::new()
    };
    if let Err(why) = check_leaf(
        &info, &witness, t.job_id, index, kind, node.level, batch.root,
    ) {
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
        f.derived = "no bytes".into();
        f.evidence
            .push("the relayer no longer serves the proof's bytes".into());
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
    let params = info.params;
    let level = node.level;
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
