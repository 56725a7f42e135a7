//! The local network: anvil, the token and Coordinator deployed from the bindings, the relayer
//! in this process, and prover clients as child processes (this program's `prover run`), plus
//! the hostile provers the paper worries about, played in-process.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::DynProvider;
use alloy::signers::local::PrivateKeySigner;
use anyhow::Context;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crowdprove_bindings::test_utils::{ChainSpec, TestChain};
use crowdprove_bindings::{Coordinator, DeployParams, signing_provider};
use crowdprove_protocol::{FinalProof, ParamSet};
use crowdprove_relayer::config::SinkSpec;
use crowdprove_relayer::{RelayerConfig, RelayerHandle};

/// One token, in base units (18 decimals).
pub const TOKEN: u128 = 1_000_000_000_000_000_000;
/// Bond per lease on the devnet, in tokens.
pub const BOND_PER_LEASE: u128 = 10;
/// Reward per job on the devnet, in tokens.
pub const REWARD: u128 = 1;
/// The id of the batch the devnet proves: the first posted on its fresh chain.
pub const BATCH: u32 = 1;

/// What to run.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// Honest prover clients.
    pub provers: usize,
    /// Chunks (round-0 jobs) in the batch.
    pub chunks: u32,
    /// Circuit parameter set.
    pub params: ParamSet,
    /// Provers that lease as much as their bond backs and never submit.
    pub hoarders: usize,
    /// Provers that submit invalid proofs.
    pub invalid: usize,
    /// Honest clients that crash mid-proof and come back.
    pub crashy: usize,
    /// Seed of the demo rollup.
    pub seed: u64,
    /// Working directory: relayer data, client data and logs.
    pub dir: PathBuf,
    /// Seconds after a submission before a Missing verdict.
    pub upload_deadline: u32,
    /// Verdicts per relayer transaction...
    pub verdict_batch: usize,
    /// ...or fewer once the oldest waited this long (milliseconds).
    pub verdict_max_age_ms: u64,
    /// How long a Valid verdict whose sibling is still open waits to ride with the sibling's
    /// (milliseconds; the relayer's default).
    pub verdict_sibling_wait_ms: u64,
    /// Whether a verdict that readies a tree node goes at once (the relayer's default).
    pub urgent_verdicts: bool,
    /// Threads per prover client.
    pub prover_threads: usize,
    /// Program whose `prover run` subcommand is a prover client (this one by default).
    pub exe: PathBuf,
    /// Accounts beyond the roles above, for tests.
    pub spare_accounts: usize,
    /// Seconds between blocks (None: anvil mines a block per transaction). An L2 mines every
    /// 1-2 s, which is the latency the orchestration meets on a testnet.
    pub block_time: Option<u64>,
    /// The Coordinator's stale age (0 = off): a job leased this long ago goes before fresh
    /// round-0 jobs.
    pub stale_age: u32,
    /// The Coordinator's minimum reassign age (0 = the paper's LRP).
    pub min_reassign_age: u32,
    /// The Coordinator's `spareAttempts`: a job leased at most this many times goes at once to
    /// an idle prover in good standing, whatever the minimum age.
    pub spare_attempts: u8,
    /// With a block per transaction, also mine an empty block every this many seconds, so that
    /// chain time (which the reassign and stale ages count in) keeps up with the clock
    /// while nothing is sent; without it, a hoarded job is never old enough to hand on.
    pub tick_secs: Option<u64>,
    /// Kill the relayer (its own process, SIGKILL) this long after it posts the batch, and
    /// start it again after the second duration: the prover clients must deliver every proof
    /// across the outage.
    pub relayer_outage: Option<(Duration, Duration)>,
    /// Each client keeps a warm spare worker. Several clients on one machine: a spare each is
    /// that many more circuit builds and copies in memory for a drop the minimum reassign age
    /// makes rare; one client keeps its spare, as a prover at home does (`crowdprove devnet`
    /// sets it so).
    pub spare_workers: bool,
    /// A circuit registry the relayer and the provers both use (`--circuits`).
    pub circuits: Option<PathBuf>,
}

impl DevnetOptions {
    /// Defaults: 4 honest provers, 8 chunks of the default parameter set.
    pub fn new(dir: PathBuf) -> DevnetOptions {
        DevnetOptions {
            provers: 4,
            chunks: 8,
            params: ParamSet::Default,
            hoarders: 0,
            invalid: 0,
            crashy: 0,
            seed: 1,
            dir,
            upload_deadline: 30,
            // The relayer's own defaults, as an operator runs it: a verdict that readies a node
            // goes at once anyway, the others can wait to share a transaction.
            verdict_batch: 32,
            verdict_max_age_ms: 2_000,
            verdict_sibling_wait_ms: crowdprove_relayer::config::VerdictOpts::default()
                .verdict_sibling_wait_ms,
            urgent_verdicts: true,
            prover_threads: 1,
            exe: std::env::current_exe().unwrap_or_else(|_| "crowdprove".into()),
            spare_accounts: 0,
            block_time: None,
            stale_age: 60,
            // On one shared machine a duplicate proof adds no capacity but takes CPU from the
            // original; 60 s lets a job finish before anyone copies it (docs/results/devnet.md).
            min_reassign_age: 60,
            // For the same reason no spares: a spare lease is a second prover's own hardware on
            // a job whose holder may be a hoarder; here it would halve the original's CPU
            // (`make demo` took 1.21x sequential with 2 spares, 1.10x without).
            spare_attempts: 0,
            tick_secs: Some(1),
            relayer_outage: None,
            spare_workers: false,
            circuits: None,
        }
    }
}

/// A prover's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the real client.
    Honest,
    /// Leases all it can and never submits.
    Hoarder,
    /// Submits proofs that do not verify.
    Invalid,
    /// Runs the real client, which is killed mid-proof and restarted.
    Crashy,
    /// For tests.
    Spare,
}

/// One funded account of the devnet.
#[derive(Clone, Debug)]
pub struct Account {
    /// Anvil account index.
    pub index: usize,
    /// Its key.
    pub key: PrivateKeySigner,
    /// Its role.
    pub role: Role,
}

impl Account {
    /// Its address.
    pub fn address(&self) -> Address {
        self.key.address()
    }
}

/// A prover client running as a child process.
pub struct Client {
    /// The account it proves for.
    pub account: Account,
    /// The process (None while crashed).
    pub child: Option<Child>,
    /// Its log file.
    pub log: PathBuf,
    /// Its data directory (spool).
    pub data: PathBuf,
}

/// The running devnet.
pub struct Devnet {
    /// What was asked for.
    pub opts: DevnetOptions,
    /// The chain and its contracts (anvil stops when dropped).
    pub chain: TestChain,
    /// A provider signing as the operator (owner and relayer).
    pub operator: DynProvider,
    /// The operator's address.
    pub operator_address: Address,
    /// The reward token.
    pub token: Address,
    /// The Coordinator.
    pub coordinator: Address,
    /// Where slashes go.
    pub treasury: Address,
    /// The relayer's configuration.
    pub relayer_cfg: RelayerConfig,
    /// The relayer (None while stopped).
    pub relayer: Option<RelayerHandle>,
    /// The relayer when it runs as a process of its own (the crash tests kill it).
    pub relayer_process: Option<tokio::process::Child>,
    /// The task that keeps chain time moving (see [`DevnetOptions::tick_secs`]).
    clock: Option<tokio::task::JoinHandle<()>>,
    /// Every prover account, by role.
    pub accounts: Vec<Account>,
    /// Running clients.
    pub clients: Vec<Client>,
    /// When the batch was set going.
    pub started: Instant,
    /// Stops the hostile tasks.
    pub cancel: CancellationToken,
}

impl Devnet {
    /// Starts anvil, deploys, funds and stakes the provers and starts the relayer. No client
    /// runs yet (see [`Devnet::spawn_clients`]).
    pub async fn start(opts: DevnetOptions) -> anyhow::Result<Devnet> {
        std::fs::create_dir_all(opts.dir.join("logs")).context("creating the devnet directory")?;
        let roles: Vec<Role> = std::iter::repeat_n(Role::Honest, opts.provers)
            .chain(std::iter::repeat_n(Role::Hoarder, opts.hoarders))
            .chain(std::iter::repeat_n(Role::Invalid, opts.invalid))
            .chain(std::iter::repeat_n(Role::Crashy, opts.crashy))
            .chain(std::iter::repeat_n(Role::Spare, opts.spare_accounts))
            .collect();
        let total = roles.len() + 2; // operator first, faucet last
        let treasury = Address::from_word(keccak256("crowdprove devnet treasury"));
        let bond = U256::from(BOND_PER_LEASE * TOKEN);
        let chain = TestChain::start(ChainSpec {
            accounts: total,
            params: DeployParams {
                owner: Address::ZERO,
                relayer: Address::ZERO,
                treasury,
                param_delay: 3600,
                bond_per_lease: bond,
                min_bond: bond,
                slash_amount: bond / U256::from(2),
                min_reassign_age: opts.min_reassign_age,
                upload_deadline: opts.upload_deadline,
                unbonding_delay: 60,
            },
            operator_tokens: U256::from(10_000 * TOKEN),
            block_time: opts.block_time,
        })
        .await
        .context("starting the chain")?;
        let stale = alloy::primitives::aliases::U24::try_from(opts.stale_age)
            .context("the stale age does not fit 24 bits")?;
        crowdprove_bindings::test_utils::confirm(chain.coord().setStaleAge(stale))
            .await
            .context("setting the stale age")?;
        crowdprove_bindings::test_utils::confirm(
            chain.coord().setSpareAttempts(opts.spare_attempts),
        )
        .await
        .context("setting the spare attempts")?;
        let clock = match (opts.block_time, opts.tick_secs) {
            (None, Some(secs)) => Some(tokio::spawn(tick(chain.provider.clone(), secs))),
            _ => None,
        };
        let url = chain.url();
        let operator_key = chain.operator.clone();
        let (token, coordinator) = (chain.token, chain.coordinator);
        let accounts: Vec<Account> = roles
            .iter()
            .enumerate()
            .map(|(i, &role)| Account {
                index: i + 1,
                key: chain.key(i + 1),
                role,
            })
            .collect();
        let mut relayer_cfg =
            RelayerConfig::local(url.clone(), operator_key.clone(), coordinator, &opts.dir);
        relayer_cfg.jobs.params = opts.params;
        relayer_cfg.jobs.seed = opts.seed;
        relayer_cfg.jobs.chunks = opts.chunks;
        relayer_cfg.jobs.batches = 1;
        relayer_cfg.jobs.reward = U256::from(REWARD * TOKEN);
        relayer_cfg.verdicts.verdict_batch = opts.verdict_batch;
        relayer_cfg.verdicts.verdict_max_age_ms = opts.verdict_max_age_ms;
        relayer_cfg.verdicts.verdict_sibling_wait_ms = opts.verdict_sibling_wait_ms;
        relayer_cfg.verdicts.urgent_verdicts = opts.urgent_verdicts;
        relayer_cfg.verdicts.verify_workers = Some(1);
        relayer_cfg.verdicts.circuits = opts.circuits.clone();
        relayer_cfg.http.rate_burst = 2000;
        // A fixed port, so that clients started before the relayer know where it will be.
        relayer_cfg.http.listen = std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?;
        let devnet = Devnet {
            opts,
            operator: chain.provider.clone(),
            chain,
            operator_address: operator_key.address(),
            token,
            coordinator,
            treasury,
            relayer_cfg,
            relayer: None,
            relayer_process: None,
            clock,
            accounts,
            clients: Vec::new(),
            started: Instant::now(),
            cancel: CancellationToken::new(),
        };
        for a in &devnet.accounts {
            // An honest client keeps one job ready beside the one proving while its last
            // submission awaits its verdict: three leases' worth keeps that pipeline full.
            let leases = match a.role {
                Role::Hoarder | Role::Honest | Role::Crashy => 3,
                _ => 2,
            };
            devnet
                .stake(a, leases)
                .await
                .with_context(|| format!("staking for account {}", a.index))?;
        }
        Ok(devnet)
    }

    /// The chain's RPC URL.
    pub fn rpc_url(&self) -> String {
        self.chain.url()
    }

    /// The Coordinator, read or written as the operator.
    pub fn coord(&self) -> Coordinator::CoordinatorInstance<DynProvider> {
        Coordinator::new(self.coordinator, self.operator.clone())
    }

    /// A provider signing as `account`.
    pub fn provider_for(&self, account: &Account) -> DynProvider {
        signing_provider(account.key.clone(), &self.rpc_url()).expect("the devnet's URL parses")
    }

    /// Mints and stakes enough for `leases` leases.
    pub async fn stake(&self, account: &Account, leases: u128) -> anyhow::Result<()> {
        let amount = U256::from(leases * BOND_PER_LEASE * TOKEN);
        Ok(self.chain.stake(account.index, amount).await?)
    }

    /// The final proof of batch `batch_id` as the relayer's directory sink wrote it; `None`
    /// until it has.
    pub fn final_proof_of(&self, batch_id: u64) -> anyhow::Result<Option<FinalProof>> {
        let SinkSpec::Directory(dir) = &self.relayer_cfg.store.sink else {
            anyhow::bail!("the devnet's relayer writes final proofs to a directory");
        };
        Ok(FinalProof::read(dir, batch_id)?)
    }

    /// The final proof of the devnet's batch (see [`Devnet::final_proof_of`]).
    pub fn final_proof(&self) -> anyhow::Result<Option<FinalProof>> {
        self.final_proof_of(u64::from(BATCH))
    }

    /// Starts the relayer, which posts the batch.
    pub async fn start_relayer(&mut self) -> anyhow::Result<String> {
        let handle = crowdprove_relayer::start(self.relayer_cfg.clone()).await?;
        let url = format!("http://{}", handle.addr);
        // Keep the port across restarts so clients find it again.
        self.relayer_cfg.http.listen = handle.addr;
        self.relayer = Some(handle);
        self.started = Instant::now();
        Ok(url)
    }

    /// Waits until every client process has built its circuits (they build them before their
    /// first lease), so that a run started now measures the protocol, not four provers building
    /// the same circuits on one machine at once (the sequential reference is warm too).
    pub async fn wait_clients_ready(&self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let mut ready = true;
            for c in &self.clients {
                let log = std::fs::read_to_string(&c.log).unwrap_or_default();
                ready &= log.contains("ready to lease");
            }
            if ready {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the provers did not build their circuits within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Starts the relayer as a process of its own (`<exe> relayer run`, logging to
    /// `logs/relayer.log`) on a fixed port, and waits until it answers.
    pub async fn spawn_relayer_process(&mut self) -> anyhow::Result<String> {
        self.spawn_relayer_process_with(&[]).await
    }

    /// [`Devnet::spawn_relayer_process`] with more environment (the crash soak names a crash
    /// point there).
    pub async fn spawn_relayer_process_with(
        &mut self,
        env: &[(&str, &str)],
    ) -> anyhow::Result<String> {
        if self.relayer_cfg.http.listen.port() == 0 {
            let free = std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?;
            self.relayer_cfg.http.listen = free;
        }
        let log = self.opts.dir.join("logs/relayer.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        let mut cmd = Command::new(&self.opts.exe);
        cmd.args(["relayer", "run"])
            .args(self.relayer_cfg.to_args())
            .envs(self.relayer_cfg.secret_env())
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file))
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .with_context(|| format!("starting the relayer ({})", self.opts.exe.display()))?;
        self.relayer_process = Some(child);
        let url = self.relayer_url();
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(r) = http.get(format!("{url}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if let Some(c) = self.relayer_process.as_mut() {
                if let Some(status) = c.try_wait()? {
                    anyhow::bail!("the relayer exited with {status}; see {}", log.display());
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "the relayer did not answer within 2 minutes"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.started = Instant::now();
        Ok(url)
    }

    /// Kills the relayer's own process with SIGKILL, as a crash would: no step finishes.
    pub async fn kill_relayer_process(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.relayer_process.take() {
            c.start_kill()?;
            c.wait().await?;
        }
        Ok(())
    }

    /// Stops the in-process relayer gracefully: the step in progress finishes. Not a crash;
    /// [`Devnet::kill_relayer_process`] is one.
    pub async fn stop_relayer(&mut self) {
        if let Some(h) = self.relayer.take() {
            h.shutdown().await;
        }
    }

    /// The in-process relayer's `/metrics` URL (its admin address), if it runs.
    pub fn metrics_url(&self) -> Option<String> {
        self.relayer
            .as_ref()
            .map(|h| format!("http://{}/metrics", h.admin_addr))
    }

    /// The relayer's URL.
    pub fn relayer_url(&self) -> String {
        format!("http://{}", self.relayer_cfg.http.listen)
    }

    /// The command that runs a prover client for `account`.
    pub fn client_command(&self, account: &Account) -> (Command, PathBuf, PathBuf) {
        let data = self.opts.dir.join(format!("provers/{}", account.index));
        let log = self
            .opts
            .dir
            .join(format!("logs/prover-{}.log", account.index));
        let mut cmd = Command::new(&self.opts.exe);
        cmd.args(["prover", "run", "--poll-ms", "200"])
            .env("RPC_URL", self.rpc_url())
            .env(
                "PROVER_KEY",
                format!("0x{}", hex::encode(account.key.to_bytes())),
            )
            .env("COORDINATOR", self.coordinator.to_string())
            .env("RELAYER_URL", self.relayer_url())
            .env("PROVER_DATA_DIR", &data)
            .env("CROWDPROVE_PARAMS", self.opts.params.name())
            .env("PROVER_THREADS", self.opts.prover_threads.to_string())
            // anvil mines at once: a transaction waiting 5 s is stuck (or behind a reorg's gap).
            .env("STUCK_AFTER_SECS", "5")
            .env("RUST_LOG", "info")
            .env(
                "PROVER_NO_SPARE_WORKER",
                (!self.opts.spare_workers).to_string(),
            )
            .env_remove("PROVER_KEYSTORE")
            .env_remove("CROWDPROVE_CIRCUITS")
            .kill_on_drop(true);
        if let Some(c) = &self.opts.circuits {
            cmd.env("CROWDPROVE_CIRCUITS", c);
        }
        (cmd, log, data)
    }

    /// Starts a client for `account`, its output appended to its log.
    pub fn spawn_client(&mut self, account: &Account) -> anyhow::Result<()> {
        let (mut cmd, log, data) = self.client_command(account);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)?;
        cmd.stdout(Stdio::from(file.try_clone()?))
            .stderr(Stdio::from(file));
        let child = cmd
            .spawn()
            .with_context(|| format!("starting a prover client ({})", self.opts.exe.display()))?;
        match self
            .clients
            .iter_mut()
            .find(|c| c.account.index == account.index)
        {
            Some(c) => c.child = Some(child),
            None => self.clients.push(Client {
                account: account.clone(),
                child: Some(child),
                log,
                data,
            }),
        }
        Ok(())
    }

    /// Starts a client for every honest and crashy account, and the hostile provers.
    pub fn spawn_provers(&mut self) -> anyhow::Result<()> {
        for a in self.accounts.clone() {
            match a.role {
                Role::Honest | Role::Crashy => self.spawn_client(&a)?,
                Role::Hoarder => {
                    tokio::spawn(hoard(
                        self.provider_for(&a),
                        self.coordinator,
                        self.cancel.clone(),
                    ));
                }
                Role::Invalid => {
                    tokio::spawn(cheat(
                        self.provider_for(&a),
                        self.coordinator,
                        self.relayer_url(),
                        self.cancel.clone(),
                    ));
                }
                Role::Spare => {}
            }
        }
        Ok(())
    }

    /// Kills `account`'s client at once (SIGKILL, as a crash).
    pub async fn crash_client(&mut self, account: usize) {
        if let Some(c) = self.clients.iter_mut().find(|c| c.account.index == account) {
            if let Some(mut child) = c.child.take() {
                let _ = child.kill().await;
            }
        }
    }

    /// Asks every client to finish the job in hand and exit (Ctrl-C), then waits; kills what
    /// does not exit in time.
    pub async fn stop_clients(&mut self) -> Vec<(usize, Option<i32>)> {
        let mut out = Vec::new();
        for c in &mut self.clients {
            if let Some(child) = &c.child {
                if let Some(pid) = child.id() {
                    let _ = std::process::Command::new("kill")
                        .args(["-INT", &pid.to_string()])
                        .status();
                }
            }
        }
        for c in &mut self.clients {
            if let Some(mut child) = c.child.take() {
                let code = match tokio::time::timeout(Duration::from_secs(60), child.wait()).await {
                    Ok(Ok(status)) => status.code(),
                    _ => {
                        let _ = child.kill().await;
                        None
                    }
                };
                out.push((c.account.index, code));
            }
        }
        out
    }

    /// Stops everything this devnet started.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        self.stop_clients().await;
        self.stop_relayer().await;
        let _ = self.kill_relayer_process().await;
        if let Some(clock) = self.clock.take() {
            clock.abort();
        }
    }

    /// Whether round-0 batch `batch_id` has its final proof recorded.
    pub async fn finalized(&self, batch_id: u32) -> anyhow::Result<bool> {
        Ok(!self
            .coord()
            .batch(batch_id)
            .call()
            .await?
            .finalProofHash
            .is_zero())
    }

    /// Waits until batch `batch_id` is finalized, calling `tick` every second (progress) and
    /// restarting crashy clients. Fails after `limit`.
    pub async fn wait_final(
        &mut self,
        batch_id: u32,
        limit: Duration,
        mut tick: impl FnMut(&Progress),
    ) -> anyhow::Result<Duration> {
        let deadline = Instant::now() + limit;
        let mut crashed: Vec<(usize, Instant)> = Vec::new();
        let mut crashed_once: Vec<usize> = Vec::new();
        let mut outage = self.opts.relayer_outage;
        let mut down_since = None::<Instant>;
        loop {
            if self.finalized(batch_id).await? {
                return Ok(self.started.elapsed());
            }
            if let Some((at, down)) = outage {
                match down_since {
                    None if self.started.elapsed() >= at => {
                        tracing::warn!("killing the relayer (SIGKILL) for {down:?}");
                        self.kill_relayer_process().await?;
                        down_since = Some(Instant::now());
                    }
                    Some(t) if t.elapsed() >= down => {
                        // The makespan still counts from the first post.
                        let started = self.started;
                        self.spawn_relayer_process().await?;
                        self.started = started;
                        tracing::warn!("the relayer is back");
                        outage = None;
                    }
                    _ => {}
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "batch {batch_id} not finalized within {limit:?}"
            );
            tick(&self.progress().await?);
            // Crashy clients are killed the first time they are seen proving, and come back
            // five seconds later with the same data directory.
            for c in self.clients.clone_roles() {
                if c.1 == Role::Crashy && !crashed_once.contains(&c.0) {
                    let log = std::fs::read_to_string(&c.2).unwrap_or_default();
                    if log.contains("proving") {
                        self.crash_client(c.0).await;
                        crashed.push((c.0, Instant::now()));
                        crashed_once.push(c.0);
                    }
                }
            }
            let due: Vec<usize> = crashed
                .iter()
                .filter(|(_, at)| at.elapsed() > Duration::from_secs(5))
                .map(|(i, _)| *i)
                .collect();
            crashed.retain(|(i, _)| !due.contains(i));
            for i in due {
                if let Some(a) = self.accounts.iter().find(|a| a.index == i).cloned() {
                    self.spawn_client(&a)?;
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The queue and per-prover counts now.
    pub async fn progress(&self) -> anyhow::Result<Progress> {
        let c = self.coord();
        let q = c.queue().call().await?;
        let mut per_prover = Vec::new();
        // One query for every prover's count, each tick.
        let proven = crowdprove_bindings::jobs_proven(&c, None).await?;
        for a in &self.accounts {
            let p = c.prover(a.address()).call().await?;
            per_prover.push((
                a.index,
                a.role,
                proven.get(&a.address()).copied().unwrap_or(0),
                p.activeLeases.to::<u64>(),
            ));
        }
        let (_, next_job) = {
            let ids = c.nextIds().call().await?;
            (ids.nextBatchId, ids.nextJobId.to::<u64>())
        };
        let complete: u64 = per_prover.iter().map(|p| p.2).sum();
        Ok(Progress {
            fresh: q.freshJobs.to(),
            pending: q.pendingJobs.to(),
            complete,
            posted: next_job.saturating_sub(1),
            per_prover,
            elapsed: self.started.elapsed(),
        })
    }

    /// Moves chain time past the upload deadline (and mines a block), so Missing verdicts may
    /// be posted for submissions whose bytes never came.
    pub async fn advance_for_missing(&self) {
        let _ = self
            .chain
            .advance(u64::from(self.opts.upload_deadline) + 1)
            .await;
    }

    /// The first account of `role`.
    pub fn account(&self, role: Role, nth: usize) -> Account {
        self.accounts
            .iter()
            .filter(|a| a.role == role)
            .nth(nth)
            .cloned()
            .expect("an account of that role")
    }

    /// Where a prover's log is.
    pub fn log_of(&self, account: usize) -> PathBuf {
        self.opts.dir.join(format!("logs/prover-{account}.log"))
    }
}

trait Roles {
    fn clone_roles(&self) -> Vec<(usize, Role, PathBuf)>;
}

impl Roles for Vec<Client> {
    fn clone_roles(&self) -> Vec<(usize, Role, PathBuf)> {
        self.iter()
            .map(|c| (c.account.index, c.account.role, c.log.clone()))
            .collect()
    }
}

/// A moment of the run.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Jobs never leased.
    pub fresh: u64,
    /// Jobs leased, not complete.
    pub pending: u64,
    /// Jobs complete.
    pub complete: u64,
    /// Jobs posted so far.
    pub posted: u64,
    /// (account, role, jobs proven, active leases) per prover.
    pub per_prover: Vec<(usize, Role, u64, u64)>,
    /// Since the batch was set going.
    pub elapsed: Duration,
}

impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{:>5.1}s] jobs: {} fresh, {} pending, {} complete of {} posted | proven per prover:",
            self.elapsed.as_secs_f64(),
            self.fresh,
            self.pending,
            self.complete,
            self.posted
        )?;
        for (i, role, proven, active) in &self.per_prover {
            let tag = match role {
                Role::Honest => "",
                Role::Hoarder => " hoarder",
                Role::Invalid => " invalid",
                Role::Crashy => " crashy",
                Role::Spare => " spare",
            };
            write!(f, " #{i}{tag}={proven}({active} held)")?;
        }
        Ok(())
    }
}

// A hoarder: leases everything its bond backs, again and again, and never submits.
async fn hoard(provider: DynProvider, coordinator: Address, cancel: CancellationToken) {
    let c = Coordinator::new(coordinator, provider);
    while !cancel.is_cancelled() {
        if let Ok(pending) = c.leaseMany(U256::from(16)).send().await {
            let _ = pending.get_receipt().await;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

// An invalid prover: leases, submits the hash of bytes that are no proof, uploads them, and is
// slashed each time, until its bond no longer backs a lease.
async fn cheat(
    provider: DynProvider,
    coordinator: Address,
    relayer: String,
    cancel: CancellationToken,
) {
    let c = Coordinator::new(coordinator, provider);
    let http = reqwest::Client::new();
    while !cancel.is_cancelled() {
        let leased = match c.lease().send().await {
            Ok(p) => p.get_receipt().await.ok(),
            Err(_) => None,
        };
        let ev = leased.and_then(|r| {
            r.logs()
                .iter()
                .find_map(|l| l.log_decode::<Coordinator::JobLeased>().ok())
        });
        if let Some(ev) = ev {
            let rid = ev.inner.data.requestId;
            let junk: Vec<u8> = (0..4096).map(|_| rand::random::<u8>()).collect();
            let hash = keccak256(&junk);
            if let Ok(p) = c.submitProof(rid, B256::from(hash)).send().await {
                if p.get_receipt().await.is_ok() {
                    for _ in 0..50 {
                        match http
                            .put(format!("{relayer}/v1/proofs/{rid}"))
                            .body(junk.clone())
                            .send()
                            .await
                        {
                            Ok(r) if r.status().is_success() => break,
                            _ => tokio::time::sleep(Duration::from_millis(200)).await,
                        }
                    }
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

/// A shared handle for places that need the devnet behind a lock.
pub type SharedDevnet = Arc<tokio::sync::Mutex<Devnet>>;

/// The directory a devnet writes into by default.
pub fn default_dir() -> PathBuf {
    Path::new("devnet-data").to_path_buf()
}

/// Mines an empty block every `secs` seconds while the chain answers (see
/// [`DevnetOptions::tick_secs`]); blocks that transactions mine in between do no harm.
async fn tick(provider: DynProvider, secs: u64) {
    use alloy::providers::Provider;
    loop {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let mined: Result<serde_json::Value, _> = provider.raw_request("evm_mine".into(), ()).await;
        if mined.is_err() {
            return;
        }
    }
}
