//! A devnet for client tests: anvil, a deployed Coordinator, the relayer running in this
//! process, and the real `crowdprove-prover` binary run as a child process.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use alloy::providers::DynProvider;

use crowdprove_bindings::Coordinator;
use crowdprove_bindings::test_utils::TestChain;
use crowdprove_protocol::ParamSet;
use crowdprove_relayer::test_utils::{NetSpec, init_test_tracing, test_net};
use crowdprove_relayer::{RelayerConfig, RelayerHandle};

pub const TOKEN: u64 = 1_000_000_000_000_000_000;
pub const BOND: u64 = 10 * TOKEN;
pub const REWARD: u64 = TOKEN;

pub struct Net {
    pub chain: TestChain,
    pub dir: tempfile::TempDir,
    pub cfg: RelayerConfig,
}

impl Net {
    pub async fn new(set: ParamSet, chunks: u32) -> Net {
        init_test_tracing();
        let dir = tempfile::tempdir().unwrap();
        let spec = NetSpec {
            seed: 3,
            bond: U256::from(BOND),
            slash: U256::from(BOND / 2),
            reward: U256::from(REWARD),
            upload_deadline: 30,
            operator_tokens: U256::from(1_000u64) * U256::from(TOKEN),
            ..NetSpec::new(set, chunks)
        };
        let (chain, cfg) = test_net(&spec, &dir.path().join("relayer")).await.unwrap();
        Net { chain, dir, cfg }
    }

    /// A net of `chunks` chunks with its relayer running and account 1 staked for one lease:
    /// the net, the relayer, its URL and account 1's data directory.
    pub async fn with_one_prover(
        set: ParamSet,
        chunks: u32,
    ) -> (Net, RelayerHandle, String, PathBuf) {
        let net = Net::new(set, chunks).await;
        let relayer = net.start_relayer().await;
        let base = format!("http://{}", relayer.addr);
        let data = net.staked(1, 10, &base, "p1").await;
        (net, relayer, base, data)
    }

    pub async fn start_relayer(&self) -> RelayerHandle {
        crowdprove_relayer::start(self.cfg.clone()).await.unwrap()
    }

    pub fn coord(&self) -> Coordinator::CoordinatorInstance<DynProvider> {
        self.chain.coord()
    }

    pub fn key(&self, index: usize) -> String {
        self.chain.key_hex(index)
    }

    pub fn address(&self, index: usize) -> Address {
        self.chain.address(index)
    }

    /// Gives account `index` tokens to stake, minted by the chain's faucet (the operator's key
    /// is the relayer's, whose transactions must not race the test's).
    pub async fn fund(&self, index: usize, tokens: u64) {
        self.chain
            .mint(self.address(index), U256::from(tokens) * U256::from(TOKEN))
            .await
            .unwrap();
    }

    /// Funds account `index` with `tokens`, stakes them with the client's `stake` command and
    /// returns the client's data directory (`name` under the test's directory).
    pub async fn staked(&self, index: usize, tokens: u64, relayer: &str, name: &str) -> PathBuf {
        self.fund(index, tokens).await;
        let data = self.dir.path().join(name);
        let stake = self
            .run_client(
                index,
                relayer,
                &data,
                ParamSet::Small,
                &["stake", &tokens.to_string()],
            )
            .await;
        assert!(stake.status.success(), "{}", text(&stake));
        data
    }

    pub async fn advance(&self, secs: u64) {
        self.chain.advance(secs).await.unwrap();
    }

    /// The client binary for account `index`, configured by environment like a user's `.env`.
    pub fn client(&self, index: usize, relayer: &str, data_dir: &Path, set: ParamSet) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_crowdprove-prover"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("RPC_URL", self.chain.url())
            .env("PROVER_KEY", self.key(index))
            .env("COORDINATOR", self.chain.coordinator.to_string())
            .env("RELAYER_URL", relayer)
            .env("PROVER_DATA_DIR", data_dir)
            .env("CROWDPROVE_PARAMS", set.name())
            .env("PROVER_THREADS", "2")
            // A spare worker doubles each start; the tests of dropping and of a dying worker
            // turn it back on.
            .env("PROVER_NO_SPARE_WORKER", "true")
            .current_dir(self.dir.path());
        cmd
    }

    /// Runs the client for account `index` with `args` to completion.
    pub async fn run_client(
        &self,
        index: usize,
        relayer: &str,
        data_dir: &Path,
        set: ParamSet,
        args: &[&str],
    ) -> Output {
        let mut cmd = self.client(index, relayer, data_dir, set);
        cmd.args(args);
        output(cmd).await
    }

    pub async fn earnings(&self, index: usize) -> U256 {
        self.coord()
            .prover(self.address(index))
            .call()
            .await
            .unwrap()
            .earnings
    }

    pub async fn finalized(&self, batch: u32) -> bool {
        !self
            .coord()
            .batch(batch)
            .call()
            .await
            .unwrap()
            .finalProofHash
            .is_zero()
    }
}

/// Runs a client command to completion (off the async runtime's threads).
pub async fn output(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Starts a client in the background with its output going to `log`.
pub fn spawn(mut cmd: Command, log: &Path) -> Child {
    let f = std::fs::File::create(log).unwrap();
    cmd.stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap()
}

/// Sends Ctrl-C (SIGINT) to a child.
pub fn interrupt(child: &Child) {
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
}

/// Waits for a child to exit, with a limit.
pub async fn wait(mut child: Child, secs: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the client did not exit within {secs} s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops a client as a person does with Ctrl-C twice: the second once the first is seen (two
/// signals back to back may reach the process as one). Its exit status.
pub async fn stop_twice(client: Child, log: &PathBuf) -> std::process::ExitStatus {
    interrupt(&client);
    eventually_or_show(
        "the first Ctrl-C",
        30,
        std::slice::from_ref(log),
        async || read(log).contains("finishing the jobs in hand"),
    )
    .await;
    interrupt(&client);
    wait(client, 60).await
}

/// Waits until `f` is true, polling.
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, secs: u64, mut f: F) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `f` is true, polling; on a timeout the panic shows the last lines of `logs`
/// (the clients' logs live in the test's temporary directory, which is gone afterwards).
pub async fn eventually_or_show<F: AsyncFnMut() -> bool>(
    what: &str,
    secs: u64,
    logs: &[PathBuf],
    mut f: F,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        if Instant::now() >= deadline {
            let tails: Vec<String> = logs
                .iter()
                .map(|p| {
                    let text = read(p);
                    let lines: Vec<&str> = text.lines().collect();
                    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                    format!("--- {} (last 40 lines)\n{tail}", p.display())
                })
                .collect();
            panic!("timed out waiting for {what}\n{}", tails.join("\n"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
