//! The `crowdprove-relayer` command line: `run` runs the service; `cancel <BATCH_ID>` cancels
//! a batch and refunds its unspent escrow. Shared by the binary and by `crowdprove relayer`
//! (the devnet's program, which runs the relayer as its own process for the crash tests).

use clap::{Parser, Subcommand};

use crate::RelayerConfig;

#[derive(Parser)]
#[command(
    name = "crowdprove-relayer",
    version,
    about = "CrowdProve relayer: posts batches, verifies proofs, posts verdicts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the relayer: follow the chain, serve the API, post batches and verdicts.
    Run(RelayerConfig),
    /// Cancel a batch: its fresh jobs are never leased and its unspent escrow comes back.
    Cancel {
        /// The batch to cancel.
        batch_id: u32,
        #[command(flatten)]
        cfg: RelayerConfig,
    },
}

/// Parses `args` (the program name first) and runs the command; exits the process.
pub fn main_from<I, T>(args: I) -> !
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse_from(args);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("crowdprove-relayer: {e:#}");
        std::process::exit(1);
    }
    std::process::exit(0)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(cfg) => {
            let handle = crate::start(cfg).await?;
            let cancel = handle.cancel_token();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                tracing::info!("stopping (Ctrl-C)");
                cancel.cancel();
            });
            handle.wait().await;
            Ok(())
        }
        Command::Cancel { batch_id, cfg } => {
            let tx = crate::cancel_batch(&cfg, batch_id).await?;
            println!(
                "batch {batch_id} cancelled in transaction {}",
                crowdprove_protocol::hex0x(&tx)
            );
            Ok(())
        }
    }
}
