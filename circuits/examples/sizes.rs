//! Prints circuit sizes and rough timings of a parameter set: `cargo run --release -p
//! crowdprove-circuits --example sizes -- small`.
use std::time::Instant;

use crowdprove_circuits::{Circuits, ProverAddress, Sequencer};
use crowdprove_protocol::ParamSet;

fn main() {
    let set: ParamSet = std::env::args()
        .nth(1)
        .unwrap_or("small".into())
        .parse()
        .unwrap();
    let t = Instant::now();
    let c = Circuits::build(set);
    println!(
        "chunk circuit: 2^{} rows, built in {:.2}s",
        c.degree_bits(0).unwrap(),
        t.elapsed().as_secs_f64()
    );
    let mut seq = Sequencer::new(set, 1);
    let batch = seq.next_batch(2);
    let addr = ProverAddress([7; 20]);
    let t = Instant::now();
    let p0 = c.prove_chunk(&batch.chunks[0], 1, addr).unwrap();
    println!(
        "chunk proof: {:.2}s, {} bytes",
        t.elapsed().as_secs_f64(),
        p0.as_bytes().len()
    );
    let p1 = c.prove_chunk(&batch.chunks[1], 2, addr).unwrap();
    let t = Instant::now();
    println!(
        "level 1: 2^{} rows, built in {:.2}s",
        c.degree_bits(1).unwrap(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let a = c.prove_aggregation(1, &p0, Some(&p1), 3, addr).unwrap();
    println!(
        "aggregation proof: {:.2}s, {} bytes",
        t.elapsed().as_secs_f64(),
        a.as_bytes().len()
    );
    let t = Instant::now();
    println!(
        "level 2: 2^{} rows, built in {:.2}s",
        c.degree_bits(2).unwrap(),
        t.elapsed().as_secs_f64()
    );
}
