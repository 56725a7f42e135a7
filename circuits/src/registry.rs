//! The circuit registry: which proof system proves and checks the jobs of each circuit id a
//! batch names on chain. An entry is either this crate's built-in circuits of a parameter set,
//! or an external prover and verifier: two commands, run with files, each with a timeout and a
//! cap on what it may write. The relayer verifies and the client proves through [`External`]
//! the same way whatever the proof system, so the Coordinator never knows which one it is.
//!
//! ```toml
//! [[circuit]]
//! name = "chunks"
//! builtin = "small"                 # this crate's circuits of a parameter set
//!
//! [[circuit]]
//! name = "square"
//! id = "0x5c1e…"                    # the circuit id batches carry on chain (32 bytes)
//! prove = ["crowdprove-groth16", "prove", "{witness}", "{inputs}", "{proof}"]
//! verify = ["crowdprove-groth16", "verify", "{proof}", "{inputs}"]
//! statement = ["crowdprove-groth16", "statement", "{witness}"]   # optional, see below
//! queue_circuit_id = 5              # optional: its jobs' `circuit_id` in an operator's queue
//! timeout_secs = 600                # default 600
//! max_proof_bytes = 1048576         # default MAX_PROOF_BYTES
//! ```
//!
//! A relayer that posts jobs of an external circuit (from an operator's queue) needs what each
//! witness proves, to commit to it in the batch's leaf: the optional `statement` command prints
//! it on stdout, as a statement JSON (`pre_root`, `post_root`, `commitment`, `range_start`,
//! `range_end`).
//!
//! The commands' contract: `{witness}` is a file holding the job's witness bytes as the relayer
//! serves them; `{inputs}` a JSON file `{"circuit_id", "job_id", "prover", "statement"}` (the
//! statement as the job's leaf commits to it, the job id and the lease holder: a proof must bind
//! the last two, or a copier could claim it); `{proof}` where the prover writes the proof. The
//! verifier exits 0 for a valid proof and [`EXIT_INVALID`] (10) for an invalid one (its output
//! says why); anything else (1 included: what a crashing Python or Node program, or a shell's
//! failing command, exits with; a signal; the timeout) is the tool failing, which is never a
//! verdict on the prover: an Invalid verdict slashes. A proof over `max_proof_bytes` gets no
//! verdict either (the cap is the party's own configuration, not the prover's fault). The
//! command runs in a process group of its own, killed whole when it ends or overruns, and dies
//! with the process that started it (Linux).

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crowdprove_protocol::ParamSet;
use serde::Deserialize;

use crate::api::CircuitId;
use crate::proof::MAX_PROOF_BYTES;

/// The exit code with which a verifier says a proof is invalid.
pub const EXIT_INVALID: i32 = 10;

/// An external command's default time limit.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;
/// The most of a command's output kept for its error message.
const OUTPUT_TAIL: usize = 4096;
/// The files' names in a command's directory.
const WITNESS: &str = "witness";
const INPUTS: &str = "inputs.json";
const PROOF: &str = "proof";
/// How often a running command is checked on.
const POLL: Duration = Duration::from_millis(5);

/// Why the registry or an external command failed.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// The registry file is unreadable or malformed.
    #[error("circuit registry {path}: {reason}")]
    Registry {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The command could not be started.
    #[error("circuit `{name}`: cannot run `{program}`: {source}")]
    Spawn {
        /// The entry.
        name: String,
        /// The program.
        program: String,
        /// The error.
        source: std::io::Error,
    },
    /// The command ran past its time limit and was killed.
    #[error("circuit `{name}`: `{program}` ran past its {secs} s limit and was killed")]
    Timeout {
        /// The entry.
        name: String,
        /// The program.
        program: String,
        /// The limit.
        secs: u64,
    },
    /// The command failed (for a verifier: exited other than 0 or 1).
    #[error("circuit `{name}`: `{program}` failed ({status}): {output}")]
    Failed {
        /// The entry.
        name: String,
        /// The program.
        program: String,
        /// How it ended.
        status: String,
        /// The end of what it wrote.
        output: String,
    },
    /// The prover's proof is missing or over the limit.
    #[error("circuit `{name}`: {reason}")]
    Proof {
        /// The entry.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Files for the command could not be written.
    #[error("circuit `{name}`: preparing the command's files: {source}")]
    Io {
        /// The entry.
        name: String,
        /// The error.
        source: std::io::Error,
    },
}

/// What a proof of a job must bind, handed to the external commands as JSON.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ExternalInputs {
    /// The batch's circuit id, `0x` hex.
    pub circuit_id: String,
    /// The job id.
    pub job_id: u64,
    /// The lease holder, `0x` hex.
    pub prover: String,
    /// The statement the job's leaf commits to.
    pub statement: serde_json::Value,
}

impl ExternalInputs {
    /// The inputs of job `job_id` of a batch of `circuit`, leased by `prover`, whose leaf
    /// commits to `statement`: what the client's prover and the relayer's verifier both get.
    pub fn new(
        circuit: CircuitId,
        job_id: u64,
        prover: [u8; 20],
        statement: crowdprove_protocol::Statement,
    ) -> ExternalInputs {
        ExternalInputs {
            circuit_id: format!("0x{}", hex::encode(circuit.0)),
            job_id,
            prover: format!("0x{}", hex::encode(prover)),
            statement: serde_json::to_value(crowdprove_protocol::StatementJson::from(statement))
                .unwrap_or_default(),
        }
    }
}

/// An external verifier's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checked {
    /// Exit 0.
    Valid,
    /// Exit 1, with what the verifier said.
    Invalid(String),
}

/// An external prover and verifier.
#[derive(Clone, Debug)]
pub struct External {
    /// The entry's name.
    pub name: String,
    /// The circuit id batches of it carry.
    pub id: CircuitId,
    prove: Vec<String>,
    verify: Vec<String>,
    statement: Option<Vec<String>>,
    /// Its jobs' `circuit_id` in an operator's PostgreSQL queue, if the relayer posts them.
    pub queue_circuit_id: Option<i16>,
    timeout: Duration,
    max_proof_bytes: u64,
}

/// One entry of the registry.
#[derive(Clone, Debug)]
pub enum Entry {
    /// This crate's circuits of a parameter set (their ids are known once built).
    Builtin(ParamSet),
    /// An external prover and verifier.
    External(External),
}

/// The registry: entries in file order.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    entries: Vec<(String, Entry)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "circuit")]
    circuits: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    builtin: Option<String>,
    id: Option<String>,
    prove: Option<Vec<String>>,
    verify: Option<Vec<String>>,
    statement: Option<Vec<String>>,
    queue_circuit_id: Option<i16>,
    timeout_secs: Option<u64>,
    max_proof_bytes: Option<u64>,
}

impl Registry {
    /// Reads a registry file. Relative command paths stay as written (found through `PATH`),
    /// but one starting with `./` is taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Registry, ExternalError> {
        let text = std::fs::read_to_string(path).map_err(|e| ExternalError::Registry {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Registry::parse(&text, path)
    }

    /// Parses a registry's text; `path` names it in errors and anchors `./` commands.
    pub fn parse(text: &str, path: &Path) -> Result<Registry, ExternalError> {
        let bad = |reason: String| ExternalError::Registry {
            path: path.display().to_string(),
            reason,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        let mut entries = Vec::new();
        for r in raw.circuits {
            if !names.insert(r.name.clone()) {
                return Err(bad(format!("two circuits are named `{}`", r.name)));
            }
            let entry = match (&r.builtin, &r.id, &r.prove, &r.verify) {
                (Some(_), ..) if r.statement.is_some() || r.queue_circuit_id.is_some() => {
                    return Err(bad(format!(
                        "circuit `{}`: `statement` and `queue_circuit_id` are for external circuits",
                        r.name
                    )));
                }
                (Some(set), None, None, None) => {
                    Entry::Builtin(set.parse().map_err(|e| {
                        bad(format!("circuit `{}`: builtin = \"{set}\": {e}", r.name))
                    })?)
                }
                (None, Some(id), Some(prove), Some(verify)) => {
                    let id = parse_id(id).ok_or_else(|| {
                        bad(format!(
                            "circuit `{}`: id = \"{id}\" is not 32 bytes of 0x hex",
                            r.name
                        ))
                    })?;
                    if !ids.insert(id) {
                        return Err(bad(format!("circuit `{}`: its id is listed twice", r.name)));
                    }
                    let command = |what: &str, argv: &[String], needs: &[&str]| {
                        if argv.is_empty() {
                            return Err(bad(format!("circuit `{}`: `{what}` is empty", r.name)));
                        }
                        for n in needs {
                            if !argv.iter().any(|a| a.contains(n)) {
                                return Err(bad(format!(
                                    "circuit `{}`: `{what}` never names {n}",
                                    r.name
                                )));
                            }
                        }
                        let mut argv = argv.to_vec();
                        if let Some(rest) = argv[0].strip_prefix("./") {
                            argv[0] = base.join(rest).display().to_string();
                        }
                        Ok(argv)
                    };
                    Entry::External(External {
                        name: r.name.clone(),
                        id,
                        prove: command("prove", prove, &["{witness}", "{inputs}", "{proof}"])?,
                        verify: command("verify", verify, &["{proof}", "{inputs}"])?,
                        statement: r
                            .statement
                            .as_deref()
                            .map(|s| command("statement", s, &["{witness}"]))
                            .transpose()?,
                        queue_circuit_id: r.queue_circuit_id,
                        timeout: Duration::from_secs(
                            r.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS).max(1),
                        ),
                        max_proof_bytes: r.max_proof_bytes.unwrap_or(MAX_PROOF_BYTES as u64),
                    })
                }
                _ => {
                    return Err(bad(format!(
                        "circuit `{}`: give either `builtin` alone, or `id`, `prove` and `verify`",
                        r.name
                    )));
                }
            };
            entries.push((r.name, entry));
        }
        Ok(Registry { entries })
    }

    /// The entries, in file order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(n, e)| (n.as_str(), e))
    }

    /// The external prover and verifier of circuit `id`, if one is registered.
    pub fn external(&self, id: &CircuitId) -> Option<&External> {
        self.entries.iter().find_map(|(_, e)| match e {
            Entry::External(x) if x.id == *id => Some(x),
            _ => None,
        })
    }
}

fn parse_id(s: &str) -> Option<CircuitId> {
    let bytes = hex::decode(s.strip_prefix("0x")?).ok()?;
    Some(CircuitId(bytes.try_into().ok()?))
}

impl External {
    /// Proves a job: runs the prove command on `witness` and `inputs`, returns the proof it
    /// wrote (at most `max_proof_bytes`).
    pub fn prove(&self, witness: &[u8], inputs: &ExternalInputs) -> Result<Vec<u8>, ExternalError> {
        let (out, dir) = self.run_in(&self.prove, Some(witness), Some(inputs), None)?;
        let p = dir.file(PROOF);
        if !out.success {
            return Err(self.failed(&self.prove, out));
        }
        let len = std::fs::metadata(&p)
            .map_err(|_| ExternalError::Proof {
                name: self.name.clone(),
                reason: format!("`{}` exited 0 but wrote no proof", self.prove[0]),
            })?
            .len();
        if len > self.max_proof_bytes {
            return Err(ExternalError::Proof {
                name: self.name.clone(),
                reason: format!(
                    "the proof is {len} bytes, over the {} allowed (max_proof_bytes)",
                    self.max_proof_bytes
                ),
            });
        }
        std::fs::read(&p).map_err(|source| ExternalError::Io {
            name: self.name.clone(),
            source,
        })
    }

    /// Checks a proof against `inputs` with the verify command: [`Checked`] when it answered,
    /// an error when it failed (which is no verdict on the proof).
    pub fn verify(&self, proof: &[u8], inputs: &ExternalInputs) -> Result<Checked, ExternalError> {
        if proof.len() as u64 > self.max_proof_bytes {
            return Err(ExternalError::Proof {
                name: self.name.clone(),
                reason: format!(
                    "the proof is {} bytes, over the {} this registry allows (max_proof_bytes): not judged",
                    proof.len(),
                    self.max_proof_bytes
                ),
            });
        }
        let (out, _dir) = self.run_in(&self.verify, None, Some(inputs), Some(proof))?;
        match out.code {
            Some(0) => Ok(Checked::Valid),
            Some(EXIT_INVALID) => Ok(Checked::Invalid(out.tail())),
            _ => Err(self.failed(&self.verify, out)),
        }
    }

    /// What `witness` proves, from the `statement` command: the statement JSON it printed.
    pub fn statement(&self, witness: &[u8]) -> Result<serde_json::Value, ExternalError> {
        let argv = self
            .statement
            .as_ref()
            .ok_or_else(|| ExternalError::Proof {
                name: self.name.clone(),
                reason: "it has no `statement` command, which posting its jobs needs".into(),
            })?;
        let (out, _dir) = self.run_in(argv, Some(witness), None, None)?;
        if !out.success {
            return Err(self.failed(argv, out));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| ExternalError::Proof {
            name: self.name.clone(),
            reason: format!("`{}` printed no statement JSON: {e}", argv[0]),
        })
    }

    // Runs `argv` in a fresh directory holding the files given (the others not created);
    // returns what it said and the directory, with the proof it may have written.
    fn run_in(
        &self,
        argv: &[String],
        witness: Option<&[u8]>,
        inputs: Option<&ExternalInputs>,
        proof: Option<&[u8]>,
    ) -> Result<(Output, Scratch), ExternalError> {
        let dir = Scratch::new(&self.name)?;
        let inputs = inputs.map(|i| serde_json::to_vec(i).unwrap_or_default());
        for (name, bytes) in [
            (WITNESS, witness),
            (INPUTS, inputs.as_deref()),
            (PROOF, proof),
        ] {
            if let Some(bytes) = bytes {
                std::fs::write(dir.file(name), bytes).map_err(|source| ExternalError::Io {
                    name: self.name.clone(),
                    source,
                })?;
            }
        }
        let out = self.run(
            argv,
            &dir.file(WITNESS),
            &dir.file(INPUTS),
            &dir.file(PROOF),
        )?;
        Ok((out, dir))
    }

    fn failed(&self, argv: &[String], out: Output) -> ExternalError {
        ExternalError::Failed {
            name: self.name.clone(),
            program: argv[0].clone(),
            status: out.status.clone(),
            output: out.tail(),
        }
    }

    // Runs `argv` with its placeholders filled, within the time limit; the whole process group
    // is killed at the limit (a wrapper script's children too).
    fn run(
        &self,
        argv: &[String],
        witness: &Path,
        inputs: &Path,
        proof: &Path,
    ) -> Result<Output, ExternalError> {
        let fill = |a: &String| {
            a.replace("{witness}", &witness.display().to_string())
                .replace("{inputs}", &inputs.display().to_string())
                .replace("{proof}", &proof.display().to_string())
        };
        let program = argv[0].clone();
        let mut cmd = Command::new(&program);
        cmd.args(argv[1..].iter().map(fill))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        // A prover killed mid-job (the client drops a job by killing its worker) must not leave
        // its command running unsupervised.
        #[cfg(target_os = "linux")]
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| ExternalError::Spawn {
            name: self.name.clone(),
            program: program.clone(),
            source,
        })?;
        let drain = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                if let Some(mut r) = r {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = r.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        kept.extend_from_slice(&buf[..n]);
                        // Keep the end: that is where a failing tool says why.
                        if kept.len() > 2 * OUTPUT_TAIL {
                            kept.drain(..kept.len() - OUTPUT_TAIL);
                        }
                    }
                }
                kept
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    kill_group(&mut child);
                    return Err(ExternalError::Timeout {
                        name: self.name.clone(),
                        program,
                        secs: self.timeout.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(source) => {
                    kill_group(&mut child);
                    return Err(ExternalError::Spawn {
                        name: self.name.clone(),
                        program,
                        source,
                    });
                }
            }
        };
        // Whatever it left running in its group (a wrapper's helpers) goes too, so that the
        // pipes close and nothing outlives the command.
        kill_group(&mut child);
        let stdout = stdout.join().unwrap_or_default();
        let mut output = stdout.clone();
        output.extend(stderr.join().unwrap_or_default());
        Ok(Output {
            success: status.success(),
            code: status.code(),
            status: status.to_string(),
            stdout,
            output,
        })
    }
}

// Kills the child's process group and reaps the child.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

struct Output {
    success: bool,
    code: Option<i32>,
    status: String,
    /// What it printed on stdout (its end, if long).
    stdout: Vec<u8>,
    /// Its stdout then its stderr, for error messages.
    output: Vec<u8>,
}

impl Output {
    fn tail(&self) -> String {
        let s = String::from_utf8_lossy(&self.output);
        let s = s.trim();
        let start = s.len().saturating_sub(OUTPUT_TAIL);
        let start = (start..s.len())
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s[start..].to_string()
    }
}

// A directory of its own for one command's files (created fresh, readable by this user only),
// removed when dropped.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(name: &str) -> Result<Scratch, ExternalError> {
        tempfile::Builder::new()
            .prefix("crowdprove-external-")
            .tempdir()
            .map(Scratch)
            .map_err(|source| ExternalError::Io {
                name: name.to_string(),
                source,
            })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0x0101010101010101010101010101010101010101010101010101010101010101";

    fn inputs() -> ExternalInputs {
        ExternalInputs {
            circuit_id: ID.into(),
            job_id: 7,
            prover: format!("0x{}", "ab".repeat(20)),
            statement: serde_json::json!({"y": "35"}),
        }
    }

    fn one(prove: &str, verify: &str, extra: &str) -> External {
        let text = format!(
            "[[circuit]]\nname = \"t\"\nid = \"{ID}\"\nprove = [\"sh\", \"-c\", '{prove}', \"sh\", \"{{witness}}\", \"{{inputs}}\", \"{{proof}}\"]\nverify = [\"sh\", \"-c\", '{verify}', \"sh\", \"{{proof}}\", \"{{inputs}}\"]\n{extra}"
        );
        let r = Registry::parse(&text, Path::new("/etc/circuits.toml")).unwrap();
        r.external(&parse_id(ID).unwrap()).unwrap().clone()
    }

    #[test]
    fn a_command_pair_proves_and_verifies_through_files() {
        // The "proof" is the witness followed by the inputs; the verifier checks the job id.
        let x = one(
            "cat \"$1\" \"$2\" > \"$3\"",
            "grep -q \"\\\"job_id\\\":7\" \"$1\" || { echo wrong job; exit 10; }",
            "",
        );
        let proof = x.prove(b"secret", &inputs()).unwrap();
        assert!(proof.starts_with(b"secret{"));
        assert_eq!(x.verify(&proof, &inputs()).unwrap(), Checked::Valid);
        let other = ExternalInputs {
            job_id: 8,
            ..inputs()
        };
        let proof = x.prove(b"secret", &other).unwrap();
        assert_eq!(
            x.verify(&proof, &inputs()).unwrap(),
            Checked::Invalid("wrong job".into())
        );
    }

    #[test]
    fn tool_failures_are_errors_with_their_reason_never_verdicts() {
        let x = one(
            "echo out of memory >&2; exit 3",
            "echo broken >&2; exit 2",
            "",
        );
        let e = x.prove(b"w", &inputs()).unwrap_err().to_string();
        assert!(e.contains("failed (exit status: 3): out of memory"), "{e}");
        let e = x.verify(b"p", &inputs()).unwrap_err().to_string();
        assert!(e.contains("exit status: 2") && e.contains("broken"), "{e}");
        // Exit 1 is what a crashing interpreter exits with: a failure, not an Invalid.
        let x = one("true", "echo Traceback >&2; exit 1", "");
        let e = x.verify(b"p", &inputs()).unwrap_err().to_string();
        assert!(e.contains("exit status: 1"), "{e}");
        let x = one("true", "true", "");
        let e = x.prove(b"w", &inputs()).unwrap_err().to_string();
        assert!(e.contains("exited 0 but wrote no proof"), "{e}");
        let mut x = one("true", "true", "");
        x.prove[0] = "/nonexistent/prover".into();
        let e = x.prove(b"w", &inputs()).unwrap_err().to_string();
        assert!(e.contains("cannot run `/nonexistent/prover`"), "{e}");
    }

    #[test]
    fn a_command_past_its_limit_is_killed_with_its_children() {
        let x = one(
            "sleep 30 & echo $! > \"$3.pid\"; wait",
            "true",
            "timeout_secs = 1",
        );
        let started = Instant::now();
        let e = x.prove(b"w", &inputs()).unwrap_err().to_string();
        assert!(e.contains("ran past its 1 s limit"), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not waited out"
        );
    }

    #[test]
    fn an_oversized_proof_is_refused() {
        let x = one(
            "head -c 2000 /dev/zero > \"$3\"",
            "exit 0",
            "max_proof_bytes = 1000",
        );
        let e = x.prove(b"w", &inputs()).unwrap_err().to_string();
        assert!(e.contains("2000 bytes, over the 1000 allowed"), "{e}");
        let e = x.verify(&[0; 2000], &inputs()).unwrap_err().to_string();
        assert!(e.contains("not judged"), "over the cap: no verdict, {e}");
    }

    #[test]
    fn a_malformed_registry_says_where_and_why() {
        let p = Path::new("circuits.toml");
        let cases = [
            (
                "[[circuit]]\nname = \"a\"\nbuiltin = \"huge\"",
                "builtin = \"huge\"",
            ),
            (
                "[[circuit]]\nname = \"a\"\nid = \"0x12\"\nprove = [\"p {witness} {inputs} {proof}\"]\nverify = [\"v {proof} {inputs}\"]",
                "not 32 bytes",
            ),
            (
                &format!(
                    "[[circuit]]\nname = \"a\"\nid = \"{ID}\"\nprove = [\"p\"]\nverify = [\"v {{proof}} {{inputs}}\"]"
                ),
                "`prove` never names {witness}",
            ),
            (
                "[[circuit]]\nname = \"a\"\nbuiltin = \"small\"\nverify = [\"v\"]",
                "either `builtin` alone",
            ),
            (
                "[[circuit]]\nname = \"a\"\nbuiltin = \"small\"\n[[circuit]]\nname = \"a\"\nbuiltin = \"default\"",
                "two circuits are named `a`",
            ),
            (
                "[[circuit]]\nname = \"a\"\nbuiltn = \"small\"",
                "unknown field",
            ),
        ];
        for (text, want) in cases {
            let e = Registry::parse(text, p).unwrap_err().to_string();
            assert!(e.starts_with("circuit registry circuits.toml: "), "{e}");
            assert!(e.contains(want), "{e} lacks {want}");
        }
        let ok = Registry::parse(
            &format!("[[circuit]]\nname = \"c\"\nbuiltin = \"small\"\n[[circuit]]\nname = \"x\"\nid = \"{ID}\"\nprove = [\"./bin/p\", \"{{witness}}\", \"{{inputs}}\", \"{{proof}}\"]\nverify = [\"v\", \"{{proof}}\", \"{{inputs}}\"]"),
            Path::new("/opt/op/circuits.toml"),
        )
        .unwrap();
        assert_eq!(ok.entries().count(), 2);
        let x = ok.external(&parse_id(ID).unwrap()).unwrap();
        assert_eq!(
            x.prove[0], "/opt/op/bin/p",
            "./ is the registry's directory"
        );
        assert!(ok.external(&CircuitId([2; 32])).is_none());
    }
}
