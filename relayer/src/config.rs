//! The relayer's configuration: flags with environment fallbacks (and `.env`, read by the
//! binary). Secrets are never printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use clap::Args;

use crowdprove_bindings::opts::{ChainOpts, Relayer};
use crowdprove_protocol::ParamSet;

/// Where round-0 batches come from.
#[derive(Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// The demo rollup's seeded sequencer.
    Demo,
    /// Batches dropped into a directory by an external rollup.
    Directory(PathBuf),
    /// An operator's PostgreSQL job queue (`postgres://user:password@host:port/db`); the URL
    /// may hold a password, so it travels in the environment, never on a command line.
    Postgres(String),
}

impl std::fmt::Debug for SourceSpec {
    // The PostgreSQL URL's password never shows (configurations are logged and compared).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceSpec::Demo => f.write_str("Demo"),
            SourceSpec::Directory(p) => f.debug_tuple("Directory").field(p).finish(),
            SourceSpec::Postgres(url) => f.debug_tuple("Postgres").field(&redacted(url)).finish(),
        }
    }
}

/// `url` with the password of its `user:password@` part replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

impl FromStr for SourceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(SourceSpec::Demo),
            _ if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                Ok(SourceSpec::Postgres(s.to_string()))
            }
            _ => s
                .strip_prefix("dir:")
                .map(|p| SourceSpec::Directory(p.into()))
                .ok_or_else(|| {
                    "expected `demo`, `dir:<path>` or `postgres://user@host:port/db`".to_string()
                }),
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

/// Defaults, each stated once: the flags' defaults and [`Default`] read these.
mod defaults {
    pub(super) const LISTEN: &str = "127.0.0.1:8700";
    pub(super) const ADMIN_LISTEN: &str = "127.0.0.1:8701";
    pub(super) const DB: &str = "relayer-data/relayer.sqlite";
    pub(super) const BLOBS: &str = "relayer-data/blobs";
    pub(super) const SINK: &str = "dir:relayer-data/final";
    pub(super) const RETENTION_SECS: u64 = 86_400;
    pub(super) const PARAMS: &str = "default";
    pub(super) const SOURCE: &str = "demo";
    pub(super) const SEED: u64 = 1;
    pub(super) const CHUNKS: u32 = 4;
    pub(super) const BATCHES: u64 = 0;
    pub(super) const MAX_OPEN_BATCHES: u64 = 1;
    pub(super) const QUEUE_CIRCUIT_ID: i16 = 0;
    /// zkSync's default for its prover jobs.
    pub(super) const QUEUE_MAX_ATTEMPTS: i16 = 10;
    /// One token of 18 decimals.
    pub(super) const REWARD: &str = "1000000000000000000";
    pub(super) const VERDICT_BATCH: usize = 32;
    pub(super) const VERDICT_MAX_AGE_MS: u64 = 2_000;
    pub(super) const VERDICT_SIBLING_WAIT_MS: u64 = 30_000;
    pub(super) const FROM_BLOCK: u64 = 0;
    pub(super) const POLL_MS: u64 = 500;
    pub(super) const STUCK_AFTER_SECS: u64 = 30;
    pub(super) const RECONCILE_SECS: u64 = 60;
    pub(super) const UPLOAD_LIMIT: usize = crowdprove_circuits::MAX_PROOF_BYTES;
    pub(super) const RATE_LIMIT: u32 = 50;
    pub(super) const RATE_BURST: u32 = 200;
    pub(super) const MAX_CONNECTIONS: usize = 1024;
    pub(super) const MAX_REQUESTS: usize = 128;
    pub(super) const HEADER_TIMEOUT_SECS: u64 = 10;
    pub(super) const REQUEST_TIMEOUT_SECS: u64 = 60;
}

/// How the relayer follows the chain.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Following the chain")]
pub struct FollowOpts {
    /// The block the Coordinator was deployed in: events are read from there.
    #[arg(long, env = "FROM_BLOCK", value_name = "N", default_value_t = defaults::FROM_BLOCK)]
    pub from_block: u64,
    /// Blocks an event must be under before it is acted on. Default by the chain's id: 0 on a
    /// local anvil or hardhat (31337), 12 on Ethereum and its testnets, 2 elsewhere (an L2).
    #[arg(long, env = "CONFIRMATIONS")]
    pub confirmations: Option<u64>,
    /// How often to poll the chain (milliseconds).
    #[arg(long, env = "POLL_MS", default_value_t = defaults::POLL_MS)]
    pub poll_ms: u64,
    /// Seconds one of the relayer's transactions may wait unmined (stuck behind higher fees,
    /// or dropped from the mempool) before it is sent again with a higher fee.
    #[arg(long, env = "STUCK_AFTER_SECS", value_name = "SECS", default_value_t = defaults::STUCK_AFTER_SECS)]
    pub stuck_after_secs: u64,
    /// How often (seconds) the leases the database holds unsubmitted are checked against the
    /// chain, so that a submission that following missed (an RPC node that lost events) is still
    /// judged.
    #[arg(long, env = "RECONCILE_SECS", value_name = "SECS", default_value_t = defaults::RECONCILE_SECS)]
    pub reconcile_secs: u64,
}

impl Default for FollowOpts {
    fn default() -> Self {
        FollowOpts {
            from_block: defaults::FROM_BLOCK,
            confirmations: None,
            poll_ms: defaults::POLL_MS,
            stuck_after_secs: defaults::STUCK_AFTER_SECS,
            reconcile_secs: defaults::RECONCILE_SECS,
        }
    }
}

/// Confirmations an event needs on chain `chain_id` when `--confirmations` is not given: none on
/// a local devnet, where nothing reorganizes; 12 on Ethereum and its testnets (Sepolia, Holesky,
/// Hoodi), whose reorgs are rarely deeper; 2 on any other chain, an L2 whose sequencer orders
/// blocks and reorganizes at most a block or two.
pub fn default_confirmations(chain_id: u64) -> u64 {
    match chain_id {
        31_337 => 0,
        1 | 11_155_111 | 17_000 | 560_048 => 12,
        _ => 2,
    }
}

/// Where the relayer keeps things.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Storage")]
pub struct StoreOpts {
    /// The SQLite database (a cache: deleting it loses nothing).
    #[arg(long, env = "RELAYER_DB", value_name = "PATH", default_value = defaults::DB)]
    pub db: PathBuf,
    /// The blob store: a directory, or `s3://bucket/prefix` (credentials from AWS_* variables).
    #[arg(long, env = "RELAYER_BLOBS", value_name = "LOCATION", default_value = defaults::BLOBS)]
    pub blobs: String,
    /// Where final proofs go: `dir:<path>` or `webhook:<url>`.
    #[arg(long, env = "FINAL_SINK", value_name = "SINK", default_value = defaults::SINK)]
    pub sink: SinkSpec,
    /// Seconds after finalization before a batch's witnesses and proofs are pruned (the final
    /// proof and the manifest are kept).
    #[arg(long, env = "RETENTION_SECS", default_value_t = defaults::RETENTION_SECS)]
    pub retention_secs: u64,
}

impl StoreOpts {
    /// Everything under `dir`: the database and the blobs apart (so the database can be
    /// deleted and rebuilt from the chain and the blobs), final proofs in `dir/final`.
    pub fn under(dir: &Path) -> StoreOpts {
        StoreOpts {
            db: dir.join("relayer-db/relayer.sqlite"),
            blobs: dir.join("relayer-blobs").to_string_lossy().into_owned(),
            sink: SinkSpec::Directory(dir.join("final")),
            ..StoreOpts::default()
        }
    }
}

impl Default for StoreOpts {
    fn default() -> Self {
        StoreOpts {
            db: defaults::DB.into(),
            blobs: defaults::BLOBS.into(),
            sink: defaults::SINK.parse().expect("the default sink parses"),
            retention_secs: defaults::RETENTION_SECS,
        }
    }
}

/// What the relayer posts: where jobs come from and what they pay.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Jobs")]
pub struct JobOpts {
    /// Parameter set of the circuits.
    #[arg(long, env = "CROWDPROVE_PARAMS", value_name = "SET", default_value = defaults::PARAMS)]
    pub params: ParamSet,
    /// Job source: `demo` (the seeded demo rollup), `dir:<path>`, or an operator's PostgreSQL
    /// job queue `postgres://user:password@host:port/db` (docs/operator.md).
    #[arg(long, env = "JOB_SOURCE", value_name = "SOURCE", default_value = defaults::SOURCE,
          hide_env_values = true)]
    pub source: SourceSpec,
    /// Seed of the demo rollup.
    #[arg(long, env = "DEMO_SEED", default_value_t = defaults::SEED)]
    pub seed: u64,
    /// Chunks (round-0 jobs) per demo batch.
    #[arg(long, env = "CHUNKS_PER_BATCH", default_value_t = defaults::CHUNKS)]
    pub chunks: u32,
    /// Round-0 batches to post from the demo source in all (0: no limit).
    #[arg(long, env = "BATCHES", default_value_t = defaults::BATCHES)]
    pub batches: u64,
    /// Batches of ours that may still have fresh round-0 jobs at once; the next is posted
    /// as soon as fewer do (before provers run out of work), with at most twice this many
    /// unfinished.
    #[arg(long, env = "MAX_OPEN_BATCHES", default_value_t = defaults::MAX_OPEN_BATCHES)]
    pub max_open_batches: u64,
    /// Reward per job (round-0 and aggregation alike: one escrow per tree), in token base units.
    #[arg(long, env = "REWARD", value_name = "WEI", default_value = defaults::REWARD)]
    pub reward: U256,
    /// The `circuit_id` of the operator's round-0 jobs that the crowd proves (a PostgreSQL
    /// source's).
    #[arg(long, env = "QUEUE_CIRCUIT_ID", value_name = "ID", default_value_t = defaults::QUEUE_CIRCUIT_ID)]
    pub queue_circuit_id: i16,
    /// Claims of an operator's job before a failure fails it for good (a PostgreSQL source's).
    #[arg(long, env = "QUEUE_MAX_ATTEMPTS", value_name = "N", default_value_t = defaults::QUEUE_MAX_ATTEMPTS)]
    pub queue_max_attempts: i16,
}

impl Default for JobOpts {
    fn default() -> Self {
        JobOpts {
            params: defaults::PARAMS.parse().expect("the default set parses"),
            source: defaults::SOURCE.parse().expect("the default source parses"),
            seed: defaults::SEED,
            chunks: defaults::CHUNKS,
            batches: defaults::BATCHES,
            max_open_batches: defaults::MAX_OPEN_BATCHES,
            reward: defaults::REWARD.parse().expect("the default reward parses"),
            queue_circuit_id: defaults::QUEUE_CIRCUIT_ID,
            queue_max_attempts: defaults::QUEUE_MAX_ATTEMPTS,
        }
    }
}

/// How proofs are judged and verdicts posted.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Verification and verdicts")]
pub struct VerdictOpts {
    /// Post verdicts once this many are ready (1 to the contract's 256 per call)...
    #[arg(long, env = "VERDICT_BATCH", default_value_t = defaults::VERDICT_BATCH,
          value_parser = verdict_batch)]
    pub verdict_batch: usize,
    /// ...or once the oldest has waited this long (milliseconds).
    #[arg(long, env = "VERDICT_MAX_AGE_MS", default_value_t = defaults::VERDICT_MAX_AGE_MS)]
    pub verdict_max_age_ms: u64,
    /// ...but a Valid verdict whose sibling is still open waits up to this long (milliseconds;
    /// at least the maximum age) to ride with the sibling's verdict, which readies their parent
    /// and goes at once: one transaction for both instead of two.
    #[arg(long, env = "VERDICT_SIBLING_WAIT_MS", default_value_t = defaults::VERDICT_SIBLING_WAIT_MS)]
    pub verdict_sibling_wait_ms: u64,
    /// Post a Valid verdict that readies an aggregation node (or completes the top) at once,
    /// without waiting for the batch to fill (`false` only to study or test batching).
    #[arg(long, env = "URGENT_VERDICTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub urgent_verdicts: bool,
    /// Proof verification workers (default: the number of cores).
    #[arg(long, env = "VERIFY_WORKERS")]
    pub verify_workers: Option<usize>,
    /// A circuit registry (TOML): round-0 proofs of the circuits it gives an external verifier
    /// are judged by that verifier's command (docs/operator.md).
    #[arg(long, env = "CIRCUITS", value_name = "FILE")]
    pub circuits: Option<PathBuf>,
    /// Test-only: the request id whose verification panics once (0: none).
    #[cfg(feature = "fault-injection")]
    #[arg(skip)]
    pub panic_verifying: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Test-only: verdicts to lie about (see `crowdprove-prover audit`).
    #[cfg(feature = "fault-injection")]
    #[arg(skip)]
    pub lies: std::sync::Arc<std::sync::Mutex<crate::faults::Lies>>,
}

// More verdicts than `recordVerdicts` takes in one call would make every post revert.
fn verdict_batch(s: &str) -> Result<usize, String> {
    let max = crowdprove_protocol::limits::MAX_VERDICTS_PER_CALL;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be 1 to {max}, the most verdicts the contract takes in one call"
        )),
    }
}

impl Default for VerdictOpts {
    fn default() -> Self {
        VerdictOpts {
            verdict_batch: defaults::VERDICT_BATCH,
            verdict_max_age_ms: defaults::VERDICT_MAX_AGE_MS,
            verdict_sibling_wait_ms: defaults::VERDICT_SIBLING_WAIT_MS,
            urgent_verdicts: true,
            verify_workers: None,
            circuits: None,
            #[cfg(feature = "fault-injection")]
            panic_verifying: Default::default(),
            #[cfg(feature = "fault-injection")]
            lies: Default::default(),
        }
    }
}

/// The HTTP API.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "HTTP API")]
pub struct HttpOpts {
    /// Address the HTTP API listens on.
    #[arg(long, env = "RELAYER_LISTEN", value_name = "ADDR", default_value = defaults::LISTEN)]
    pub listen: SocketAddr,
    /// Address of `/metrics` (and `/healthz`): keep it where only the operator's monitoring
    /// reaches.
    #[arg(long, env = "RELAYER_ADMIN_LISTEN", value_name = "ADDR", default_value = defaults::ADMIN_LISTEN)]
    pub admin_listen: SocketAddr,
    /// Largest proof upload accepted (bytes).
    #[arg(long, env = "UPLOAD_LIMIT", default_value_t = defaults::UPLOAD_LIMIT)]
    pub upload_limit: usize,
    /// Requests per second each client may make...
    #[arg(long, env = "RATE_LIMIT", default_value_t = defaults::RATE_LIMIT)]
    pub rate_limit: u32,
    /// ...with bursts up to this many.
    #[arg(long, env = "RATE_BURST", default_value_t = defaults::RATE_BURST)]
    pub rate_burst: u32,
    /// Open connections served at once; more wait to be accepted.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Requests handled at once; past it a request gets 503 (retryable) at once.
    #[arg(long, env = "MAX_REQUESTS", default_value_t = defaults::MAX_REQUESTS)]
    pub max_requests: usize,
    /// Seconds a connection may take to send a request's headers (or stay idle between
    /// requests) before it is closed.
    #[arg(long, env = "HEADER_TIMEOUT_SECS", value_name = "SECS", default_value_t = defaults::HEADER_TIMEOUT_SECS)]
    pub header_timeout_secs: u64,
    /// Seconds a request may take, its body included, before it gets 408.
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", value_name = "SECS", default_value_t = defaults::REQUEST_TIMEOUT_SECS)]
    pub request_timeout_secs: u64,
}

impl Default for HttpOpts {
    fn default() -> Self {
        HttpOpts {
            listen: defaults::LISTEN
                .parse()
                .expect("the default address parses"),
            admin_listen: defaults::ADMIN_LISTEN
                .parse()
                .expect("the default admin address parses"),
            upload_limit: defaults::UPLOAD_LIMIT,
            rate_limit: defaults::RATE_LIMIT,
            rate_burst: defaults::RATE_BURST,
            max_connections: defaults::MAX_CONNECTIONS,
            max_requests: defaults::MAX_REQUESTS,
            header_timeout_secs: defaults::HEADER_TIMEOUT_SECS,
            request_timeout_secs: defaults::REQUEST_TIMEOUT_SECS,
        }
    }
}

/// Everything the relayer needs to run, in groups (each with its own help heading).
#[derive(Clone, Debug, Args)]
pub struct RelayerConfig {
    /// The chain, the relayer's key and the Coordinator.
    #[command(flatten)]
    pub chain: ChainOpts<Relayer>,
    /// Following the chain.
    #[command(flatten)]
    pub follow: FollowOpts,
    /// Storage.
    #[command(flatten)]
    pub store: StoreOpts,
    /// Jobs and rewards.
    #[command(flatten)]
    pub jobs: JobOpts,
    /// Verification and verdicts.
    #[command(flatten)]
    pub verdicts: VerdictOpts,
    /// The HTTP API.
    #[command(flatten)]
    pub http: HttpOpts,
}

impl RelayerConfig {
    /// A relayer on a local chain (devnet, tests, benchmarks) that writes everything under
    /// `dir` ([`StoreOpts::under`]), listens on a free port, polls every 100 ms and
    /// rate-limits loosely; the rest is the command line's defaults, which callers override
    /// as their run needs.
    pub fn local(rpc_url: String, key: PrivateKeySigner, coordinator: Address, dir: &Path) -> Self {
        RelayerConfig {
            chain: ChainOpts::new(rpc_url, &key, coordinator),
            follow: FollowOpts {
                poll_ms: 100,
                ..FollowOpts::default()
            },
            store: StoreOpts::under(dir),
            jobs: JobOpts::default(),
            verdicts: VerdictOpts::default(),
            http: HttpOpts {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                rate_limit: 1_000,
                rate_burst: 1_000,
                ..HttpOpts::default()
            },
        }
    }

    /// The command line that makes `crowdprove-relayer run` (or `crowdprove relayer run`) run
    /// this configuration in a process of its own, without its secrets: the key goes in the
    /// environment ([`RelayerConfig::secret_env`]), where `ps` does not show it.
    pub fn to_args(&self) -> Vec<String> {
        let sink = match &self.store.sink {
            SinkSpec::Directory(p) => format!("dir:{}", p.display()),
            SinkSpec::Webhook(u) => format!("webhook:{u}"),
        };
        let source = match &self.jobs.source {
            SourceSpec::Demo => Some("demo".to_string()),
            SourceSpec::Directory(p) => Some(format!("dir:{}", p.display())),
            // In the environment: the URL may hold a password.
            SourceSpec::Postgres(_) => None,
        };
        let mut args = vec![
            ("--rpc-url", self.chain.rpc_url.clone()),
            ("--from-block", self.follow.from_block.to_string()),
            ("--poll-ms", self.follow.poll_ms.to_string()),
            (
                "--stuck-after-secs",
                self.follow.stuck_after_secs.to_string(),
            ),
            ("--reconcile-secs", self.follow.reconcile_secs.to_string()),
            ("--db", self.store.db.display().to_string()),
            ("--blobs", self.store.blobs.clone()),
            ("--sink", sink),
            ("--retention-secs", self.store.retention_secs.to_string()),
            ("--params", self.jobs.params.name().to_string()),
            ("--seed", self.jobs.seed.to_string()),
            ("--chunks", self.jobs.chunks.to_string()),
            ("--batches", self.jobs.batches.to_string()),
            ("--max-open-batches", self.jobs.max_open_batches.to_string()),
            ("--reward", self.jobs.reward.to_string()),
            ("--queue-circuit-id", self.jobs.queue_circuit_id.to_string()),
            (
                "--queue-max-attempts",
                self.jobs.queue_max_attempts.to_string(),
            ),
            ("--verdict-batch", self.verdicts.verdict_batch.to_string()),
            (
                "--verdict-max-age-ms",
                self.verdicts.verdict_max_age_ms.to_string(),
            ),
            (
                "--verdict-sibling-wait-ms",
                self.verdicts.verdict_sibling_wait_ms.to_string(),
            ),
            (
                "--urgent-verdicts",
                self.verdicts.urgent_verdicts.to_string(),
            ),
            ("--listen", self.http.listen.to_string()),
            ("--admin-listen", self.http.admin_listen.to_string()),
            ("--upload-limit", self.http.upload_limit.to_string()),
            ("--rate-limit", self.http.rate_limit.to_string()),
            ("--rate-burst", self.http.rate_burst.to_string()),
            ("--max-connections", self.http.max_connections.to_string()),
            ("--max-requests", self.http.max_requests.to_string()),
            (
                "--header-timeout-secs",
                self.http.header_timeout_secs.to_string(),
            ),
            (
                "--request-timeout-secs",
                self.http.request_timeout_secs.to_string(),
            ),
        ];
        if let Some(c) = &self.chain.coordinator {
            args.push(("--coordinator", c.clone()));
        }
        if let Some(k) = &self.chain.keystore {
            args.push(("--keystore", k.display().to_string()));
        }
        if let Some(c) = self.follow.confirmations {
            args.push(("--confirmations", c.to_string()));
        }
        if let Some(w) = self.verdicts.verify_workers {
            args.push(("--verify-workers", w.to_string()));
        }
        if let Some(c) = &self.verdicts.circuits {
            args.push(("--circuits", c.display().to_string()));
        }
        if let Some(s) = source {
            args.push(("--source", s));
        }
        args.into_iter()
            .flat_map(|(flag, value)| [flag.to_string(), value])
            .collect()
    }

    /// The environment that carries this configuration's secrets to a process of its own.
    pub fn secret_env(&self) -> Vec<(&'static str, String)> {
        let mut env = Vec::new();
        if let Some(k) = &self.chain.private_key {
            env.push(("RELAYER_KEY", k.clone()));
        }
        if let Some(p) = &self.chain.keystore_password {
            env.push(("KEYSTORE_PASSWORD", p.clone()));
        }
        if let SourceSpec::Postgres(url) = &self.jobs.source {
            env.push(("JOB_SOURCE", url.clone()));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        cfg: RelayerConfig,
    }

    #[test]
    fn a_configuration_survives_its_own_command_line() {
        let key = PrivateKeySigner::random();
        let mut cfg = RelayerConfig::local(
            "http://127.0.0.1:8545".into(),
            key,
            Address::repeat_byte(7),
            Path::new("/tmp/relayer-x"),
        );
        cfg.follow.confirmations = Some(2);
        cfg.jobs.chunks = 5;
        cfg.verdicts.urgent_verdicts = false;
        cfg.verdicts.verify_workers = Some(3);
        cfg.store.sink = SinkSpec::Webhook("http://sink.example/final".into());
        let mut args = vec!["relayer".to_string()];
        args.extend(cfg.to_args());
        let (flag, secret) = cfg.secret_env().remove(0);
        assert_eq!(flag, "RELAYER_KEY");
        assert!(
            !args.contains(&secret),
            "the key stays out of the command line"
        );
        args.extend(["--relayer-key".to_string(), secret]);
        let parsed = Cli::try_parse_from(&args).unwrap().cfg;
        assert_eq!(format!("{parsed:?}"), format!("{cfg:?}"));
        assert_eq!(parsed.chain.private_key, cfg.chain.private_key);
    }

    #[test]
    fn a_postgres_source_travels_in_the_environment_not_on_the_command_line() {
        let mut cfg = RelayerConfig::local(
            "http://127.0.0.1:8545".into(),
            PrivateKeySigner::random(),
            Address::repeat_byte(7),
            Path::new("/tmp/relayer-x"),
        );
        let url = "postgres://operator:s3cret@db.internal:5432/prover";
        cfg.jobs.source = url.parse().unwrap();
        cfg.jobs.queue_circuit_id = 3;
        assert_eq!(cfg.jobs.source, SourceSpec::Postgres(url.into()));
        let args = cfg.to_args();
        assert!(
            !args.iter().any(|a| a.contains("s3cret")),
            "the password stays out of the command line: {args:?}"
        );
        assert!(cfg.secret_env().contains(&("JOB_SOURCE", url.to_string())));
        assert!(
            !format!("{cfg:?}").contains("s3cret"),
            "nor in the configuration's Debug"
        );
        assert_eq!(
            redacted(url),
            "postgres://operator:***@db.internal:5432/prover"
        );
        let mut full = vec!["relayer".to_string()];
        full.extend(args);
        full.extend(["--source".to_string(), url.to_string()]);
        let parsed = Cli::try_parse_from(&full).unwrap().cfg;
        assert_eq!(
            parsed.jobs.source, cfg.jobs.source,
            "the URL itself, password included"
        );
        assert_eq!(format!("{:?}", parsed.jobs), format!("{:?}", cfg.jobs));
        let e = "mysql://x".parse::<SourceSpec>().unwrap_err();
        assert!(e.contains("postgres://"), "{e}");
    }

    #[test]
    fn confirmations_default_by_chain() {
        assert_eq!(default_confirmations(31_337), 0, "anvil");
        assert_eq!(default_confirmations(1), 12, "Ethereum");
        assert_eq!(default_confirmations(84_532), 2, "Base Sepolia");
        let cli = Cli::try_parse_from(["relayer"]).unwrap();
        assert_eq!(
            cli.cfg.follow.confirmations, None,
            "decided at start, by chain id"
        );
    }

    #[test]
    fn a_verdict_batch_the_contract_would_refuse_is_a_clear_error() {
        for bad in ["0", "257", "many"] {
            let e = Cli::try_parse_from(["relayer", "--verdict-batch", bad])
                .err()
                .unwrap_or_else(|| panic!("--verdict-batch {bad} accepted"))
                .to_string();
            assert!(e.contains("most verdicts the contract takes"), "{e}");
        }
        let ok = Cli::try_parse_from(["relayer", "--verdict-batch", "256"]).unwrap();
        assert_eq!(ok.cfg.verdicts.verdict_batch, 256);
    }

    #[test]
    fn the_flags_defaults_are_the_groups_defaults() {
        // No flag given: every value is its default (the environment must not set these).
        let cli = Cli::try_parse_from(["relayer"]).unwrap();
        let c = cli.cfg;
        assert_eq!(
            format!("{:?}", c.follow),
            format!("{:?}", FollowOpts::default())
        );
        assert_eq!(
            format!("{:?}", c.store),
            format!("{:?}", StoreOpts::default())
        );
        assert_eq!(format!("{:?}", c.jobs), format!("{:?}", JobOpts::default()));
        assert_eq!(
            format!("{:?}", c.verdicts),
            format!("{:?}", VerdictOpts::default())
        );
        assert_eq!(
            format!("{:?}", c.http),
            format!("{:?}", HttpOpts::default())
        );
        assert_eq!(c.jobs.params, ParamSet::Default);
        assert_eq!(c.jobs.reward, U256::from(10u64).pow(U256::from(18)));
    }

    #[test]
    fn help_shows_the_groups() {
        use clap::CommandFactory;
        let help = Cli::command().render_help().to_string();
        for heading in [
            "Chain",
            "Following the chain",
            "Storage",
            "Jobs",
            "Verification and verdicts",
            "HTTP API",
        ] {
            assert!(
                help.contains(&format!("{heading}:")),
                "no `{heading}` heading in:\n{help}"
            );
        }
        assert!(help.contains("--relayer-key"));
    }
}
