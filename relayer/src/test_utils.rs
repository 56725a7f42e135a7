//! The relayer's test kit (feature `test-utils`): a [`TestChain`] with a relayer configured
//! for it, as the relayer's and the client's tests and the throughput bench start them.

use std::path::Path;

use alloy::primitives::U256;

use crowdprove_bindings::DeployParams;
use crowdprove_bindings::test_utils::{ChainSpec, TestChain, TestChainError};
use crowdprove_protocol::ParamSet;

use crate::RelayerConfig;

/// What the test network looks like; [`NetSpec::new`] fills sensible defaults.
#[derive(Clone, Debug)]
pub struct NetSpec {
    /// anvil accounts, the operator and the faucet included.
    pub accounts: usize,
    /// The circuits' parameter set.
    pub params: ParamSet,
    /// Chunks per demo batch.
    pub chunks: u32,
    /// Demo batches in all.
    pub batches: u64,
    /// Seed of the demo rollup.
    pub seed: u64,
    /// Bond per lease (and the minimum bond).
    pub bond: U256,
    /// Slash per invalid proof.
    pub slash: U256,
    /// Reward per job of either kind.
    pub reward: U256,
    /// Seconds after a submission before Missing.
    pub upload_deadline: u32,
    /// Tokens the operator gets to fund rewards.
    pub operator_tokens: U256,
    /// Verifier threads.
    pub verify_workers: usize,
}

impl NetSpec {
    /// One demo batch of `chunks` chunks of `params`, small amounts, quick verdicts.
    pub fn new(params: ParamSet, chunks: u32) -> NetSpec {
        NetSpec {
            accounts: 10,
            params,
            chunks,
            batches: 1,
            seed: 1,
            bond: U256::from(10),
            slash: U256::from(5),
            reward: U256::from(3),
            upload_deadline: 10,
            operator_tokens: U256::from(1_000_000u64),
            verify_workers: 1,
        }
    }
}

/// Starts the chain of `spec` and configures a relayer for it that keeps its data under
/// `dir` and posts verdicts 4 at a time or after 200 ms.
pub async fn test_net(
    spec: &NetSpec,
    dir: &Path,
) -> Result<(TestChain, RelayerConfig), TestChainError> {
    let chain = TestChain::start(ChainSpec {
        accounts: spec.accounts,
        params: DeployParams {
            bond_per_lease: spec.bond,
            min_bond: spec.bond,
            slash_amount: spec.slash,
            upload_deadline: spec.upload_deadline,
            ..ChainSpec::default().params
        },
        operator_tokens: spec.operator_tokens,
        block_time: None,
    })
    .await?;
    let mut cfg = RelayerConfig::local(chain.url(), chain.operator.clone(), chain.coordinator, dir);
    cfg.jobs.params = spec.params;
    cfg.jobs.seed = spec.seed;
    cfg.jobs.chunks = spec.chunks;
    cfg.jobs.batches = spec.batches;
    cfg.jobs.reward = spec.reward;
    cfg.verdicts.verdict_batch = 4;
    cfg.verdicts.verdict_max_age_ms = 200;
    // No longer wait for siblings, as the tests were timed before it (one test sets it).
    cfg.verdicts.verdict_sibling_wait_ms = 200;
    cfg.verdicts.verify_workers = Some(spec.verify_workers);
    Ok((chain, cfg))
}

/// Sends the test's logs (`RUST_LOG`, default warnings) to the test harness's capture.
pub fn init_test_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// A throwaway PostgreSQL cluster for tests: Debian's `initdb` and `pg_ctl` (make setup
/// installs them) in a temporary directory, on a free loopback port, stopped when dropped.
/// Nothing depends on a server that happens to be running. PostgreSQL refuses to run as root,
/// so under root the cluster runs as the `postgres` account the package creates.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
    as_postgres: bool,
    /// `postgres://crowdprove@127.0.0.1:PORT/postgres`.
    pub url: String,
}

impl PgCluster {
    /// Creates and starts the cluster.
    pub fn start() -> PgCluster {
        let bin = pg_bin();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            let status = std::process::Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(
                status.success(),
                "chown the cluster's directory to postgres"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let data = dir.path().join("data");
        let cluster = PgCluster {
            url: format!("postgres://crowdprove@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            as_postgres,
        };
        cluster.run("initdb", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-A", "trust", "-U", "crowdprove", "--no-sync"]);
        });
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            cluster.dir.path().display()
        );
        cluster.run("pg_ctl", |c| {
            c.arg("-D").arg(&data).args(["-o", &options, "-w", "-l"]);
            c.arg(cluster.dir.path().join("log")).arg("start");
        });
        cluster
    }

    // `tool` of the cluster's PostgreSQL, as the account that owns the cluster.
    fn command(&self, tool: &str) -> std::process::Command {
        let exe = self.bin.join(tool);
        if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            std::process::Command::new(exe)
        }
    }

    fn run(&self, tool: &str, args: impl FnOnce(&mut std::process::Command)) {
        let mut c = self.command(tool);
        args(&mut c);
        let out = c.output().unwrap_or_else(|e| panic!("{tool} runs: {e}"));
        assert!(
            out.status.success(),
            "{tool} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

// Debian keeps initdb and pg_ctl out of PATH, in /usr/lib/postgresql/<version>/bin.
fn pg_bin() -> std::path::PathBuf {
    let mut versions: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    versions.retain(|b| b.join("initdb").exists());
    versions.sort();
    versions
        .pop()
        .expect("PostgreSQL's initdb in /usr/lib/postgresql/*/bin: make setup installs it")
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
