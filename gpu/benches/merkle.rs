//! `make bench`: a chunk proof's largest commitment, its wires (135 polynomials, LDE 8 times
//! longer, the Merkle tree over it), made by plonky2 on this machine's cores and by the GPU
//! kernels on the best adapter here (a software driver where there is no GPU), side by side:
//! the whole commitment, and the tree alone.
//!
//! `cargo bench -p crowdprove-gpu --bench merkle -- small default paper [--out FILE]`

#[path = "../../tools/bench_results.rs"]
mod bench_results;

use std::time::Instant;

use crowdprove_gpu::{Adapters, Gpu, cpu_commit, cpu_tree};
use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::field::polynomial::PolynomialCoeffs;
use plonky2::field::types::Sample;
use plonky2::hash::poseidon::PoseidonHash;

/// A chunk proof's wire commitment: 135 wires, its rows times 8 (rate bits 3), cap height 4.
const WIDTH: usize = 135;
const RATE_BITS: usize = 3;
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
        "Adapter: {} (kernels compiled in {setup:.2} s). CPU: plonky2 on {threads} threads.\n\n\
         | wires of | commitment (LDE + tree): CPU | GPU | GPU vs CPU | tree alone: CPU | GPU | GPU vs CPU | GPU permutations/s |\n\
         |---|---|---|---|---|---|---|---|\n",
        gpu.describe()
    );
    for (name, rows_log) in sets {
        let polys: Vec<PolynomialCoeffs<GoldilocksField>> = (0..WIDTH)
            .map(|_| PolynomialCoeffs::new(GoldilocksField::rand_vec(1 << rows_log)))
            .collect();
        let t = Instant::now();
        let (leaves, cpu) = cpu_commit(polys.clone(), RATE_BITS, CAP_HEIGHT);
        let cpu_commit_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (_, on_gpu) = gpu
            .commit(&polys, RATE_BITS, CAP_HEIGHT)
            .expect("GPU commitment");
        let gpu_commit_s = t.elapsed().as_secs_f64();
        assert!(on_gpu == cpu, "the GPU's commitment differs from the CPU's");
        drop(polys);

        let t = Instant::now();
        let tree = cpu_tree::<PoseidonHash>(leaves.clone(), CAP_HEIGHT);
        let cpu_tree_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (_, cap) = gpu.merkle_tree(&leaves, CAP_HEIGHT).expect("GPU tree");
        let gpu_tree_s = t.elapsed().as_secs_f64();
        assert_eq!(cap, tree.cap.0, "the GPU's tree differs from the CPU's");
        // 17 permutations a 135-wide leaf, one a node.
        let n = leaves.len();
        let perms = n * WIDTH.div_ceil(8) + n;
        let row = format!(
            "| {name} (2^{rows_log} rows, 2^{} leaves) | {cpu_commit_s:.3} s | {gpu_commit_s:.3} s | {:.2}x | {cpu_tree_s:.3} s | {gpu_tree_s:.3} s | {:.2}x | {:.2} M |\n",
            rows_log + RATE_BITS,
            cpu_commit_s / gpu_commit_s,
            cpu_tree_s / gpu_tree_s,
            perms as f64 / gpu_tree_s / 1e6
        );
        eprint!("{row}");
        table.push_str(&row);
    }
    println!("\n{table}");
    if let Some(path) = out {
        bench_results::write(
            &path,
            "Commitments on the CPU and the GPU",
            "cargo bench -p crowdprove-gpu --bench merkle -- small default paper --out docs/results/gpu.md",
            &format!(
                "GPU times include moving the coefficients or leaves to the GPU and the leaves \
                 and digests back, laid out as plonky2 lays them; every result is checked equal \
                 to the CPU's.{}",
                if gpu.is_software() {
                    " The adapter is a software driver on the same cores: its columns are the \
                     kernels' throughput there, a check that they run, not a GPU's speed."
                } else {
                    ""
                }
            ),
            &table,
        );
    }
}
