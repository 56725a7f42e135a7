//! The relayer's configuration: flags with environment fallbacks (and `.env`, read by the
//! binary). Secrets are never printed.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use clap::Args;

use crowdprove_circuits::ParamSet;

/// A private key that never shows in logs or `Debug` output.
#[derive(Clone)]
pub struct SecretKey(pub PrivateKeySigner);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({})", self.0.address())
    }
}

impl FromStr for SecretKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .parse::<PrivateKeySigner>()
            .map(SecretKey)
            .map_err(|_| "not a 32-byte hex private key".to_string())
    }
}

/// Where round-0 batches come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// The demo rollup's seeded sequencer.
    Demo,
    /// Batches dropped into a directory by an external rollup.
    Directory(PathBuf),
}

impl FromStr for SourceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(SourceSpec::Demo),
            _ => s
                .strip_prefix("dir:")
                .map(|p| SourceSpec::Directory(p.into()))
                .ok_or_else(|| "expected `demo` or `dir:<path>`".to_string()),
        }
    }
}

/// Where final proofs go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SinkSpec {
    /// Files in a directory.
    Directory(PathBuf),
    /// An HTTP POST of JSON to a URL.
    Webhook(String),
}

impl FromStr for SinkSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(p) = s.strip_prefix("dir:") {
            Ok(SinkSpec::Directory(p.into()))
        } else if let Some(u) = s.strip_prefix("webhook:") {
            Ok(SinkSpec::Webhook(u.to_string()))
        } else {
            Err("expected `dir:<path>` or `webhook:<url>`".to_string())
        }
    }
}

/// Everything the relayer needs to run.
#[derive(Clone, Debug, Args)]
pub struct RelayerConfig {
    /// JSON-RPC endpoint of the chain.
    #[arg(
        long,
        env = "RPC_URL",
        value_name = "URL",
        default_value = "http://127.0.0.1:8545"
    )]
    pub rpc_url: String,
    /// The relayer's private key (hex); it must be the Coordinator's relayer and hold the reward
    /// tokens. Never logged.
    #[arg(long, env = "RELAYER_KEY", value_name = "HEX", hide_env_values = true)]
    pub relayer_key: SecretKey,
    /// The Coordinator contract.
    #[arg(long, env = "COORDINATOR", value_name = "ADDRESS")]
    pub coordinator: Address,
    /// The block the Coordinator was deployed in: events are read from there.
    #[arg(long, env = "FROM_BLOCK", value_name = "N", default_value_t = 0)]
    pub from_block: u64,
    /// Address the HTTP API listens on.
    #[arg(
        long,
        env = "RELAYER_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8700"
    )]
    pub listen: SocketAddr,
    /// The SQLite database (a cache: deleting it loses nothing).
    #[arg(
        long,
        env = "RELAYER_DB",
        value_name = "PATH",
        default_value = "relayer-data/relayer.sqlite"
    )]
    pub db: PathBuf,
    /// The blob store: a directory, or `s3://bucket/prefix` (credentials from AWS_* variables).
    #[arg(
        long,
        env = "RELAYER_BLOBS",
        value_name = "LOCATION",
        default_value = "relayer-data/blobs"
    )]
    pub blobs: String,
    /// Parameter set of the circuits.
    #[arg(
        long,
        env = "CROWDPROVE_PARAMS",
        value_name = "SET",
        default_value = "default"
    )]
    pub params: ParamSet,
    /// Job source: `demo` (the seeded demo rollup) or `dir:<path>`.
    #[arg(
        long,
        env = "JOB_SOURCE",
        value_name = "SOURCE",
        default_value = "demo"
    )]
    pub source: SourceSpec,
    /// Seed of the demo rollup.
    #[arg(long, env = "DEMO_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Chunks (round-0 jobs) per demo batch.
    #[arg(long, env = "CHUNKS_PER_BATCH", default_value_t = 4)]
    pub chunks: u32,
    /// Round-0 batches to post from the demo source in all (0: no limit).
    #[arg(long, env = "BATCHES", default_value_t = 0)]
    pub batches: u64,
    /// Round-0 batches of ours that may be open (posted, not finalized) at once.
    #[arg(long, env = "MAX_OPEN_BATCHES", default_value_t = 1)]
    pub max_open_batches: u64,
    /// Reward per round-0 job, in token base units.
    #[arg(
        long,
        env = "REWARD",
        value_name = "WEI",
        default_value = "1000000000000000000"
    )]
    pub reward: U256,
    /// Reward per aggregation job, in token base units.
    #[arg(
        long,
        env = "AGGREGATION_REWARD",
        value_name = "WEI",
        default_value = "1000000000000000000"
    )]
    pub aggregation_reward: U256,
    /// Post verdicts once this many are ready...
    #[arg(long, env = "VERDICT_BATCH", default_value_t = 32)]
    pub verdict_batch: usize,
    /// ...or once the oldest has waited this long (milliseconds).
    #[arg(long, env = "VERDICT_MAX_AGE_MS", default_value_t = 2000)]
    pub verdict_max_age_ms: u64,
    /// Blocks an event must be under before it is acted on.
    #[arg(long, env = "CONFIRMATIONS", default_value_t = 0)]
    pub confirmations: u64,
    /// How often to poll the chain (milliseconds).
    #[arg(long, env = "POLL_MS", default_value_t = 500)]
    pub poll_ms: u64,
    /// Largest proof upload accepted (bytes).
    #[arg(long, env = "UPLOAD_LIMIT", default_value_t = crowdprove_circuits::MAX_PROOF_BYTES)]
    pub upload_limit: usize,
    /// Requests per second each client may make...
    #[arg(long, env = "RATE_LIMIT", default_value_t = 50)]
    pub rate_limit: u32,
    /// ...with bursts up to this many.
    #[arg(long, env = "RATE_BURST", default_value_t = 200)]
    pub rate_burst: u32,
    /// Seconds after finalization before a batch's witnesses and proofs are pruned (the final
    /// proof and the manifest are kept).
    #[arg(long, env = "RETENTION_SECS", default_value_t = 86_400)]
    pub retention_secs: u64,
    /// Where final proofs go: `dir:<path>` or `webhook:<url>`.
    #[arg(
        long,
        env = "FINAL_SINK",
        value_name = "SINK",
        default_value = "dir:relayer-data/final"
    )]
    pub sink: SinkSpec,
    /// Proof verification workers (default: the number of cores).
    #[arg(long, env = "VERIFY_WORKERS")]
    pub verify_workers: Option<usize>,
}

impl RelayerConfig {
    /// A relayer on a local chain (devnet, tests, benchmarks) that writes everything under
    /// `dir`: the database and the blobs apart (so the database can be deleted and rebuilt
    /// from the chain and the blobs), final proofs in `dir/final`. It listens on a free port,
    /// polls every 100 ms, rate-limits loosely, and otherwise takes the command line's
    /// defaults; callers override what their run needs.
    pub fn local(rpc_url: String, key: PrivateKeySigner, coordinator: Address, dir: &Path) -> Self {
        let token = U256::from(1_000_000_000_000_000_000u64);
        RelayerConfig {
            rpc_url,
            relayer_key: SecretKey(key),
            coordinator,
            from_block: 0,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: dir.join("relayer-db/relayer.sqlite"),
            blobs: dir.join("relayer-blobs").to_string_lossy().into_owned(),
            params: ParamSet::Default,
            source: SourceSpec::Demo,
            seed: 1,
            chunks: 4,
            batches: 0,
            max_open_batches: 1,
            reward: token,
            aggregation_reward: token,
            verdict_batch: 32,
            verdict_max_age_ms: 2_000,
            confirmations: 0,
            poll_ms: 100,
            upload_limit: crowdprove_circuits::MAX_PROOF_BYTES,
            rate_limit: 1_000,
            rate_burst: 1_000,
            retention_secs: 86_400,
            sink: SinkSpec::Directory(dir.join("final")),
            verify_workers: None,
        }
    }
}
