//! `crowdprove`: `crowdprove devnet` runs a local network that proves a real batch with several
//! provers and prints what happened. The hidden `prover` and `worker` subcommands are the prover
//! client and its proving worker, so one program runs every process of the devnet.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crowdprove::devnet::{Devnet, DevnetOptions};
use crowdprove::report;
use crowdprove_protocol::ParamSet;

#[derive(Parser)]
#[command(
    name = "crowdprove",
    version,
    about = "CrowdProve: crowd-sourced proving for zk-rollups"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local devnet: anvil, the Coordinator, a relayer and prover clients proving a batch.
    Devnet(DevnetArgs),
    /// Check a relayer's verdicts against the chain and the data it serves (as
    /// `crowdprove-prover audit`); exits 2 if any disagrees.
    Audit(crowdprove_prover::audit::AuditArgs),
}

#[derive(Args)]
struct DevnetArgs {
    /// Honest prover clients.
    #[arg(long, default_value_t = 4)]
    provers: usize,
    /// Chunks (round-0 jobs) in the batch.
    #[arg(long, default_value_t = 8)]
    chunks: u32,
    /// Circuit parameter set: small, default or paper.
    #[arg(long, default_value = "default")]
    params: ParamSet,
    /// Provers that lease all their bond backs and never submit.
    #[arg(long, default_value_t = 0)]
    hoarders: usize,
    /// Provers that submit invalid proofs.
    #[arg(long, default_value_t = 0)]
    invalid: usize,
    /// Honest clients killed mid-proof and restarted.
    #[arg(long, default_value_t = 0)]
    crashy: usize,
    /// Seed of the demo rollup.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads per prover client (default: every core, as a prover at home runs; one job
    /// left at a tree's top then proves as fast as the machine can).
    #[arg(long, default_value_t = cores())]
    threads: usize,
    /// Working directory (cleared at start).
    #[arg(long, default_value = "devnet-data")]
    dir: PathBuf,
    /// Write the summary as JSON here (e.g. docs/results/devnet.json).
    #[arg(long)]
    json: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 900)]
    timeout_secs: u64,
    /// Leave the devnet up after the batch for manual use with cast and the prover CLI.
    #[arg(long)]
    keep_running: bool,
    /// Mine a block every this many seconds, as an L2 does (default: a block per transaction).
    #[arg(long, value_name = "SECS")]
    block_time: Option<u64>,
    /// After the run, prove one chunk and the top job in turn and print the time one prover
    /// would take for the whole batch next to the makespan.
    #[arg(long)]
    sequential: bool,
    /// The Coordinator's minimum reassign age, seconds (0 = the paper's LRP). On one shared
    /// machine a duplicate proof adds no capacity but takes CPU from the original
    /// (docs/results/devnet.md). It counts in chain time, which the devnet keeps moving with an
    /// empty block every second.
    #[arg(long, default_value_t = 60)]
    min_reassign_age: u32,
    /// The Coordinator's spare attempts: a job leased at most this many times goes at once to
    /// an idle prover that has not lapsed, whatever the minimum age (at most 8; the contract
    /// deploys with 2). 0 here, because on one shared machine a spare takes CPU from the
    /// original (docs/results/devnet.md).
    #[arg(long, default_value_t = 0)]
    spare_attempts: u8,
    /// Kill the relayer (SIGKILL; it runs as its own process then) AT seconds after it posts
    /// the batch and start it again DOWN seconds later, e.g. 20:30: the provers must deliver
    /// every proof across the outage.
    #[arg(long, value_name = "AT:DOWN", value_parser = outage)]
    relayer_outage: Option<(Duration, Duration)>,
}

fn outage(s: &str) -> Result<(Duration, Duration), String> {
    let (at, down) = s
        .split_once(':')
        .ok_or("expected AT:DOWN in seconds, e.g. 20:30")?;
    let secs = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("`{v}` is not a number of seconds"))
    };
    Ok((secs(at)?, secs(down)?))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() {
    // The devnet's clients and workers are this same program.
    let mut args = std::env::args_os();
    let program = args.next();
    let rest: Vec<_> = args.collect();
    match rest.first().and_then(|a| a.to_str()) {
        Some("prover") => crowdprove_prover::cli::main_from(
            std::iter::once("crowdprove-prover".into()).chain(rest.into_iter().skip(1)),
        ),
        Some("worker") => crowdprove_prover::cli::main_from(
            std::iter::once("crowdprove-prover".into()).chain(rest),
        ),
        Some("groth16") => {
            let args: Vec<String> = rest
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            crowdprove_groth16::cli::main_from(&args)
        }
        Some("relayer") => crowdprove_relayer::cli::main_from(
            std::iter::once("crowdprove-relayer".into()).chain(rest.into_iter().skip(1)),
        ),
        _ => {}
    }
    let cli = Cli::parse_from(program.into_iter().chain(rest));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,alloy_rpc_client::poller=off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("crowdprove: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let a = match cli.command {
        Command::Devnet(a) => a,
        Command::Audit(args) => return crowdprove_prover::cli::audit(&args).await,
    };
    let _ = std::fs::remove_dir_all(&a.dir);
    let mut opts = DevnetOptions::new(a.dir.clone());
    opts.provers = a.provers;
    opts.chunks = a.chunks;
    opts.params = a.params;
    opts.hoarders = a.hoarders;
    opts.invalid = a.invalid;
    opts.crashy = a.crashy;
    opts.seed = a.seed;
    opts.prover_threads = a.threads;
    opts.block_time = a.block_time;
    opts.min_reassign_age = a.min_reassign_age;
    opts.spare_attempts = a.spare_attempts;
    opts.relayer_outage = a.relayer_outage;
    opts.spare_workers = a.provers + a.crashy == 1;
    println!(
        "starting a devnet: {} provers ({} hoarders, {} invalid, {} crashy), a batch of {} chunks, {} parameters",
        a.provers + a.hoarders + a.invalid + a.crashy,
        a.hoarders,
        a.invalid,
        a.crashy,
        a.chunks,
        a.params
    );
    let mut devnet = Devnet::start(opts).await?;
    // Provers run before work arrives, as at home: their circuits are built by the time the
    // relayer posts the batch, and the makespan counts from the post.
    devnet.spawn_provers()?;
    println!("the provers are building their circuits");
    devnet.wait_clients_ready(Duration::from_secs(600)).await?;
    let relayer = if a.relayer_outage.is_some() {
        devnet.spawn_relayer_process().await?
    } else {
        devnet.start_relayer().await?
    };
    println!(
        "chain {}  coordinator {}  token {}  relayer {relayer}",
        devnet.rpc_url(),
        devnet.coordinator,
        devnet.token
    );
    println!("status page: {relayer}/  (live; open it in a browser)");
    let outcome = tokio::select! {
        r = devnet.wait_final(1, Duration::from_secs(a.timeout_secs), |p| println!("{p}")) => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    let makespan = match outcome {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            eprintln!(
                "crowdprove: {e:#}; logs in {}",
                a.dir.join("logs").display()
            );
            devnet.shutdown().await;
            return Ok(1);
        }
        None => {
            eprintln!("interrupted; stopping every process the devnet started");
            devnet.shutdown().await;
            return Ok(130);
        }
    };
    println!(
        "final proof recorded on chain after {:.1} s; stopping the provers",
        makespan.as_secs_f64()
    );
    devnet.cancel.cancel();
    devnet.stop_clients().await;
    // Let the relayer deliver the final proof to its sink before reading the summary.
    for _ in 0..50 {
        if devnet.final_proof().is_ok_and(|f| f.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut summary = report::summarize(&devnet, makespan).await?;
    if a.sequential {
        println!("proving one chunk and the top job in turn, for the sequential reference");
        match report::sequential_reference(&devnet).await {
            Ok(q) => summary.sequential = Some(q),
            Err(e) => eprintln!("crowdprove: no sequential reference: {e:#}"),
        }
    }
    println!("\n{}", report::table(&summary));
    if let Some(path) = &a.json {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&summary)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("summary written to {}", path.display());
    }
    if a.keep_running {
        println!(
            "\nthe devnet stays up (Ctrl-C to stop):\n  RPC_URL={}\n  COORDINATOR={}\n  TOKEN={}\n  RELAYER_URL={}\n  status page: {}/\n  operator (owner and relayer): anvil account 0; provers: accounts 1 and up\n  try: crowdprove prover status   (with PROVER_KEY set to an anvil key)\n  check the relayer: crowdprove audit --rpc-url {} --coordinator {} --relayer {} --batch 1",
            devnet.rpc_url(),
            devnet.coordinator,
            devnet.token,
            devnet.relayer_url(),
            devnet.relayer_url(),
            devnet.rpc_url(),
            devnet.coordinator,
            devnet.relayer_url(),
        );
        let _ = tokio::signal::ctrl_c().await;
    }
    let ok = summary.books_balance && summary.final_proof.is_some();
    devnet.shutdown().await;
    Ok(if ok { 0 } else { 1 })
}
