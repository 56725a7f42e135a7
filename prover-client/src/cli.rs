//! The `crowdprove-prover` command line: stake, run the proving loop, get paid. It lives in the
//! library so that other binaries (the `crowdprove` devnet) can run it as a subcommand.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::U256;
use clap::{Args, Parser, Subcommand};

use crowdprove_circuits::backend::{Backend, choose};
use crowdprove_protocol::ParamSet;

use crate::commands;
use crate::config::Connection;
use crate::runner::{RunConfig, Runner};

#[derive(Parser)]
#[command(
    name = "crowdprove-prover",
    version,
    about = "Prove a rollup's jobs for CrowdProve and get paid"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add tokens to your bond (approves the Coordinator first if needed).
    Stake {
        /// Tokens to stake, e.g. 20 or 2.5.
        amount: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// Start unbonding part of your free bond.
    Unstake {
        /// Tokens to unbond.
        amount: String,
        #[command(flatten)]
        conn: Connection,
    },
    /// Withdraw your earnings and any unbonded stake that is ready.
    Withdraw {
        #[command(flatten)]
        conn: Connection,
    },
    /// Show your bond, leases, earnings and the network's queue.
    Status {
        #[command(flatten)]
        conn: Connection,
    },
    /// Run the proving loop.
    Run(RunArgs),
    /// Check the relayer: re-derive its verdicts (a batch's, a prover's or a block range's)
    /// from the chain and the data it serves; exits 2 if any disagrees.
    Audit(crate::audit::AuditArgs),
    /// Prove sample jobs locally and print seconds per job and earnings per day.
    Bench {
        /// Sample jobs to prove.
        #[arg(long, default_value_t = 3)]
        jobs: u32,
        /// Parameter set: small, default or paper.
        #[arg(long, env = "CROWDPROVE_PARAMS", default_value = "default")]
        params: ParamSet,
        /// Price the earnings at this reward per job (token units) instead of the chain's.
        #[arg(long)]
        reward: Option<String>,
        /// Also prove on this backend (gpu or auto) and print its times next to the CPU's.
        #[arg(long, env = "CROWDPROVE_BACKEND", default_value = "cpu")]
        backend: Backend,
        #[command(flatten)]
        conn: Connection,
    },
    /// The proving worker the run loop starts (internal).
    #[command(hide = true)]
    Worker {
        #[arg(long)]
        params: ParamSet,
        #[arg(long, default_value = "cpu")]
        backend: Backend,
        #[arg(long)]
        circuits: Option<std::path::PathBuf>,
    },
    /// The built-in chunk prover as an external command (a circuit registry's `prove`):
    /// proves WITNESS for the job INPUTS names and writes PROOF.
    ProveChunk {
        /// Parameter set: small, default or paper.
        #[arg(long, env = "CROWDPROVE_PARAMS", default_value = "default")]
        params: ParamSet,
        /// The chunk witness file.
        witness: std::path::PathBuf,
        /// The inputs JSON (circuit id, job id, prover, statement).
        inputs: std::path::PathBuf,
        /// Where to write the proof.
        proof: std::path::PathBuf,
    },
    /// The built-in chunk verifier as an external command (a circuit registry's `verify`):
    /// exits 0 if PROOF is valid for INPUTS, 10 if not, 2 if it cannot tell.
    VerifyChunk {
        /// Parameter set: small, default or paper.
        #[arg(long, env = "CROWDPROVE_PARAMS", default_value = "default")]
        params: ParamSet,
        /// The proof file.
        proof: std::path::PathBuf,
        /// The inputs JSON.
        inputs: std::path::PathBuf,
    },
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    conn: Connection,
    /// The relayer's API.
    #[arg(
        long,
        env = "RELAYER_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8700"
    )]
    relayer_url: String,
    /// Stop after delivering this many proofs (0: run until stopped).
    #[arg(long, default_value_t = 0)]
    max_jobs: u64,
    /// Threads to prove with (default: all cores).
    #[arg(long, env = "PROVER_THREADS")]
    threads: Option<usize>,
    /// Where finished proofs are kept until the relayer has them.
    #[arg(
        long,
        env = "PROVER_DATA_DIR",
        value_name = "DIR",
        default_value = "prover-data"
    )]
    data_dir: PathBuf,
    /// Parameter set of the circuits to build: small, default or paper (must match the relayer's).
    #[arg(long, env = "CROWDPROVE_PARAMS", default_value = "default")]
    params: ParamSet,
    /// A circuit registry (TOML): round-0 jobs of the circuits it gives an external prover
    /// are leased too, and proven by that prover's command (docs/operator.md).
    #[arg(long, env = "CROWDPROVE_CIRCUITS", value_name = "FILE")]
    circuits: Option<PathBuf>,
    /// Where proofs' commitments (LDEs and Merkle trees) are made: cpu, gpu (any adapter, or
    /// fail) or auto (a hardware GPU that passes its self-test and beats the CPU, else the CPU).
    #[arg(long, env = "CROWDPROVE_BACKEND", default_value = "cpu")]
    backend: Backend,
    /// Jobs to lease ahead of the one being proven, so chain and network latency hide behind
    /// proving.
    #[arg(long, default_value_t = 1)]
    prefetch: usize,
    /// Consecutive job failures (witnesses refused, proofs judged Missing) after which leasing
    /// pauses for the cool-down. A failure of the client itself (its own proof does not verify,
    /// or was judged invalid; its circuits are not the batch's) stops leasing for good.
    #[arg(long, default_value_t = 3)]
    max_failures: u32,
    /// Seconds leasing stays paused once the breaker trips.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    breaker_cooldown_secs: u64,
    /// Do not keep a warm spare proving worker (saves its memory; a dropped job then waits
    /// for the circuits to be rebuilt).
    #[arg(long, env = "PROVER_NO_SPARE_WORKER")]
    no_spare_worker: bool,
    /// Log JSON lines, a progress line every 30 s, and print the summary as JSON: for running
    /// under a supervisor.
    #[arg(long)]
    json: bool,
    /// Build the aggregation circuits up to this tree level before leasing (seconds per
    /// level), so that a first job of a level is not held while they are built; 0: build each
    /// on first use. 3 covers trees of up to 8 chunks; higher levels are built when met.
    #[arg(long, env = "PROVER_WARM_LEVELS", default_value_t = 3)]
    warm_levels: u8,
    /// How often to look at the chain, in milliseconds.
    #[arg(long, default_value_t = 500)]
    poll_ms: u64,
    /// Wei per token base unit, to warn when a reward no longer covers the gas.
    #[arg(long, default_value_t = 1.0)]
    eth_per_token: f64,
    /// Warn when the account's ETH falls below this many wei.
    #[arg(long, default_value = "10000000000000000")]
    min_eth: U256,
}

/// Runs the command line with the process's arguments and exits.
pub fn main() -> ! {
    main_from(std::env::args_os())
}

/// Runs the command line with `args` (the first is the program name) and exits.
pub fn main_from<I, T>(args: I) -> !
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let _ = dotenvy::dotenv();
    let cli = Cli::parse_from(args);
    match &cli.command {
        Command::Worker {
            params,
            backend,
            circuits,
        } => {
            if let Err(e) = crate::worker::serve(*params, *backend, circuits.as_deref()) {
                eprintln!("crowdprove-prover worker: {e:#}");
                std::process::exit(1);
            }
            std::process::exit(0);
        }
        Command::ProveChunk {
            params,
            witness,
            inputs,
            proof,
        } => match crate::external::prove_chunk(*params, witness, inputs, proof) {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("crowdprove-prover prove-chunk: {e:#}");
                std::process::exit(2);
            }
        },
        Command::VerifyChunk {
            params,
            proof,
            inputs,
        } => match crate::external::verify_chunk(*params, proof, inputs) {
            Ok(Ok(())) => std::process::exit(0),
            Ok(Err(why)) => {
                println!("{why}");
                std::process::exit(crowdprove_circuits::registry::EXIT_INVALID);
            }
            Err(e) => {
                eprintln!("crowdprove-prover verify-chunk: {e:#}");
                std::process::exit(2);
            }
        },
        _ => {}
    }
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // wgpu warns about every optional Vulkan extension and windowing system a headless
    // machine lacks; its errors still show, and RUST_LOG naming it says otherwise.
    if !std::env::var("RUST_LOG").is_ok_and(|v| v.contains("wgpu")) {
        for quiet in ["wgpu_hal=error", "wgpu_core=error", "naga=error"] {
            filter = filter.add_directive(quiet.parse().expect("a valid directive"));
        }
    }
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if matches!(&cli.command, Command::Run(a) if a.json) {
        logs.json().init();
    } else {
        logs.init();
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    match runtime.block_on(run(cli.command)) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("crowdprove-prover: {e:#}");
            std::process::exit(1);
        }
    }
}

async fn run(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Stake { amount, conn } => commands::stake(&conn.connect().await?, &amount).await?,
        Command::Unstake { amount, conn } => {
            commands::unstake(&conn.connect().await?, &amount).await?
        }
        Command::Withdraw { conn } => commands::withdraw(&conn.connect().await?).await?,
        Command::Status { conn } => commands::status(&conn.connect().await?).await?,
        Command::Bench {
            jobs,
            params,
            reward,
            backend,
            conn,
        } => {
            let reward = match reward {
                Some(r) => Some((commands::parse_amount(&r, 18)?, 18)),
                None if conn.chain.coordinator.is_some() => bench_reward(&conn).await,
                None => None,
            };
            tokio::task::spawn_blocking(move || commands::bench(params, jobs, reward, backend))
                .await??;
        }
        Command::Run(args) => return run_loop(args).await,
        Command::Audit(args) => return audit(&args).await,
        Command::Worker { .. } | Command::ProveChunk { .. } | Command::VerifyChunk { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
    Ok(0)
}

/// Runs `audit` and prints its report; the exit code is 2 on any disagreement (and, with
/// `--strict`, on any verdict that cannot be checked).
pub async fn audit(args: &crate::audit::AuditArgs) -> anyhow::Result<i32> {
    use crate::audit::Outcome;
    let report = crate::audit::audit(args).await?;
    report.print(&mut std::io::stdout().lock())?;
    let failed = report.with(Outcome::Disagrees).next().is_some()
        || (args.strict && report.with(Outcome::Unverifiable).next().is_some());
    Ok(if failed { 2 } else { 0 })
}

async fn bench_reward(conn: &Connection) -> Option<(U256, u8)> {
    let c = conn.connect().await.ok()?;
    let (next_batch, _) = c
        .coordinator
        .nextIds()
        .call()
        .await
        .ok()
        .map(|r| (r.nextBatchId, r.nextJobId))?;
    let latest = next_batch.checked_sub(1).filter(|&b| b > 0)?;
    let b = c.coordinator.batch(latest).call().await.ok()?;
    Some((b.rewardPerJob.to(), 18))
}

async fn run_loop(args: RunArgs) -> anyhow::Result<i32> {
    let conn = args.conn.connect().await?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    // Chosen here, once, so a bad choice is one clear error before anything is leased; the
    // workers are then told what was chosen.
    let backend = {
        let params = args.params;
        let chosen = tokio::task::spawn_blocking(move || choose(args.backend)).await??;
        // (Not "proving ...": scripts and tests read that word as a job being proven.)
        match &chosen.fallback {
            Some(_) => tracing::warn!(%params, "backend {chosen}"),
            None => tracing::info!(%params, "backend {chosen}"),
        }
        chosen.backend()
    };
    // Read now, so that a malformed registry is one clear error before anything is leased.
    let external = match &args.circuits {
        Some(path) => crowdprove_circuits::registry::Registry::load(path)?
            .entries()
            .filter_map(|(_, e)| match e {
                crowdprove_circuits::registry::Entry::External(x) => Some(x.id.0),
                crowdprove_circuits::registry::Entry::Builtin(_) => None,
            })
            .collect(),
        None => Vec::new(),
    };
    let cfg = RunConfig {
        circuits: args.circuits,
        external,
        params: args.params,
        backend,
        threads,
        data_dir: args.data_dir,
        relayer_url: args.relayer_url,
        max_jobs: args.max_jobs,
        prefetch: args.prefetch,
        max_failures: args.max_failures.max(1),
        cooldown: Duration::from_secs(args.breaker_cooldown_secs),
        warm_levels: args.warm_levels,
        spare_worker: !args.no_spare_worker,
        plain_progress: args.json,
        poll: Duration::from_millis(args.poll_ms.max(50)),
        eth_per_token: args.eth_per_token,
        min_eth: args.min_eth,
    };
    tracing::info!(prover = %conn.address, params = %cfg.params, threads, "starting");
    let (stop_tx, stop) = tokio::sync::watch::channel(0u8);
    tokio::spawn(async move {
        for level in 1..=2u8 {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            let _ = stop_tx.send(level);
        }
    });
    let summary = Runner::new(cfg, conn)?.run(stop).await?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        println!("{}", summary.line());
    }
    if let Some(reason) = summary.breaker {
        eprintln!("crowdprove-prover: leasing stopped or paused: {reason}");
        return Ok(2);
    }
    Ok(0)
}
