//! The command line (`crowdprove-groth16 ...`, or `crowdprove groth16 ...`): exit 0 on success
//! (for `verify`: a valid proof), 10 for an invalid proof (the registry's `EXIT_INVALID`), 2 for
//! any error.

use std::process::exit;

use crate::{Inputs, Keys, sample, statement_json};

/// The exit code of `verify` for an invalid proof (the circuit registry's contract).
pub const EXIT_INVALID: i32 = 10;

/// Runs the command in `args` (without the program name) and exits.
pub fn main_from(args: &[String]) -> ! {
    match run(args) {
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
                return Ok(EXIT_INVALID);
            }
        }
        ["statement", witness] => {
            let w =
                std::fs::read(witness).map_err(|e| anyhow::anyhow!("reading {witness}: {e}"))?;
            println!("{}", statement_json(&w)?);
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
            "usage: crowdprove-groth16 id | prove WITNESS INPUTS PROOF | verify PROOF INPUTS | statement WITNESS | sample SEED"
        ),
    }
    Ok(0)
}
