//! The one-shot commands: stake, unstake, withdraw, status, bench.

use std::time::Instant;

use alloy::primitives::U256;
use alloy::primitives::utils::{format_units, parse_units};
use anyhow::{Context, bail};

use crowdprove_bindings::TestToken;
use crowdprove_circuits::backend::{Backend, choose};
use crowdprove_circuits::{Circuits, ProverAddress, Sequencer};
use crowdprove_protocol::ParamSet;

use crate::config::Connected;
use crowdprove_bindings::tx::TxError;

async fn decimals(
    c: &Connected,
) -> anyhow::Result<(
    TestToken::TestTokenInstance<alloy::providers::DynProvider>,
    u8,
)> {
    let token = TestToken::new(c.coordinator.token().call().await?, c.provider.clone());
    let decimals = token.decimals().call().await.unwrap_or(18);
    Ok((token, decimals))
}

/// Parses a token amount like `20` or `2.5` into base units.
pub fn parse_amount(amount: &str, decimals: u8) -> anyhow::Result<U256> {
    let v = parse_units(amount, decimals)
        .map_err(|_| anyhow::anyhow!("`{amount}` is not a token amount (e.g. 20 or 2.5)"))?
        .get_absolute();
    if v.is_zero() {
        bail!("the amount must be above zero");
    }
    Ok(v)
}

fn show(v: U256, decimals: u8) -> String {
    format_units(v, decimals).unwrap_or_else(|_| v.to_string())
}

/// Approves the Coordinator and adds `amount` to the prover's bond.
pub async fn stake(c: &Connected, amount: &str) -> anyhow::Result<()> {
    let (token, decimals) = decimals(c).await?;
    let value = parse_amount(amount, decimals)?;
    let balance = token.balanceOf(c.address).call().await?;
    if balance < value {
        bail!(
            "this account holds {} tokens, fewer than the {amount} to stake",
            show(balance, decimals)
        );
    }
    let allowance = token
        .allowance(c.address, *c.coordinator.address())
        .call()
        .await?;
    if allowance < value {
        c.tx.send("approve", token.approve(*c.coordinator.address(), value))
            .await?;
    }
    c.tx.send("stake", c.coordinator.stake(value)).await?;
    let cap = c.coordinator.leaseCap(c.address).call().await?;
    println!("staked {amount}; the bond now backs {cap} leases at once");
    Ok(())
}

/// Starts unbonding `amount` of free bond.
pub async fn unstake(c: &Connected, amount: &str) -> anyhow::Result<()> {
    let (_, decimals) = decimals(c).await?;
    let value = parse_amount(amount, decimals)?;
    c.tx.send("requestUnstake", c.coordinator.requestUnstake(value))
        .await?;
    let p = c.coordinator.prover(c.address).call().await?;
    println!(
        "unbonding {} tokens, withdrawable from {} (unix time); run `crowdprove-prover withdraw` then",
        show(p.unbonding, decimals),
        p.unbondingReadyAt
    );
    Ok(())
}

/// Withdraws earnings and any unbonded stake that is ready.
pub async fn withdraw(c: &Connected) -> anyhow::Result<()> {
    let (_, decimals) = decimals(c).await?;
    let p = c.coordinator.prover(c.address).call().await?;
    let mut did = false;
    if p.earnings > U256::ZERO {
        c.tx.send("withdrawEarnings", c.coordinator.withdrawEarnings())
            .await?;
        println!("withdrew {} tokens of earnings", show(p.earnings, decimals));
        did = true;
    }
    if p.unbonding > U256::ZERO {
        match c
            .tx
            .send("withdrawUnstaked", c.coordinator.withdrawUnstaked())
            .await
        {
            Ok(_) => {
                println!(
                    "withdrew {} tokens of unbonded stake",
                    show(p.unbonding, decimals)
                );
                did = true;
            }
            Err(TxError::Refused {
                error: crowdprove_bindings::Coordinator::CoordinatorErrors::StillUnbonding(_),
                ..
            }) => {
                println!(
                    "{} tokens are still unbonding until {} (unix time)",
                    show(p.unbonding, decimals),
                    p.unbondingReadyAt
                )
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !did {
        println!("nothing to withdraw");
    }
    Ok(())
}

/// Prints the prover's bond, leases, earnings and the network's queue.
pub async fn status(c: &Connected) -> anyhow::Result<()> {
    let (_, decimals) = decimals(c).await?;
    let p = c.coordinator.prover(c.address).call().await?;
    let cap = c.coordinator.leaseCap(c.address).call().await?;
    let q = c.coordinator.queue().call().await?;
    let params = c.coordinator.params().call().await?;
    println!("prover            {}", c.address);
    println!("bond              {}", show(p.bond, decimals));
    println!(
        "unbonding         {} (ready at {})",
        show(p.unbonding, decimals),
        p.unbondingReadyAt
    );
    println!("active leases     {} of {cap}", p.activeLeases);
    println!("earnings          {}", show(p.earnings, decimals));
    let proven = crowdprove_bindings::jobs_proven(&c.coordinator, Some(c.address))
        .await?
        .get(&c.address)
        .copied()
        .unwrap_or(0);
    println!("jobs proven       {proven}");
    println!("to submit         {} leases", p.unsubmitted);
    println!("slashes           {}", p.slashes);
    println!(
        "network queue     {} fresh, {} pending",
        q.freshJobs, q.pendingJobs
    );
    println!(
        "bond per lease    {} (slash {}; upload deadline {} s)",
        show(params.stakeParams.bondPerLease.to(), decimals),
        show(params.stakeParams.slashAmount.to(), decimals),
        params.uploadDeadline
    );
    Ok(())
}

/// Proves sample jobs locally and prints seconds per job and what that earns per day: on the
/// CPU, and also on `backend` when it is a GPU, side by side.
pub fn bench(
    set: ParamSet,
    jobs: u32,
    reward: Option<(U256, u8)>,
    backend: Backend,
) -> anyhow::Result<()> {
    let chosen = choose(backend)?;
    if backend != Backend::Cpu {
        eprintln!("backend: {chosen}");
    }
    eprintln!("building the {set} circuits...");
    let t = Instant::now();
    let circuits = Circuits::build(set);
    let build = t.elapsed().as_secs_f64();
    let batch = Sequencer::new(set, 42).next_batch(jobs.max(1));
    let addr = ProverAddress([0x42; 20]);
    let prove_all = |on: &str| -> anyhow::Result<f64> {
        let t = Instant::now();
        for (i, w) in batch.chunks.iter().enumerate() {
            circuits
                .prove_chunk(w, i as u64 + 1, addr)
                .context("proving a sample job")?;
            eprintln!(
                "  job {} of {} proven on the {on}",
                i + 1,
                batch.chunks.len()
            );
        }
        Ok(t.elapsed().as_secs_f64() / batch.chunks.len() as f64)
    };
    choose(Backend::Cpu)?.install();
    let cpu = prove_all("cpu")?;
    let gpu = if chosen.is_gpu() {
        chosen.install();
        Some(prove_all("gpu")?)
    } else {
        None
    };
    let per_job = gpu.map_or(cpu, |g| g.min(cpu));
    let per_day = 86_400.0 / per_job;
    println!(
        "parameter set     {set} (2^{} rows per job)",
        circuits.degree_bits(0)?
    );
    println!("circuit build     {build:.1} s (once per start)");
    match gpu {
        Some(g) => println!(
            "seconds per job   {g:.2} on the gpu, {cpu:.2} on the cpu ({:.2}x)",
            cpu / g
        ),
        None => println!("seconds per job   {cpu:.2}"),
    }
    println!("jobs per day      {per_day:.0}");
    match reward {
        Some((r, decimals)) => {
            let f: f64 = format_units(r, decimals)
                .unwrap_or_default()
                .parse()
                .unwrap_or(0.0);
            println!(
                "earnings per day  {:.2} tokens at the current reward of {} per job",
                f * per_day,
                show(r, decimals)
            );
        }
        None => println!(
            "earnings per day  (connect with --rpc-url and --coordinator to price it at the current reward)"
        ),
    }
    Ok(())
}
