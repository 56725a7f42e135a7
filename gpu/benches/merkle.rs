//! `make bench`: the Merkle tree over a chunk proof's wires (its largest commitment), built by
//! plonky2 on this machine's cores and by the GPU kernels on the best adapter here (a software
//! driver where there is no GPU), side by side.
//!
//! `cargo bench -p crowdprove-gpu --bench merkle -- small default paper [--out FILE]`

#[path = "../../tools/bench_results.rs"]
mod bench_results;

use std::time::Instant;

use crowdprove_gpu::{Adapters, Gpu, cpu_tree};
use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::field::types::Sample;
use plonky2::hash::poseidon::PoseidonHash;

/// A chunk proof's wire tree: 135 wires, its rows times 8 (rate bits 3), cap height 4.
const WIDTH: usize = 135;
const CAP_HEIGHT: usize = 4;

fn main() {
    let mut sets = Vec::new();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next(),
            "small" => sets.push(("small", 12)),
            "default" => sets.push(("default", 14)),
            "paper" => sets.push(("paper", 17)),
            "--bench" => {}
            other => {
                eprintln!("unknown argument {other:?}: expected small, default, paper, --out FILE");
                std::process::exit(2);
            }
        }
    }
    if sets.is_empty() {
        sets = vec![("small", 12), ("default", 14)];
    }
    let t = Instant::now();
    let gpu = Gpu::new(Adapters::Any).unwrap_or_else(|e| {
        eprintln!("no GPU adapter: {e:#}");
        std::process::exit(1);
    });
    let setup = t.elapsed().as_secs_f64();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut table = format!(
        "Adapter: {} (kernels compiled in {setup:.2} s).\n\n\
         | wire tree of | leaves x width | CPU (plonky2, {threads} threads) | GPU | GPU vs CPU | GPU permutations/s |\n\
         |---|---|---|---|---|---|\n",
        gpu.describe()
    );
    for (name, rows_log) in sets {
        let n = 1usize << (rows_log + 3);
        let leaves: Vec<Vec<GoldilocksField>> =
            (0..n).map(|_| GoldilocksField::rand_vec(WIDTH)).collect();
        let t = Instant::now();
        let cpu = cpu_tree::<PoseidonHash>(leaves.clone(), CAP_HEIGHT);
        let cpu_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (_, cap) = gpu.merkle_tree(&leaves, CAP_HEIGHT).expect("GPU tree");
        let gpu_s = t.elapsed().as_secs_f64();
        assert_eq!(cap, cpu.cap.0, "the GPU's tree differs from the CPU's");
        // 17 permutations a 135-wide leaf, one a node.
        let perms = n * WIDTH.div_ceil(8) + n;
        let row = format!(
            "| {name} (2^{rows_log} rows) | 2^{} x {WIDTH} | {cpu_s:.3} s | {gpu_s:.3} s | {:.2}x | {:.2} M |\n",
            rows_log + 3,
            cpu_s / gpu_s,
            perms as f64 / gpu_s / 1e6
        );
        eprint!("{row}");
        table.push_str(&row);
    }
    println!("\n{table}");
    if let Some(path) = out {
        bench_results::write(
            &path,
            "Merkle trees: CPU and GPU",
            "cargo bench -p crowdprove-gpu --bench merkle -- small default paper --out docs/results/gpu.md",
            "The GPU time includes moving the leaves to the GPU and the digests back, and laying \
             them out as plonky2 does; both trees are checked equal.",
            &table,
        );
    }
}
