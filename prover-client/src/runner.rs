//! The proving pipeline: three stages joined by bounded channels, each in its own task. The
//! leaser keeps jobs leased, fetched and checked ahead of the prover ([`crate::leaser`]); the
//! prover starts the next ready job the moment the worker answers ([`crate::proving`]); the
//! deliverer submits, uploads and unspools every proof and watches for its verdict
//! ([`crate::deliver`]). This module starts them, shows progress, and sums up the run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::U256;
use alloy::primitives::utils::format_units;
use tokio::sync::{mpsc, watch};

use crowdprove_circuits::backend::Backend;
use crowdprove_protocol::ParamSet;

use crate::api::RelayerApi;
use crate::config::Connected;
use crate::deliver::{Ctx, Deliverer};
use crate::give_back::GiveBack;
use crate::leaser::{LeaseSettings, Leaser};
use crate::proving::{Prover, WorkerSpec};
use crate::spool::Spool;
use crate::state::{Counts, Shared};

/// Settings of `crowdprove-prover run`.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The circuits this client builds.
    pub params: ParamSet,
    /// Where its workers build proofs' Merkle trees (cpu or gpu, already chosen).
    pub backend: Backend,
    /// Threads the worker proves with.
    pub threads: usize,
    /// Where the spool lives.
    pub data_dir: PathBuf,
    /// The relayer's API.
    pub relayer_url: String,
    /// Stop after this many proofs are delivered (0: never).
    pub max_jobs: u64,
    /// Jobs kept ready beside the one being proven.
    pub prefetch: usize,
    /// Consecutive job failures that pause leasing.
    pub max_failures: u32,
    /// How long leasing stays paused once the breaker trips.
    pub cooldown: Duration,
    /// Aggregation levels whose circuits are built before the first lease.
    pub warm_levels: u8,
    /// Keep a warm spare worker, so a dropped job or a dead worker never waits for a rebuild.
    pub spare_worker: bool,
    /// How often to look at the chain.
    pub poll: Duration,
    /// Value of one token base unit in wei, to compare rewards with gas costs.
    pub eth_per_token: f64,
    /// Warn below this ETH balance (wei).
    pub min_eth: U256,
    /// Progress as log lines (for a supervisor) instead of a status line on a terminal.
    pub plain_progress: bool,
    /// The circuit registry file, if one was given.
    pub circuits: Option<PathBuf>,
    /// The circuit ids the registry proves with external commands (their round-0 jobs are
    /// leased too).
    pub external: Vec<[u8; 32]>,
}

/// How the run is asked to stop: 1 = finish the jobs in hand and lease nothing new, 2 = stop
/// now (keeping the spool).
pub type Stop = watch::Receiver<u8>;

/// What a run did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    /// Leases taken.
    pub leased: u64,
    /// Proofs submitted and uploaded.
    pub delivered: u64,
    /// Jobs dropped because another prover completed them first.
    pub dropped: u64,
    /// Jobs refused (bad witness, leaf or circuit id).
    pub refused: u64,
    /// Proofs judged valid so far.
    pub valid: u64,
    /// Earnings on the chain at the end, in token base units.
    pub earnings: String,
    /// Seconds the worker spent proving.
    pub proving_secs: f64,
    /// Seconds with work available: jobs in hand, or jobs on the chain this client could lease.
    pub available_secs: f64,
    /// Seconds the run took.
    pub wall_secs: f64,
    /// Why leasing stopped or paused, if it did.
    pub breaker: Option<String>,
    /// Leasing stopped for good (the client cannot produce what the chain accepts).
    pub stopped_for_good: bool,
}

impl Summary {
    /// Time proving over the time work was available, so that a starving relayer is not
    /// blamed on the client.
    pub fn duty_cycle(&self) -> f64 {
        if self.available_secs > 0.0 {
            (self.proving_secs / self.available_secs).min(1.0)
        } else {
            0.0
        }
    }
}

impl Summary {
    /// The line `crowdprove-prover run` prints at exit.
    pub fn line(&self) -> String {
        format!(
            "leased {} | delivered {} | judged valid {} | dropped {} | refused {} | duty cycle {:.0}% ({:.1} s proving of {:.1} s with work available; {:.1} s in all)",
            self.leased,
            self.delivered,
            self.valid,
            self.dropped,
            self.refused,
            self.duty_cycle() * 100.0,
            self.proving_secs,
            self.available_secs,
            self.wall_secs
        )
    }

    /// The seconds proving, with work available and in all that a [`Summary::line`] reports.
    pub fn times_in_line(line: &str) -> Option<(f64, f64, f64)> {
        let rest = line.split(" duty cycle ").nth(1)?;
        let nums: Vec<f64> = rest
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|w| w.parse().ok())
            .collect();
        match nums[..] {
            [_, proving, available, wall] => Some((proving, available, wall)),
            _ => None,
        }
    }
}

/// The proving pipeline.
pub struct Runner {
    cfg: RunConfig,
    conn: Arc<Connected>,
}

impl Runner {
    /// A pipeline for `cfg` on `conn`.
    pub fn new(cfg: RunConfig, conn: Connected) -> anyhow::Result<Runner> {
        Ok(Runner {
            cfg,
            conn: Arc::new(conn),
        })
    }

    /// Runs until stopped, `max_jobs` are delivered, or leasing stops for good.
    pub async fn run(self, stop: Stop) -> anyhow::Result<Summary> {
        let started = Instant::now();
        let cfg = self.cfg;
        let spool = Arc::new(Spool::open(&cfg.data_dir)?);
        let shared = Arc::new(Shared::new(
            cfg.max_failures,
            cfg.cooldown,
            cfg.prefetch,
            cfg.max_jobs,
        ));
        let api = RelayerApi::new(&cfg.relayer_url, Duration::from_secs(30));
        let (rides_tx, rides_rx) = mpsc::unbounded_channel();
        let give_back = Arc::new(GiveBack::new(self.conn.clone()));
        let spec = WorkerSpec {
            set: cfg.params,
            backend: cfg.backend,
            threads: cfg.threads,
            warm_levels: cfg.warm_levels,
            spare: cfg.spare_worker,
            circuits: cfg.circuits.clone(),
        };

        // What an earlier run spooled is finished while the circuits are built.
        let (proven_tx, proven_rx) = mpsc::unbounded_channel();
        let deliverer = tokio::spawn(
            Deliverer {
                ctx: Arc::new(Ctx {
                    conn: self.conn.clone(),
                    api: api.clone(),
                    spool: spool.clone(),
                    shared: shared.clone(),
                    rides: rides_tx,
                    min_eth: cfg.min_eth,
                    give_back: give_back.clone(),
                }),
                proven: proven_rx,
                poll: cfg.poll,
                stop: stop.clone(),
            }
            .run(),
        );
        // Nothing is in hand while the circuits are built: any Ctrl-C stops at once.
        let mut asked = stop.clone();
        let warm = async {
            let mut worker = spec.clone().warm().await?;
            let round0_circuit = worker.circuit_id(0).await?;
            // The spare builds its circuits now, not while the first jobs prove beside it.
            let spare = match spec.spare {
                true => {
                    let w = spec.clone().warm().await?;
                    Some(tokio::spawn(async move { Ok(w) }))
                }
                false => None,
            };
            anyhow::Ok((worker, round0_circuit, spare))
        };
        let (worker, round0_circuit, spare) = tokio::select! {
            w = warm => w?,
            _ = async {
                if asked.wait_for(|s| *s >= 1).await.is_err() {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::info!("stopped while the circuits were built");
                drop(proven_tx);
                deliverer.abort();
                return Ok(Summary {
                    wall_secs: started.elapsed().as_secs_f64(),
                    ..Summary::default()
                });
            }
        };
        if cfg.warm_levels > 0 {
            tracing::info!(level = cfg.warm_levels, "circuits built; ready to lease");
        }
        let (ready_tx, ready_rx) = mpsc::channel(cfg.prefetch.max(1));
        let prover = tokio::spawn(
            Prover {
                conn: self.conn.clone(),
                shared: shared.clone(),
                ready: ready_rx,
                proven: proven_tx,
                spool,
                spec,
                worker,
                spare,
                poll: cfg.poll,
                stop: stop.clone(),
                give_back: give_back.clone(),
            }
            .run(),
        );
        let leaser = tokio::spawn(
            Leaser {
                conn: self.conn.clone(),
                api,
                shared: shared.clone(),
                cfg: LeaseSettings {
                    poll: cfg.poll,
                    round0_circuit,
                    external: cfg.external.clone(),
                    params: cfg.params.to_string(),
                    eth_per_token: cfg.eth_per_token,
                },
                ready: ready_tx,
                lanes: Default::default(),
                rides: rides_rx,
                stop: stop.clone(),
                give_back: give_back.clone(),
            }
            .run(),
        );
        let progress = tokio::spawn(show_progress(shared.clone(), cfg.plain_progress));
        let mut stop_watch = stop.clone();
        let announce = tokio::spawn(async move {
            if stop_watch.wait_for(|s| *s == 1).await.is_ok() {
                tracing::info!(
                    "finishing the jobs in hand and delivering them, then stopping (Ctrl-C again to stop now)"
                );
            }
        });
        for stage in [leaser, prover, deliverer] {
            stage.await?;
        }
        give_back.settle(Duration::from_secs(30)).await;
        progress.abort();
        announce.abort();
        if *stop.borrow() >= 2 {
            tracing::warn!("stopped now; spooled proofs are finished on the next start");
        }
        let c = shared.counts();
        Ok(Summary {
            leased: c.leased,
            delivered: c.delivered,
            dropped: c.dropped,
            refused: c.refused,
            valid: c.valid,
            earnings: c.earnings.to_string(),
            proving_secs: c.proving_secs,
            available_secs: shared.available_secs(),
            wall_secs: started.elapsed().as_secs_f64(),
            breaker: shared.breaker_reason(),
            stopped_for_good: shared.stopped_for_good(),
        })
    }
}

/// The live status: a line on a terminal, redrawn twice a second; otherwise a log line every
/// 30 seconds.
async fn show_progress(shared: Arc<Shared>, plain: bool) {
    let started = Instant::now();
    if plain || !std::io::stderr().is_terminal() {
        let mut every = tokio::time::interval(Duration::from_secs(30));
        every.tick().await;
        loop {
            every.tick().await;
            let c = shared.counts();
            let duty = duty(&c, &shared);
            tracing::info!(
                proving = c.proving.map(|p| p.0),
                ready = c.in_hand.saturating_sub(usize::from(c.proving.is_some())),
                delivered = c.delivered,
                awaiting_verdict = c.awaiting_verdict,
                valid = c.valid,
                earnings = %tokens(c.earnings),
                duty_cycle = format!("{:.0}%", duty * 100.0),
                outage = c.outage.as_deref().unwrap_or(if c.relayer_down { "relayer" } else { "" }),
                "progress"
            );
        }
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    loop {
        let c = shared.counts();
        let job = match c.proving {
            Some((id, level, since)) => format!(
                "proving job {id} (level {level}) {:.0} s",
                since.elapsed().as_secs_f64()
            ),
            None if c.outage.is_some() || c.relayer_down => {
                "waiting for the relayer or the RPC".into()
            }
            None => "waiting for work".into(),
        };
        bar.set_message(format!(
            "{job} | ready {} | delivered {} | awaiting verdict {} | earned {} | duty {:.0}% | up {:.0} s",
            c.in_hand.saturating_sub(usize::from(c.proving.is_some())),
            c.delivered,
            c.awaiting_verdict,
            tokens(c.earnings),
            duty(&c, &shared) * 100.0,
            started.elapsed().as_secs_f64()
        ));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

// Proving time so far (the job in the worker included) over the time work was available.
fn duty(c: &Counts, shared: &Shared) -> f64 {
    let proving = c.proving_secs + c.proving.map_or(0.0, |p| p.2.elapsed().as_secs_f64());
    let available = shared.available_secs();
    if available > 0.0 {
        (proving / available).min(1.0)
    } else {
        0.0
    }
}

fn tokens(base_units: u128) -> String {
    format_units(U256::from(base_units), 18).unwrap_or_else(|_| base_units.to_string())
}

/// Resolves at the next change of the stop request, or never if none can come (its sender is
/// gone): a wait on it never spins.
pub async fn stop_changed(stop: &mut Stop) {
    if stop.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves once the run is asked to stop now (a second Ctrl-C), or never if that cannot come.
pub async fn stopped_now(stop: &mut Stop) {
    if stop.wait_for(|s| *s >= 2).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;

    #[test]
    fn the_summary_line_gives_back_its_times() {
        let s = Summary {
            delivered: 3,
            proving_secs: 9.04,
            available_secs: 10.0,
            wall_secs: 12.5,
            ..Summary::default()
        };
        let line = s.line();
        assert!(line.contains("duty cycle 90%"), "{line}");
        assert_eq!(Summary::times_in_line(&line), Some((9.0, 10.0, 12.5)));
        assert_eq!(Summary::times_in_line("leased 1 | no times"), None);
    }
}
