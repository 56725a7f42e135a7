//! `crowdprove-relayer`: the operator's service. `crowdprove-relayer run` (the default) runs it;
//! `crowdprove-relayer cancel <BATCH_ID>` cancels a batch and refunds its unspent escrow.

use clap::{Parser, Subcommand};

use crowdprove_relayer::RelayerConfig;

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

fn main() {
    let _ = dotenvy::dotenv();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("crowdprove-relayer: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(cfg) => {
            let handle = crowdprove_relayer::start(cfg).await?;
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
            let tx = crowdprove_relayer::cancel_batch(&cfg, batch_id).await?;
            println!(
                "batch {batch_id} cancelled in transaction {}",
                crowdprove_protocol::hex0x(&tx)
            );
            Ok(())
        }
    }
}
