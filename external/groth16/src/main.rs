//! `crowdprove-groth16`: the commands a circuit registry names (see the library's docs).
//!
//! ```text
//! crowdprove-groth16 id                        # the circuit id, for the registry's `id`
//! crowdprove-groth16 prove WITNESS INPUTS PROOF
//! crowdprove-groth16 verify PROOF INPUTS       # exit 0 valid, 1 invalid, 2 error
//! crowdprove-groth16 sample SEED               # a job: witness hex and the statement's commitment
//! ```

use std::process::exit;

use crowdprove_groth16::{Inputs, Keys, sample};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => exit(code),
        Err(e) => {
            eprintln!("crowdprove-groth16: {e:#}");
            exit(2);
        }
    }
}

fn inputs(path: &str) -> anyhow::Result<Inputs> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {path}: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

fn run(args: &[String]) -> anyhow::Result<i32> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["id"] => println!("0x{}", hex::encode(Keys::setup()?.id())),
        ["prove", witness, inputs_path, proof] => {
            let keys = Keys::setup()?;
            let w =
                std::fs::read(witness).map_err(|e| anyhow::anyhow!("reading {witness}: {e}"))?;
            let p = keys.prove(&w, &inputs(inputs_path)?)?;
            std::fs::write(proof, p).map_err(|e| anyhow::anyhow!("writing {proof}: {e}"))?;
        }
        ["verify", proof, inputs_path] => {
            let keys = Keys::setup()?;
            let p = std::fs::read(proof).map_err(|e| anyhow::anyhow!("reading {proof}: {e}"))?;
            if !keys.verify(&p, &inputs(inputs_path)?)? {
                println!("the Groth16 proof does not verify for these public inputs");
                return Ok(1);
            }
        }
        ["sample", seed] => {
            let (w, c) = sample(seed.parse()?);
            println!(
                "{{\"witness\":\"0x{}\",\"commitment\":\"0x{}\"}}",
                hex::encode(w),
                hex::encode(c)
            );
        }
        _ => anyhow::bail!(
            "usage: crowdprove-groth16 id | prove WITNESS INPUTS PROOF | verify PROOF INPUTS | sample SEED"
        ),
    }
    Ok(0)
}
